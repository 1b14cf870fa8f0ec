"""The sign-up rules every frontend shares (:mod:`signups`), on the real cluster: what a
caller is shown, the wrong-guess throttle per client of every channel, lookups, promotion."""

from __future__ import annotations

import secrets
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

import signups
from signups import Client, links
from storage.errors import AlreadySignedUp, Conflict, NotFound, Throttled
from storage.events import Event, EventState, SignupOption
from storage.registrations import new_code
from storage.store import Store
from tests.helpers import make_event, new_phone


def test_a_kiosk_sign_up_is_shown_again_to_its_own_key_only(store: Store, short_code: str) -> None:
    _, option = make_event(store, short_code)
    kiosk, phone = Client.kiosk("kiosk-7"), new_phone()
    made = signups.sign_up(store, kiosk, option.option_id, "Ada", phone, key="form-1")
    again = signups.sign_up(store, kiosk, option.option_id, "Ada", phone, key="form-1")
    assert made.created and made.registration.channel == "kiosk"
    assert again.registration == made.registration and not again.created
    with pytest.raises(AlreadySignedUp) as refused:
        signups.sign_up(store, kiosk, option.option_id, "Ada", phone, key="form-2")
    assert refused.value.option_id == option.option_id


def test_a_caller_who_proved_the_contact_is_shown_its_registration(
    store: Store, short_code: str
) -> None:
    _, option = make_event(store, short_code)
    phone = new_phone()
    made = signups.sign_up(store, Client.web("192.0.2.1"), option.option_id, "Bo", phone)
    by_text = signups.sign_up(
        store, Client.sms(phone), option.option_id, "Bo", phone, contact_proven=True
    )
    assert by_text.registration == made.registration and not by_text.created


def test_wrong_guesses_are_counted_per_client_of_each_channel(
    store: Store, short_code: str
) -> None:
    _, option = make_event(store, short_code)
    phone = new_phone()
    ref = signups.sign_up(store, Client.web("192.0.2.9"), option.option_id, "Cy", phone)
    ref_code = ref.registration.ref
    guesser = Client.kiosk(f"kiosk-{secrets.token_hex(3)}")
    for _ in range(5):
        with pytest.raises(NotFound):
            signups.cancel(store, guesser, ref_code, new_phone())
    with pytest.raises(Throttled) as throttled:
        signups.cancel(store, guesser, ref_code, phone)
    assert throttled.value.wait_s > 0
    # the same name on another channel is another client: its right answer goes through
    same_name = Client.sms(guesser.identity)
    done = signups.cancel(store, same_name, ref_code, phone)
    assert done.status == "cancelled"


def test_look_up_and_details(store: Store, short_code: str) -> None:
    event, option = make_event(store, short_code)
    kiosk = Client.kiosk(f"kiosk-{secrets.token_hex(3)}")
    made = signups.sign_up(store, kiosk, option.option_id, "Di", new_phone())
    ref = made.registration.ref
    assert signups.look_up(store, kiosk, f" {ref.lower()} ") == made.registration
    found = signups.details(store, kiosk, ref)
    assert (found.event.event_id, found.option.option_id) == (event.event_id, option.option_id)
    for _ in range(10):  # typos are not guesses
        with pytest.raises(NotFound):
            signups.look_up(store, kiosk, "not a code")
    assert signups.look_up(store, kiosk, ref) == made.registration


def test_looking_up_codes_that_do_not_exist_is_throttled_per_client(
    store: Store, short_code: str
) -> None:
    _, option = make_event(store, short_code)
    web = Client.web(f"198.51.100.{secrets.randbelow(250)}-{secrets.token_hex(3)}")
    made = signups.sign_up(store, web, option.option_id, "Eve", new_phone()).registration
    prefix = made.ref.split("-")[0]
    for _ in range(5):
        with pytest.raises(NotFound):
            signups.look_up(store, web, f"{prefix}-{new_code()}")
    with pytest.raises(Throttled):
        signups.look_up(store, web, made.ref)
    assert signups.look_up(store, web, made.ref, handed_out=True) == made  # a link's proof
    with pytest.raises(Throttled):  # guesses at cancelling count against the same client
        signups.cancel(store, web, made.ref, made.contact)
    other = Client.web(f"203.0.113.{secrets.randbelow(250)}-{secrets.token_hex(3)}")
    assert signups.look_up(store, other, made.ref) == made


def test_lookups_of_a_real_code_at_once_never_count_as_guesses(
    store: Store, short_code: str
) -> None:
    _, option = make_event(store, short_code)
    web = Client.web(f"192.0.2.77-{secrets.token_hex(3)}")
    made = signups.sign_up(store, web, option.option_id, "Flo", new_phone()).registration
    with ThreadPoolExecutor(12) as pool:
        found = list(pool.map(lambda _: signups.look_up(store, web, made.ref), range(12)))
    assert found == [made] * 12


def test_links_prove_the_code_they_were_made_for() -> None:
    cookie = secrets.token_bytes(32)
    proof = links.proof(cookie, "KQMT-7KQ2MX")
    assert links.is_proof(cookie, "kqmt-7kq2mx", proof)
    assert not links.is_proof(cookie, "KQMT-7KQ2MY", proof)
    assert not links.is_proof(secrets.token_bytes(32), "KQMT-7KQ2MX", proof)
    assert not links.is_proof(cookie, "KQMT-7KQ2MX", "")


def test_upcoming_lists_open_events_with_their_seats(store: Store, short_code: str) -> None:
    event, option = make_event(store, short_code, capacity=3)
    listed = {shown.event_id: options for shown, options in signups.upcoming_with_options(store)}
    assert [(o.option_id, o.seats.capacity) for o in listed[event.event_id]] == [
        (option.option_id, 3)
    ]
    store.events.set_open(event.event_id, False)
    assert event.event_id not in {shown.event_id for shown in signups.upcoming(store)}


def test_upcoming_shows_open_events_by_start_and_cancelled_ones_when_asked(
    store: Store, short_code: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.now(UTC)

    def event(suffix: str, starts_in: timedelta) -> Event:
        start = now + starts_in
        return store.events.create(
            title=f"Event {short_code}{suffix}",
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            time_zone="UTC",
            short_code=short_code + suffix,
        )

    later, sooner, cancelled = (
        event(s, timedelta(days=d)) for s, d in (("L", 3), ("S", 1), ("C", 2))
    )
    ended, closed, closing = (
        event(s, timedelta(hours=h)) for s, h in (("E", -3), ("X", 5), ("M", 6))
    )
    store.events.cancel(cancelled.event_id, now)
    store.events.set_open(closed.event_id, False)
    ours = {e.event_id for e in (later, sooner, cancelled, ended, closed, closing)}

    def shown(**options: bool) -> list[uuid.UUID]:
        return [e.event_id for e in signups.upcoming(store, **options) if e.event_id in ours]

    scan = store.events.states

    def scan_then_closed() -> list[EventState]:  # an admin closes one between scan and read
        states = scan()
        store.events.set_open(closing.event_id, False)
        return states

    monkeypatch.setattr(store.events, "states", scan_then_closed)
    assert shown() == [sooner.event_id, later.event_id]  # read whole, then checked again
    monkeypatch.undo()
    assert shown(cancelled=True) == [sooner.event_id, cancelled.event_id, later.event_id]


def test_upcoming_with_options_reads_again_only_the_events_that_changed(
    store: Store, short_code: str
) -> None:
    event, option = make_event(store, short_code, capacity=3)
    other, _ = make_event(store, short_code + "B")

    def ours(known: signups.Upcoming) -> dict[uuid.UUID, list[SignupOption]]:
        found = signups.upcoming_with_options(store, known)
        return {
            e.event_id: options
            for e, options in found
            if e.event_id in (event.event_id, other.event_id)
        }

    first = signups.upcoming_with_options(store)
    signups.sign_up(store, Client.web("192.0.2.9"), option.option_id, "Ida", new_phone())
    kept = ours(first)
    assert kept[event.event_id][0].seats.taken == 0  # not read again: as old as ``first``
    known = {e.event_id: options for e, options in first}
    assert kept[other.event_id] is known[other.event_id]  # kept as they were

    store.events.add_option(event.event_id, "Evening", 2)  # touches the event
    changed = ours(signups.upcoming_with_options(store, first))
    assert [o.label for o in changed[event.event_id]] == ["Main", "Evening"]
    assert changed[event.event_id][0].seats.taken == 1  # read again, with its seats
    store.events.set_open(other.event_id, False)
    assert other.event_id not in ours(first)


def test_only_the_first_on_the_waitlist_is_promoted(store: Store, short_code: str) -> None:
    _, option = make_event(store, short_code, capacity=1)
    web = Client.web("192.0.2.3")
    signups.sign_up(store, web, option.option_id, "Ed", new_phone())
    first = signups.sign_up(store, web, option.option_id, "Flo", new_phone()).registration
    second = signups.sign_up(store, web, option.option_id, "Gus", new_phone()).registration
    assert (first.status, second.status) == ("waitlisted", "waitlisted")
    with pytest.raises(Conflict, match=f"{second.ref} is not first on the waitlist"):
        signups.promote(store, second.ref)
    signups.promote(store, first.ref)
    assert store.registrations.get(first.ref).status == "confirmed"
    assert store.registrations.get(second.ref).status == "waitlisted"
