"""Sign-up semantics on the real cluster: idempotency, one registration per person, party sizes,
full and closed options, cancellation promoting the waitlist in order."""

from __future__ import annotations

import functools
import uuid

import pytest

from storage.errors import ClosedError, Conflict, FullError, NotFound, ValidationError
from storage.events import SignupOption
from storage.flow import Query
from storage.registrations import Registrations, new_code, parse_ref
from storage.store import Store
from tests.helpers import make_event


def _option(store: Store, code: str, capacity: int, waitlist: bool) -> SignupOption:
    return make_event(store, code, capacity, waitlist)[1]


def _seats_taken(store: Store, option: SignupOption) -> int:
    confirmed = store.registrations.registrations(option.option_id, "confirmed")
    return sum(registration.party_size for registration in confirmed)


def test_a_retry_with_the_same_idempotency_key_returns_the_same_registration(
    store: Store, short_code: str
) -> None:
    option = _option(store, short_code, capacity=5, waitlist=False)
    first = store.registrations.sign_up(
        option.option_id, "Ada", "555 201 0001", 2, "kiosk", idempotency_key="tap-1"
    )
    again = store.registrations.sign_up(
        option.option_id, "Ada", "555 201 0001", 2, "kiosk", idempotency_key="tap-1"
    )
    assert first.created and not again.created
    assert again.registration == first.registration
    assert first.registration.status == "confirmed"
    assert first.registration.contact == "+15552010001"
    assert first.registration.node == "test-node"
    assert len(store.registrations.registrations(option.option_id)) == 1
    assert store.registrations.seats(option.option_id).taken == 2


def test_the_same_key_for_another_person_is_a_conflict(store: Store, short_code: str) -> None:
    option = _option(store, short_code, capacity=5, waitlist=False)
    store.registrations.sign_up(option.option_id, "Ada", "ada@example.org", idempotency_key="k")
    with pytest.raises(Conflict):
        store.registrations.sign_up(option.option_id, "Bo", "bo@example.org", idempotency_key="k")


def test_the_same_person_gets_their_registration_back(store: Store, short_code: str) -> None:
    option = _option(store, short_code, capacity=5, waitlist=False)
    first = store.registrations.sign_up(option.option_id, "Ada", "Ada@Example.org ", 1, "web")
    again = store.registrations.sign_up(option.option_id, "Ada L.", "ada@example.org", 3, "sms")
    assert not again.created
    assert again.registration == first.registration
    assert store.registrations.seats(option.option_id).taken == 1


def test_a_party_that_does_not_fit_is_refused_or_waitlisted(store: Store, short_code: str) -> None:
    option = _option(store, short_code, capacity=5, waitlist=False)
    sign_up = store.registrations.sign_up
    assert sign_up(option.option_id, "A", "+15552010010", 4).registration.status == "confirmed"
    with pytest.raises(FullError):
        sign_up(option.option_id, "B", "+15552010011", 2)
    assert sign_up(option.option_id, "C", "+15552010012", 1).registration.status == "confirmed"
    with pytest.raises(FullError):
        sign_up(option.option_id, "D", "+15552010013", 1)
    assert _seats_taken(store, option) == 5

    listed = _option(store, short_code + "W", capacity=5, waitlist=True)
    assert sign_up(listed.option_id, "A", "+15552010010", 4).registration.status == "confirmed"
    assert sign_up(listed.option_id, "B", "+15552010011", 2).registration.status == "waitlisted"
    # nobody jumps the queue: a party that would fit waits behind the one waiting
    assert sign_up(listed.option_id, "C", "+15552010012", 1).registration.status == "waitlisted"
    with pytest.raises(FullError, match="larger than"):
        sign_up(listed.option_id, "E", "+15552010014", 6)
    seats = store.registrations.seats(listed.option_id)
    assert (seats.taken, seats.waiting, seats.free) == (4, 2, 1)


def test_a_full_option_still_returns_an_existing_registration(
    store: Store, short_code: str
) -> None:
    option = _option(store, short_code, capacity=1, waitlist=False)
    first = store.registrations.sign_up(option.option_id, "A", "a@example.org", idempotency_key="x")
    again = store.registrations.sign_up(option.option_id, "A", "a@example.org", idempotency_key="x")
    assert again.registration == first.registration and not again.created


def test_cancelling_promotes_the_waitlist_in_order_as_many_as_fit(
    store: Store, short_code: str
) -> None:
    option = _option(store, short_code, capacity=4, waitlist=True)
    sign_up = store.registrations.sign_up
    big = sign_up(option.option_id, "Big", "+15552010020", 4).registration
    w1 = sign_up(option.option_id, "W1", "+15552010021", 2).registration
    w2 = sign_up(option.option_id, "W2", "+15552010022", 1).registration
    w3 = sign_up(option.option_id, "W3", "+15552010023", 2).registration
    w4 = sign_up(option.option_id, "W4", "+15552010024", 1).registration
    assert [w.status for w in (w1, w2, w3, w4)] == ["waitlisted"] * 4

    result = store.registrations.cancel(big.ref)
    assert result.registration.status == "cancelled"
    # 4 seats free: W1 (2) and W2 (1) fit, W3 (2) does not, so W4 waits behind W3
    assert [r.ref for r in result.promoted] == [w1.ref, w2.ref]
    assert all(r.status == "confirmed" for r in result.promoted)
    seats = store.registrations.seats(option.option_id)
    assert (seats.taken, seats.waiting) == (3, 2)

    # cancelling again (a retry) changes nothing and reports the same promotions
    again = store.registrations.cancel(big.ref)
    assert again.registration == result.registration
    assert [r.ref for r in again.promoted] == [w1.ref, w2.ref]
    assert store.registrations.seats(option.option_id).version == seats.version
    cancelled_waiting = store.registrations.cancel(w3.ref)
    assert [r.ref for r in cancelled_waiting.promoted] == [w4.ref]
    assert store.registrations.get(w4.ref).status == "confirmed"
    seats = store.registrations.seats(option.option_id)
    assert (seats.taken, seats.waiting) == (4, 0)

    # the person who cancelled may sign up again: a new registration, on the waitlist now
    back = sign_up(option.option_id, "Big", "+15552010020", 1)
    assert back.created and back.registration.status == "waitlisted"
    assert back.registration.ref != big.ref


def test_more_capacity_promotes_the_waitlist(store: Store, short_code: str) -> None:
    option = _option(store, short_code, capacity=1, waitlist=True)
    store.registrations.sign_up(option.option_id, "A", "+15552010030")
    waiting = store.registrations.sign_up(option.option_id, "B", "+15552010031").registration
    updated, promoted = store.events.update_option(option.event_id, option.option_id, capacity=2)
    assert [r.ref for r in promoted] == [waiting.ref]
    assert updated.seats.capacity == 2 and updated.seats.free == 0


def test_a_result_says_whether_it_is_the_callers_own(store: Store, short_code: str) -> None:
    option = _option(store, short_code, capacity=5, waitlist=True)
    sign_up = functools.partial(store.registrations.sign_up, option.option_id, "A", "+15552010050")
    first = sign_up(idempotency_key="k-1")
    again = sign_up(idempotency_key=" k-1 ")  # the same key as stored (trimmed)
    by_contact = sign_up(idempotency_key="k-2")
    assert first.created and first.same_key
    assert not again.created and again.same_key
    assert not by_contact.created and not by_contact.same_key
    assert again.registration == by_contact.registration == first.registration


def test_a_closed_event_takes_no_sign_ups(store: Store, short_code: str) -> None:
    option = _option(store, short_code, capacity=5, waitlist=True)
    kept = store.registrations.sign_up(option.option_id, "A", "+15552010040", idempotency_key="a")
    store.events.set_open(option.event_id, False)
    with pytest.raises(ClosedError):
        store.registrations.sign_up(option.option_id, "B", "+15552010041")
    again = store.registrations.sign_up(option.option_id, "A", "+15552010040", idempotency_key="a")
    assert again.registration == kept.registration
    store.events.set_open(option.event_id, True)
    assert store.registrations.sign_up(option.option_id, "B", "+15552010041").created


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "  "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"contact": "not a phone"}, "contact"),
        ({"contact": "ada@"}, "contact"),
        ({"party_size": 0}, "party_size"),
        ({"party_size": 21}, "party_size"),
        ({"channel": "fax"}, "channel"),
        ({"idempotency_key": ""}, "idempotency_key"),
        ({"option_id": "lunch"}, "option_id"),
        ({"option_id": uuid.UUID(int=7)}, "option_id"),
    ],
)
def test_invalid_sign_ups_name_the_field_and_write_nothing(
    store: Store, short_code: str, changes: dict, field: str
) -> None:
    option = _option(store, short_code, capacity=5, waitlist=True)
    request = {
        "option_id": option.option_id,
        "name": "Ada",
        "contact": "+15552010050",
        "party_size": 1,
        "channel": "web",
        "idempotency_key": "key",
    } | changes
    with pytest.raises(ValidationError) as failure:
        store.registrations.sign_up(**request)
    assert failure.value.field == field
    assert store.registrations.registrations(option.option_id) == []
    assert store.registrations.seats(option.option_id).version == 0


def test_references_parse_and_resolve(store: Store, short_code: str) -> None:
    option = _option(store, short_code, capacity=5, waitlist=False)
    registration = store.registrations.sign_up(option.option_id, "A", "+15552010060").registration
    ref = parse_ref(registration.ref)
    assert ref.prefix == option.seats.ref_prefix and ref.code is not None
    assert store.registrations.get(f" {ref.prefix.lower()} {ref.code.lower()} ") == registration
    assert store.registrations.get(f"{ref.prefix}{ref.code}") == registration
    with pytest.raises(NotFound):  # numbers can be guessed: a coded registration ignores its own
        store.registrations.get(f"{ref.prefix}-{registration.number}")
    with pytest.raises(NotFound):
        store.registrations.get(f"{ref.prefix}-{new_code()}")
    with pytest.raises(ValidationError):
        store.registrations.get("nope")


def test_registrations_made_before_random_codes_keep_their_numbered_references(
    store: Store, short_code: str
) -> None:
    option = _option(store, short_code, capacity=5, waitlist=False)
    made = store.registrations.sign_up(option.option_id, "A", "+15552010061").registration
    store.db.execute(  # as a registration written before migration 0006 has it
        "UPDATE signup_ledger SET code = null WHERE option_id = ? AND entry = ?",
        (option.option_id, f"r:{made.number:09d}"),
        op="write",
    )
    numbered = f"{option.seats.ref_prefix}-{made.number}"
    assert store.registrations.get(numbered).ref == numbered
    assert store.registrations.cancel(numbered).registration.status == "cancelled"


def test_a_seat_read_a_sign_up_overtook_does_not_set_the_next_one_back(
    store: Store, short_code: str
) -> None:
    """The SMS catalog's refresh reads seats while texts sign up: a read answered before a
    sign-up and taken after it leaves the newer state known, so the next sign-up's
    compare-and-set is on the version the ledger has (it failed on the old one, one more
    lightweight transaction for each text after each refresh)."""
    option = _option(store, short_code, capacity=5, waitlist=False)
    registrations = Registrations(store.db, node="test-overtaken")  # nothing known yet
    overtaken = registrations.signing_up(option.option_id, "Ada", "+15552010001")
    seat_read = next(overtaken)  # nothing known: the flow reads the seats first
    assert isinstance(seat_read, Query)
    answered_before = store.db.query(seat_read)
    registrations.sign_up(option.option_id, "Bo", "+15552010002")
    overtaken.send(answered_before)  # taken now: the version Bo's sign-up replaced
    overtaken.close()
    following = registrations.signing_up(option.option_id, "Cy", "+15552010003")
    compare_and_set = next(following)
    assert isinstance(compare_and_set, Query)
    rows = store.db.query(compare_and_set)
    assert rows[0]["[applied]"], "the sign-up was tried on a version the ledger no longer has"
    with pytest.raises(StopIteration) as done:
        following.send(rows)
    assert done.value.value.registration.name == "Cy"
    assert _seats_taken(store, option) == 2


def test_a_ledger_restored_to_an_older_version_is_seen_by_the_next_read(
    store: Store, short_code: str
) -> None:
    """An option's ledger restored from an older archive goes back to an older version: a
    node that knew a newer one takes what its next read says (it is sent later), so its
    sign-ups are tried on the version the ledger has, not refused until the deadline."""
    option = _option(store, short_code, capacity=5, waitlist=False)
    archived = list(store.registrations.export(option.option_id))
    other_node = Registrations(store.db, node="test-other-node")
    for person, phone in (("Ada", "+15552010001"), ("Bo", "+15552010002")):
        other_node.sign_up(option.option_id, person, phone)
    store.registrations.purge(option.option_id)
    store.registrations.restore(option.option_id, archived)
    store.registrations.configure(option.option_id, is_open=True)
    other_node.seats_of([option.option_id])  # as the SMS catalog reads every 5 s
    following = other_node.signing_up(option.option_id, "Cy", "+15552019999")
    compare_and_set = next(following)
    assert isinstance(compare_and_set, Query)
    rows = store.db.query(compare_and_set)
    assert rows[0]["[applied]"], "the sign-up was tried on the version from before the restore"
    with pytest.raises(StopIteration):
        following.send(rows)
    assert _seats_taken(store, option) == 1
