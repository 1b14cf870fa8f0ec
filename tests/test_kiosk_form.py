"""A member's sign-up at the kiosk (kiosk_ui.form), through the shared rules, on the real
cluster."""

from __future__ import annotations

from uuid import UUID

from kiosk_ui.form import Refusal, Signed, SignupForm
from storage.events import SignupOption
from storage.registrations import MAX_PARTY_SIZE
from storage.store import Store
from tests.helpers import make_event, new_phone

NODE = "kiosk-test"


def filled(option: SignupOption, event_id: UUID, name: str = "Zoë O'Neill") -> SignupForm:
    form = SignupForm(event_id, option.option_id)
    form.name, form.contact = name, new_phone()
    form.next_step()
    form.next_step()
    form.change_party(+1)
    form.next_step()
    return form


def test_a_confirmed_form_is_a_kiosk_sign_up(store: Store, short_code: str) -> None:
    event, option = make_event(store, short_code)
    form = filled(option, event.event_id)
    assert form.step == "review" and form.party_size == 2
    outcome = form.confirm(store, NODE)
    assert isinstance(outcome, Signed)
    stored = store.registrations.get(outcome.registration.ref)
    assert (stored.channel, stored.name, stored.party_size) == ("kiosk", "Zoë O'Neill", 2)
    assert stored.status == "confirmed"


def test_confirm_tapped_again_signs_up_once(store: Store, short_code: str) -> None:
    event, option = make_event(store, short_code)
    form = filled(option, event.event_id)
    first, again = form.confirm(store, NODE), form.confirm(store, NODE)
    assert isinstance(first, Signed) and isinstance(again, Signed)
    assert again.registration == first.registration
    assert store.events.option(event.event_id, option.option_id).seats.taken == 2


def test_a_wrong_phone_number_sends_the_member_back_to_it(store: Store, short_code: str) -> None:
    event, option = make_event(store, short_code)
    form = filled(option, event.event_id)
    form.contact = "555-01"
    outcome = form.confirm(store, NODE)
    assert isinstance(outcome, Refusal) and outcome.step == "contact" and not outcome.retry
    assert outcome.words.startswith("Contact ")
    assert store.events.option(event.event_id, option.option_id).seats.taken == 0


def test_a_full_option_without_a_waitlist_and_a_closed_event_say_so(
    store: Store, short_code: str
) -> None:
    event, option = make_event(store, short_code, capacity=1, waitlist=False)
    outcome = filled(option, event.event_id).confirm(store, NODE)  # a party of 2
    assert outcome == Refusal("That option is full.")
    store.events.set_open(event.event_id, False)
    closed = filled(option, event.event_id)
    closed.change_party(-1)
    assert closed.confirm(store, NODE) == Refusal("Sign-ups for this event are closed.")


def test_a_full_option_with_a_waitlist_waitlists_the_party(store: Store, short_code: str) -> None:
    event, option = make_event(store, short_code, capacity=2, waitlist=True)
    assert isinstance(filled(option, event.event_id).confirm(store, NODE), Signed)  # both seats
    outcome = filled(option, event.event_id).confirm(store, NODE)
    assert isinstance(outcome, Signed) and outcome.registration.status == "waitlisted"


def test_forgetting_leaves_nothing_of_the_member_and_a_new_key() -> None:
    form = SignupForm(UUID(int=1), UUID(int=2), name="Ada", contact="+15552010000")
    form.change_party(+3)
    form.go_to("review")
    key = form.key
    form.forget()
    assert (form.name, form.contact, form.party_size, form.step) == ("", "", 1, "name")
    assert form.key != key


def test_the_party_stepper_stays_within_the_allowed_sizes() -> None:
    form = SignupForm(UUID(int=1), UUID(int=2))
    form.change_party(-1)
    assert form.party_size == 1
    for _ in range(MAX_PARTY_SIZE + 5):
        form.change_party(+1)
    assert form.party_size == MAX_PARTY_SIZE
