"""The sign-up rules every frontend applies: the website, the kiosk, the SMS webhook.

Each rule takes the process's :class:`~storage.store.Store` and raises only the errors of
:mod:`storage.errors` (:class:`~storage.errors.Refused` to tell the person,
:class:`~storage.errors.Unreachable` to try again or queue), never a frontend's own type:
a frontend translates them (web: to HTTP answers; a kiosk: to a screen).

Sign-ups are a :mod:`storage.flow`, so a frontend runs them on its own loop without a thread
per request (``await store.db.run_async(signing_up(...))``) or blocking (:func:`sign_up`).
The other rules block on the calling thread: call them from a worker thread or an actor.

Safe to call from any thread: the rules keep no state; the store is thread-safe.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from signups.client import Client
from storage import times
from storage.errors import AlreadySignedUp, Conflict, NotFound, ValidationError
from storage.events import Event, EventState, SignupOption, start_order
from storage.failed_attempts import MAX_ATTEMPT_KEY
from storage.flow import Flow
from storage.registrations import Registration, SignupResult, parse_ref
from storage.store import Store


def new_key() -> str:
    """A fresh idempotency key, for one sign-up form: sending it again signs up once."""
    return secrets.token_urlsafe(16)


def upcoming(store: Store, cancelled: bool = False) -> list[Event]:
    """Open events that have not ended, by start time; with ``cancelled``, also those staff
    cancelled that have not ended (to be shown as cancelled).

    Every event's state is scanned (five columns), then those shown are read whole and
    checked again: one changed meanwhile is shown as it is now, or not at all.
    """
    shown = _shown(times.now(), cancelled)
    candidates = [state.event_id for state in store.events.states() if shown(state)]
    return [event for event in store.events.get_many(candidates) if shown(event)]


Upcoming = list[tuple[Event, list[SignupOption]]]
"""Events members are shown, each with its options."""


def upcoming_with_options(
    store: Store, known: Sequence[tuple[Event, list[SignupOption]]] = ()
) -> Upcoming:
    """The :func:`upcoming` events, each with its options and their seats.

    An event in ``known`` (an earlier answer) that has not changed since (the same
    ``updated_at``: its options' changes touch it too) keeps its known options and seats,
    unread: a catalog that asks every few seconds reads only what changed. Seats kept so are
    as old as ``known``; their open state follows the event's.
    """
    shown = _shown(times.now(), cancelled=False)
    kept = {event.event_id: (event, options) for event, options in known}
    unchanged: Upcoming = []
    to_read: list[UUID] = []
    for state in store.events.states():
        if shown(state):
            earlier = kept.get(state.event_id)
            if earlier is not None and earlier[0].updated_at == state.updated_at:
                unchanged.append(earlier)
            else:
                to_read.append(state.event_id)
    changed = [event for event in store.events.get_many(to_read) if shown(event)]
    options = store.events.options_of(event.event_id for event in changed)
    return sorted(
        unchanged + [(event, options[event.event_id]) for event in changed],
        key=lambda found: start_order(found[0]),
    )


def _shown(now: datetime, cancelled: bool) -> Callable[[Event | EventState], bool]:
    """Whether members are shown an event: open (or, with ``cancelled``, cancelled) and not
    ended at ``now``."""

    def shown(event: Event | EventState) -> bool:
        return (event.is_open or (cancelled and event.cancelled)) and event.ends_at > now

    return shown


def event_with_options(store: Store, event_id: UUID) -> tuple[Event, list[SignupOption]]:
    """The event and its options with their seats."""
    return store.events.get(event_id), store.events.options(event_id)


def signing_up(
    store: Store,
    client: Client,
    option_id: UUID,
    name: str,
    contact: str,
    party_size: int = 1,
    key: str | None = None,
    event_id: UUID | None = None,
    contact_proven: bool = False,
) -> Flow[SignupResult]:
    """Sign ``name`` and party up for an option, by ``client``'s channel (the flow).

    What the caller may be shown: the registration this sign-up made, or the one an earlier
    sign-up with the same idempotency ``key`` made. An earlier registration found by the
    contact alone is :class:`~storage.errors.AlreadySignedUp` instead: its reference code and
    that contact are all it takes to cancel it, and a contact is no secret. A caller who has
    proved the contact (``contact_proven``: a text from that very number) is shown it.

    With ``event_id``, an option of another event is refused before anything is written.
    A sign-up on the website or a kiosk owes the member a notice of its reference code (a
    text to a phone, an e-mail to an address, :mod:`storage.notices`); a text's reply carries
    it already. Raises what :meth:`~storage.registrations.Registrations.signing_up` raises
    besides.
    """
    result = yield from store.registrations.signing_up(
        option_id, name, contact, party_size, client.channel, key, event_id
    )
    if not (result.same_key or contact_proven):
        raise AlreadySignedUp(option_id)
    if result.same_key and client.channel != "sms":
        registration = result.registration
        yield store.notices.owing(
            "code",
            f"code:{registration.option_id}:{registration.number}",
            registration.contact,
            ref=registration.ref,
            option_id=registration.option_id,
            number=registration.number,
        )
    return result


def sign_up(
    store: Store,
    client: Client,
    option_id: UUID,
    name: str,
    contact: str,
    party_size: int = 1,
    key: str | None = None,
    event_id: UUID | None = None,
    contact_proven: bool = False,
) -> SignupResult:
    """:func:`signing_up`, run blocking on the calling thread."""
    flow = signing_up(
        store, client, option_id, name, contact, party_size, key, event_id, contact_proven
    )
    return store.db.run(flow)


def look_up(store: Store, client: Client, ref: str, handed_out: bool = False) -> Registration:
    """The registration with reference ``ref``.

    A well-formed code that does not exist is a failed guess, counted against ``client`` as
    wrong cancellations are, and a client with too many is refused
    (:class:`~storage.errors.Throttled`) before the lookup; a malformed code is a typo:
    :class:`NotFound`, not counted. A code the caller was ``handed_out`` (a link with its
    proof, :mod:`signups.links`) is no guess: not throttled.
    """
    if handed_out:
        return _registration(store, ref)
    _well_formed(ref)
    keys = _guesses(client)
    store.failed_attempts.refuse_if_throttled(*keys)
    try:
        return _registration(store, ref)
    except NotFound:
        store.failed_attempts.fail(*keys)  # codes are one in a billion: no need to count first
        raise


def _registration(store: Store, ref: str) -> Registration:
    """The registration ``ref`` (:class:`NotFound` also for a malformed reference)."""
    try:
        return store.registrations.get(ref)
    except ValidationError:
        raise NotFound("registration", ref) from None


def _well_formed(ref: str) -> None:
    """Raise :class:`NotFound` for a reference that is not of the form of one (a typo)."""
    try:
        parse_ref(ref)
    except ValidationError:
        raise NotFound("registration", ref) from None


def _guesses(client: Client, *contacts: str) -> tuple[str, ...]:
    """The throttle keys a guess at a reference code counts against: the client, and the
    contacts it was tried with."""
    keys = (f"guess:{client.throttle_key}", *(f"guess-contact:{c}" for c in contacts))
    return tuple(key[:MAX_ATTEMPT_KEY] for key in keys)


@dataclass(frozen=True)
class Details:
    """A registration with its event and option, as a confirmation shows it."""

    registration: Registration
    event: Event
    option: SignupOption


def details(store: Store, client: Client, ref: str, handed_out: bool = False) -> Details:
    """The registration ``ref`` with its event and option, looked up as :func:`look_up`."""
    registration = look_up(store, client, ref, handed_out)
    event = store.events.get(registration.event_id)
    return Details(registration, event, store.events.option(event.event_id, registration.option_id))


def cancel(store: Store, client: Client, ref: str, contact: str) -> Registration:
    """Cancel registration ``ref`` when ``contact`` is the one it was made with.

    A wrong code or contact counts as a failed guess against ``client`` and against the
    contact (:class:`~storage.errors.Throttled` after a few, as a wrong password counts
    against the address and the username; lookups count against the same client), and is
    answered :class:`NotFound` whichever was wrong. A malformed contact or code is a typo,
    not a guess: it is not counted.
    """
    contact = store.registrations.contact(contact)
    _well_formed(ref)
    found: list[Registration] = []

    def is_theirs() -> bool:
        try:
            found.append(_registration(store, ref))
        except NotFound:
            return False
        return found[0].contact == contact

    if not store.failed_attempts.check(_guesses(client, contact), is_theirs):
        raise NotFound("registration", ref)
    return store.registrations.cancel(found[0].ref).registration


RESEND_EVERY_S = 600
"""A registration's code is sent again at most once in this many seconds."""


def send_code_again(store: Store, option_id: UUID, contact: str) -> None:
    """Owe ``contact`` its reference code for the option again, if it is signed up there
    ("send me my code again"): the code goes to the contact on file, never to the asker, so
    the answer is the same whether or not it is (:class:`ValidationError` for a contact that
    is not one). At most once per :data:`RESEND_EVERY_S` per registration."""
    contact = store.registrations.contact(contact)
    for registration in store.registrations.held_by(contact, [option_id]):
        slot = int(times.now().timestamp()) // RESEND_EVERY_S
        store.notices.owe(
            "again",
            f"again:{registration.option_id}:{registration.number}:{slot}",
            registration.contact,
            ref=registration.ref,
            option_id=registration.option_id,
            number=registration.number,
        )


def waitlist_position(store: Store, registration: Registration) -> int | None:
    """Where a waitlisted registration stands on its option's waitlist (1: the next to be
    given a seat); None when it is not waitlisted."""
    if registration.status != "waitlisted":
        return None
    waiting = store.registrations.registrations(registration.option_id, "waitlisted")
    return 1 + sum(1 for other in waiting if other.number < registration.number)


def promote(store: Store, ref: str) -> Registration:
    """Give the first of an option's waitlist a seat by making room for its party (raising
    the option's capacity); :class:`Conflict` unless ``ref`` is first on the waitlist."""
    registration = store.registrations.get(ref)
    waiting = store.registrations.registrations(registration.option_id, "waitlisted")
    if not waiting or waiting[0].ref != registration.ref:
        raise Conflict(f"{registration.ref} is not first on the waitlist")
    option = store.events.option(registration.event_id, registration.option_id)
    seats = option.seats
    capacity = max(seats.capacity, seats.taken + registration.party_size)
    store.events.update_option(registration.event_id, registration.option_id, capacity=capacity)
    return registration
