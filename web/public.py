"""The public site: upcoming events, an event's options and sign-up form, the confirmation
page with the reference code, and cancelling with that code. No JavaScript needed."""

from __future__ import annotations

import secrets
from uuid import UUID
from zoneinfo import ZoneInfo

from storage import times, validate
from storage.errors import NotFound, ValidationError
from storage.events import Event, SignupOption
from storage.login_failures import MAX_KEY
from storage.registrations import Registration, SignupResult, parse_ref
from storage.store import Store
from web.base import BaseHandler, Refusal, refusal


def event_id(value: str) -> UUID:
    """The event id in a URL (404 when it is not one)."""
    try:
        return UUID(value)
    except ValueError:
        raise Refusal(404, "There is no such event.") from None


def new_key() -> str:
    """A fresh idempotency key for a sign-up form."""
    return secrets.token_urlsafe(16)


def upcoming(store: Store) -> list[Event]:
    """Open events that have not ended, by start time."""
    now = times.now()
    return [event for event in store.events.list() if event.is_open and event.ends_at > now]


def event_with_options(store: Store, event_id: UUID) -> tuple[Event, list[SignupOption]]:
    """The event and its options with their seats."""
    return store.events.get(event_id), store.events.options(event_id)


def registration_by_ref(store: Store, ref: str) -> Registration:
    """The registration with reference ``ref`` (:class:`NotFound` also for a malformed one)."""
    try:
        return store.registrations.get(ref.strip().upper())
    except ValidationError:
        raise NotFound("registration", ref) from None


def cancel_own(store: Store, ref: str, contact: str, client: str) -> Registration:
    """Cancel registration ``ref`` when ``contact`` is the one it was made with.

    Reference codes are numbered in order, so a wrong code or contact counts as a failed guess
    against the ``client`` network and against the contact (:class:`~storage.errors.Throttled`
    after a few), as a wrong password counts against the address and the username.
    """
    contact = validate.contact(contact)  # a malformed contact or code is a typo, not a guess
    try:
        parse_ref(ref)
    except ValidationError:
        raise NotFound("registration", ref) from None
    keys = (f"cancel:{client}", f"cancel-contact:{contact}"[:MAX_KEY])
    found: list[Registration] = []

    def is_theirs() -> bool:
        try:
            found.append(registration_by_ref(store, ref))
        except NotFound:
            return False
        return found[0].contact == contact

    if not store.login_failures.check(keys, is_theirs):
        raise NotFound("registration", ref)
    return store.registrations.cancel(found[0].ref).registration


def own_sign_up(result: SignupResult) -> Registration:
    """The registration a sign-up made, or repeated with the same idempotency key.

    An earlier sign-up found by the contact alone is refused (409) rather than shown: its
    reference code and that contact are all it takes to cancel it, and a contact is no secret.
    """
    if not result.same_key:
        raise Refusal(
            409,
            "That phone number or e-mail is already signed up for this option. If you no "
            "longer have its reference code, ask the organisers.",
        )
    return result.registration


def when(event: Event) -> str:
    """The event's start, in its own time zone, for people."""
    local = event.starts_at.astimezone(ZoneInfo(event.time_zone))
    return local.strftime("%A %d %B %Y, %H:%M")


class HomeHandler(BaseHandler):
    """``GET /``: the upcoming events."""

    async def get(self) -> None:
        events = await self.storage(upcoming)
        self.render("index.html", events=events, when=when)


class EventHandler(BaseHandler):
    """``GET /events/{id}``: the event, its options' seats and the sign-up form."""

    async def get(self, raw_id: str) -> None:
        event, options = await self.storage(lambda s: event_with_options(s, event_id(raw_id)))
        self.render(
            "event.html",
            event=event,
            options=options,
            when=when,
            key=new_key(),
            form={},
            error=None,
        )


class SignupHandler(BaseHandler):
    """``POST /events/{id}/signup``: sign up; on to the confirmation page."""

    async def post(self, raw_id: str) -> None:
        the_event = event_id(raw_id)
        form = {
            name: self.text(name) for name in ("name", "contact", "party_size", "option", "key")
        }
        try:
            option = UUID(form["option"])
        except ValueError:
            option = None
        try:
            if option is None:
                raise Refusal(400, "Choose one of the options.")
            party = self.number("party_size", "Party size", default=1)
            key = form["key"] or None
            result = await self.flow(
                lambda s: s.registrations.signing_up(
                    option, form["name"], form["contact"], party, "web", key, the_event
                )
            )
            registration = own_sign_up(result)
        except Refusal as exc:
            # (an outage here too gives the plain 503 page)
            event, options = await self.storage(lambda s: event_with_options(s, the_event))
            self.set_status(exc.status_code)
            self.render(
                "event.html",
                event=event,
                options=options,
                when=when,
                # sending the form again must not sign up twice (after a 503 the sign-up may
                # have been written); a 409 may be the key's own conflict: a new one
                key=new_key() if exc.status_code == 409 or not form["key"] else form["key"],
                form=form,
                error=exc.message,
            )
            return
        self.redirect(f"/registrations/{registration.ref}", status=303)


class RegistrationHandler(BaseHandler):
    """``GET /registrations/{ref}``: the confirmation page."""

    async def get(self, ref: str) -> None:
        def look_up(store: Store) -> tuple[Registration, Event, SignupOption]:
            registration = registration_by_ref(store, ref)
            event = store.events.get(registration.event_id)
            return registration, event, store.events.option(event.event_id, registration.option_id)

        registration, event, option = await self.storage(look_up)
        self.render(
            "confirmation.html", registration=registration, event=event, option=option, when=when
        )


class CancelHandler(BaseHandler):
    """``GET, POST /cancel``: cancel a registration with its code and contact."""

    def get(self) -> None:
        self.render("cancel.html", ref=self.get_query_argument("ref", ""), error=None, done=None)

    async def post(self) -> None:
        ref, contact = self.text("ref"), self.text("contact")
        try:
            client = self.client_network
            done = await self.storage(lambda s: cancel_own(s, ref, contact, client))
        except Refusal as exc:
            if exc.status_code == 404:
                exc = refusal(NotFound("registration", "with that code and phone or e-mail"))
            self.set_status(exc.status_code)
            self.render("cancel.html", ref=ref, error=exc.message, done=None)
            return
        self.render("cancel.html", ref=ref, error=None, done=done)


class NotFoundHandler(BaseHandler):
    """Any other address: 404 with a page."""

    def prepare(self) -> None:
        raise Refusal(404, "There is no such page.")
