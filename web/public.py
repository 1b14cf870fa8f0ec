"""The public site: upcoming events, an event's options and sign-up form, the confirmation
page with the reference code, sending that code again, and cancelling with it. No JavaScript
needed."""

from __future__ import annotations

from uuid import UUID
from zoneinfo import ZoneInfo

import signups
from signups import links
from storage.errors import AlreadySignedUp, NotFound
from storage.events import Event
from storage.notices import channel_of
from storage.store import Store
from web.base import BaseHandler, Refusal, refusal


def event_id(value: str) -> UUID:
    """The event id in a URL (404 when it is not one)."""
    try:
        return UUID(value)
    except ValueError:
        raise Refusal(404, "There is no such event.") from None


def when(event: Event) -> str:
    """The event's start, in its own time zone, for people."""
    local = event.starts_at.astimezone(ZoneInfo(event.time_zone))
    return local.strftime("%A %d %B %Y, %H:%M")


def chosen_option(value: str) -> UUID:
    """The option a form names (400 when it names none)."""
    try:
        return UUID(value)
    except ValueError:
        raise Refusal(400, "Choose one of the options.") from None


def contact_kind(store: Store, contact: str) -> str:
    """``phone`` or ``e-mail``: what a valid ``contact`` is, in the member's words."""
    return "phone" if channel_of(store.registrations.contact(contact)) == "sms" else "e-mail"


def send_code_again(store: Store, the_event: UUID, option: UUID, contact: str) -> tuple[Event, str]:
    """Owe ``contact`` its code for ``option`` of ``the_event`` again if it holds one there
    (:func:`signups.send_code_again`); the event, and what kind of contact it is."""
    event, options = signups.event_with_options(store, the_event)
    if option not in {o.option_id for o in options}:
        raise Refusal(400, "Choose one of the options.")
    signups.send_code_again(store, option, contact)
    return event, contact_kind(store, contact)


class HomeHandler(BaseHandler):
    """``GET /``: the upcoming events, and the cancelled ones that have not ended."""

    async def get(self) -> None:
        events = await self.storage(lambda store: signups.upcoming(store, cancelled=True))
        self.render("index.html", events=events, when=when)


class EventPage(BaseHandler):
    """A page of one event with its sign-up form."""

    async def show_event(
        self,
        the_event: UUID,
        refused: Refusal | None = None,
        form: dict[str, str] | None = None,
        key: str | None = None,
        resend: str | None = None,
    ) -> None:
        """The event's page: the form (with what ``form`` held, under ``key``, else a new
        one) and the message of the refusal that brought it back, with its status; with
        ``resend`` (``phone`` or ``e-mail``), the offer to send that contact's code again.
        An outage reading the event gives the plain 503 page."""
        event, options = await self.storage(lambda s: signups.event_with_options(s, the_event))
        if refused is not None:
            self.set_status(refused.status_code)
        self.render(
            "event.html",
            event=event,
            options=options,
            when=when,
            key=key or signups.new_key(),
            form=form or {},
            error=None if refused is None else refused.message,
            resend=resend,
        )


class EventHandler(EventPage):
    """``GET /events/{id}``: the event, its options' seats and the sign-up form."""

    async def get(self, raw_id: str) -> None:
        await self.show_event(event_id(raw_id))


class SignupHandler(EventPage):
    """``POST /events/{id}/signup``: sign up; on to the confirmation page. A contact already
    signed up for the option gets the form again with the offer to send its code again."""

    async def post(self, raw_id: str) -> None:
        the_event = event_id(raw_id)
        form = {
            name: self.text(name) for name in ("name", "contact", "party_size", "option", "key")
        }
        try:
            option = chosen_option(form["option"])
            party = self.number("party_size", "Party size", default=1)
            key = form["key"] or None
            client = signups.Client.web(self.client_network)
            result = await self.flow(
                lambda s: signups.signing_up(
                    s, client, option, form["name"], form["contact"], party, key, the_event
                )
            )
        except Refusal as exc:
            resend = None
            if isinstance(exc.__cause__, AlreadySignedUp):  # the contact was valid
                resend = contact_kind(self.context.require_store(), form["contact"])
            # sending the form again must not sign up twice (after a 503 the sign-up may
            # have been written); a 409 may be the key's own conflict: a new one
            keep = exc.status_code != 409 and form["key"]
            await self.show_event(the_event, exc, form, form["key"] if keep else None, resend)
            return
        path = links.registration_path(self.context.cookie, result.registration.ref)
        self.redirect(path, status=303)


class ResendHandler(EventPage):
    """``POST /events/{id}/resend``: send a contact its reference code for an option again.
    The answer is the same whether or not the contact is signed up there (no one learns who
    is); the code goes to the contact only, at most once per 10 minutes."""

    async def post(self, raw_id: str) -> None:
        the_event = event_id(raw_id)
        form = {name: self.text(name) for name in ("option", "contact")}
        try:
            option = chosen_option(form["option"])
            event, kind = await self.storage(
                lambda s: send_code_again(s, the_event, option, form["contact"])
            )
        except Refusal as exc:
            await self.show_event(the_event, exc, form)
            return
        self.render("resent.html", event=event, kind=kind)


class RegistrationHandler(BaseHandler):
    """``GET /registrations/{ref}[?proof=...]``: the confirmation page. With the proof that
    the site handed the code out (the link a sign-up is sent to), the lookup is no guess."""

    async def get(self, ref: str) -> None:
        client = signups.Client.web(self.client_network)
        handed_out = links.is_proof(self.context.cookie, ref, self.get_query_argument("proof", ""))
        found = await self.storage(lambda s: signups.details(s, client, ref, handed_out))
        self.render(
            "confirmation.html",
            registration=found.registration,
            event=found.event,
            option=found.option,
            when=when,
        )


class CancelHandler(BaseHandler):
    """``GET, POST /cancel``: cancel a registration with its code and contact."""

    def get(self) -> None:
        self.render("cancel.html", ref=self.get_query_argument("ref", ""), error=None, done=None)

    async def post(self) -> None:
        ref, contact = self.text("ref"), self.text("contact")
        try:
            client = signups.Client.web(self.client_network)
            done = await self.storage(lambda s: signups.cancel(s, client, ref, contact))
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
