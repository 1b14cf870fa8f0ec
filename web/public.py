"""The public site: upcoming events, an event's options and sign-up form, the confirmation
page with the reference code, and cancelling with that code. No JavaScript needed."""

from __future__ import annotations

from uuid import UUID
from zoneinfo import ZoneInfo

import signups
from signups import links
from storage.errors import NotFound
from storage.events import Event
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


class HomeHandler(BaseHandler):
    """``GET /``: the upcoming events."""

    async def get(self) -> None:
        events = await self.storage(signups.upcoming)
        self.render("index.html", events=events, when=when)


class EventHandler(BaseHandler):
    """``GET /events/{id}``: the event, its options' seats and the sign-up form."""

    async def get(self, raw_id: str) -> None:
        the_event = event_id(raw_id)
        event, options = await self.storage(lambda s: signups.event_with_options(s, the_event))
        self.render(
            "event.html",
            event=event,
            options=options,
            when=when,
            key=signups.new_key(),
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
            client = signups.Client.web(self.client_network)
            result = await self.flow(
                lambda s: signups.signing_up(
                    s, client, option, form["name"], form["contact"], party, key, the_event
                )
            )
        except Refusal as exc:
            # (an outage here too gives the plain 503 page)
            event, options = await self.storage(lambda s: signups.event_with_options(s, the_event))
            self.set_status(exc.status_code)
            self.render(
                "event.html",
                event=event,
                options=options,
                when=when,
                # sending the form again must not sign up twice (after a 503 the sign-up may
                # have been written); a 409 may be the key's own conflict: a new one
                key=signups.new_key() if exc.status_code == 409 or not form["key"] else form["key"],
                form=form,
                error=exc.message,
            )
            return
        path = links.registration_path(self.context.cookie, result.registration.ref)
        self.redirect(path, status=303)


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
