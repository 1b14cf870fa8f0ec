"""The management pages of events and their sign-up options.

Saving an event goes through :class:`notices.announcer.Announcer`: a new time or place is
told to its registrants, and so is cancelling it (``POST /admin/events/{id}/cancel``), which
is not closing its sign-ups (that tells nobody). The event's page then says how many are
being told (``?told=N``: a count, nothing else).
"""

from __future__ import annotations

import logging
import re
import zoneinfo
from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from node.notices import AssetChanged, EventChanged
from notices.announcer import Announcer
from storage import times, validate
from storage.announcements import Announcement
from storage.assets import AssetInfo
from storage.events import Event
from storage.store import Store
from web.admin.base import Admin
from web.admin.forms import required_id
from web.base import MAX_REQUEST_BODY, Refusal
from web.public import event_id

log = logging.getLogger(__name__)

TIME_ZONES = sorted(zoneinfo.available_timezones())
"""The IANA zones the event form offers."""
_COUNT = re.compile(r"[0-9]{1,6}")


def image_assets(store: Store) -> list[AssetInfo]:
    """The assets that are images (for the icon and background choices)."""
    return [info for info in store.assets.list() if info.content_type.startswith("image/")]


def upcoming_and_past(events: list[Event], now: datetime) -> tuple[list[Event], list[Event]]:
    """The events not yet ended, soonest first, and the ended ones, latest first."""
    ordered = sorted(events, key=lambda e: (e.starts_at, e.title))
    return [e for e in ordered if e.ends_at >= now], [e for e in ordered if e.ends_at < now][::-1]


def local_input(event: Event, moment: datetime) -> str:
    """A moment as a ``datetime-local`` value in the event's time zone."""
    return moment.astimezone(ZoneInfo(event.time_zone)).strftime("%Y-%m-%dT%H:%M")


def local_text(event: Event, moment: datetime) -> str:
    """A moment in the event's time zone, for people."""
    return moment.astimezone(ZoneInfo(event.time_zone)).strftime("%A %d %B %Y, %H:%M")


def event_page(the_event: UUID, announcement: Announcement | None) -> str:
    """The event's page, saying how many registrants ``announcement`` tells, if there is one."""
    path = f"/admin/events/{the_event}"
    return path if announcement is None else f"{path}?told={sum(announcement.owed.values())}"


def told_sentence(raw: str | None, event: Event) -> str | None:
    """What the event's page says of the registrants being told (``raw``: the ``told``
    count of :func:`event_page`), or None."""
    if raw is None or not _COUNT.fullmatch(raw):
        return None
    count = int(raw)
    if count == 0:
        return "Nobody is signed up, so nobody was told."
    news = "that the event is cancelled" if event.cancelled else "of the new time or place"
    who = "1 registrant is" if count == 1 else f"{count} registrants are"
    return f"{who} being told {news}, by text or e-mail."


def kept_moments(event: Event, fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` with the event's own start and end where the form sent them back to the
    minute (the form has no seconds): saving the form as shown moves nothing, so tells
    nobody."""
    kept = {
        name: getattr(event, name)
        for name in ("starts_at", "ends_at")
        if fields[name] == getattr(event, name).replace(second=0, microsecond=0)
    }
    return fields | kept


def event_values(event: Event) -> dict[str, str]:
    """What the event form shows of ``event``, field by field."""
    return {
        "title": event.title,
        "short_code": event.short_code,
        "description": event.description,
        "location": event.location,
        "time_zone": event.time_zone,
        "starts_at": local_input(event, event.starts_at),
        "ends_at": local_input(event, event.ends_at),
        "icon_asset": str(event.icon_asset or ""),
        "background_asset": str(event.background_asset or ""),
    }


class EventForm(Admin):
    """The event form, with images uploaded along; a refused one comes back with its message
    and what was typed in it."""

    max_body = MAX_REQUEST_BODY

    def get_template_namespace(self) -> dict[str, Any]:
        """The form's choice of time zones, and the words that may not be short codes."""
        return super().get_template_namespace() | {
            "time_zones": TIME_ZONES,
            "sms_keywords": validate.SMS_KEYWORDS,
        }

    async def show(
        self,
        the_event: UUID | None,
        values: dict[str, str] | None = None,
        refused: Refusal | None = None,
    ) -> None:
        """The events list with the new event's form (``the_event`` None), or the event's
        page; the form shows ``values`` (default: the event's, or a new one's) and the
        refusal's message, with its status."""
        if refused is not None:
            self.set_status(refused.status_code)
        error = None if refused is None else refused.message
        if the_event is None:
            events, images = await self.storage(lambda s: (s.events.list(), image_assets(s)))
            upcoming, past = upcoming_and_past(events, times.now())
            shown = values or {"time_zone": self.context.config.site.time_zone}
            self.render(
                "admin/events.html",
                upcoming=upcoming,
                past=past,
                images=images,
                values=shown,
                error=error,
            )
            return
        event, options, images = await self.storage(
            lambda s: (s.events.get(the_event), s.events.options(the_event), image_assets(s))
        )
        self.render(
            "admin/event.html",
            event=event,
            ended=event.ends_at < times.now(),
            options=options,
            images=images,
            values=values or event_values(event),
            error=error,
            told=told_sentence(self.get_query_argument("told", None), event),
            local_text=local_text,
        )

    async def post_form(self, the_event: UUID | None) -> None:
        """Save the form, then on to the event's page; a refused form is shown again (an
        outage gives the plain error page)."""
        try:
            saved, announcement = await self.save(the_event)
        except Refusal as exc:
            if exc.status_code >= 500:
                raise
            await self.show(the_event, self.form.event_values(), exc)
            return
        self.redirect(event_page(saved, announcement), status=303)

    async def save(self, the_event: UUID | None) -> tuple[UUID, Announcement | None]:
        """Create (``the_event`` None) or change the event from the form; its id, and the
        announcement of its new time or place (None when nobody is told).

        The images are stored first and the event written once, with them: a refused form
        leaves no event behind, and the images it brought are removed again.
        """
        images = self.form.event_images()
        fields = self.form.event_fields(self.context.config.site.time_zone)
        stored: list[AssetInfo] = []
        event_sent = False
        try:
            for column, upload in images.items():
                stored.append(await self.store_upload(upload))
                fields[column] = stored[-1].asset_id
            event_sent = True
            if the_event is None:
                return (await self.storage(lambda s: s.events.create(**fields))).event_id, None
            node = self.context.name
            _, announcement = await self.storage(
                lambda s: Announcer(s, node).change(
                    the_event, **kept_moments(s.events.get(the_event), fields)
                )
            )
            await self.notify(EventChanged(str(the_event)))
            return the_event, announcement
        except Refusal as exc:
            if not event_sent or exc.status_code < 500:  # the event does not use them
                await self.discard(stored)
            raise

    async def discard(self, assets: list[AssetInfo]) -> None:
        """Delete assets nothing uses (best effort: one left over is only clutter)."""
        for info in assets:
            gone = info.asset_id
            try:
                await self.storage(lambda s: s.assets.delete(gone))  # noqa: B023 (awaited here)
            except Refusal as exc:
                log.warning("could not remove unused asset %s: %s", info.asset_id, exc.message)
                continue
            await self.notify(AssetChanged(str(info.asset_id), 0))


class EventsAdmin(EventForm):
    """``GET, POST /admin/events``: the events, and creating one (with uploaded images)."""

    async def get(self) -> None:
        await self.show(None)

    async def post(self) -> None:
        await self.post_form(None)


class EventAdmin(EventForm):
    """``GET, POST /admin/events/{id}``: one event, its options; changing it."""

    async def get(self, raw_id: str) -> None:
        await self.show(event_id(raw_id))

    async def post(self, raw_id: str) -> None:
        await self.post_form(event_id(raw_id))


class EventOpenAdmin(Admin):
    """``POST /admin/events/{id}/open``: open (``is_open=1``) or close sign-ups."""

    async def post(self, raw_id: str) -> None:
        the_event, is_open = event_id(raw_id), self.form.checked("is_open")
        await self.storage(lambda s: s.events.set_open(the_event, is_open))
        await self.notify(EventChanged(str(the_event)))
        self.redirect(f"/admin/events/{the_event}", status=303)


class EventCancelAdmin(Admin):
    """``POST /admin/events/{id}/cancel`` (with ``confirm=1``): cancel the event for good and
    tell every confirmed and waitlisted registrant; cancelling it again tells nobody more."""

    async def post(self, raw_id: str) -> None:
        the_event, node = event_id(raw_id), self.context.name
        if not self.form.checked("confirm"):
            raise Refusal(
                400,
                "Tick the box to confirm that the event is cancelled for good and every "
                "registrant told; nothing was done.",
            )
        _, announcement = await self.storage(lambda s: Announcer(s, node).cancel(the_event))
        await self.notify(EventChanged(str(the_event)))
        self.redirect(event_page(the_event, announcement), status=303)


class EventDeleteAdmin(Admin):
    """``POST /admin/events/{id}/delete``: archive the event, then delete it."""

    async def post(self, raw_id: str) -> None:
        the_event = event_id(raw_id)
        await self.storage(lambda s: s.events.delete(the_event))
        await self.notify(EventChanged(str(the_event)))
        self.redirect("/admin/events", status=303)


class OptionsAdmin(Admin):
    """``POST /admin/events/{id}/options[/{option}]``: add an option, or change one."""

    async def post(self, raw_id: str, raw_option: str | None = None) -> None:
        the_event = event_id(raw_id)
        fields = self.form.option_fields()
        if raw_option is None:
            await self.storage(
                lambda s: s.events.add_option(
                    the_event, fields.label, fields.capacity, fields.waitlist, fields.position
                )
            )
        else:
            option = required_id(raw_option, "Option")
            await self.storage(
                lambda s: s.events.update_option(
                    the_event,
                    option,
                    label=fields.label,
                    capacity=fields.capacity,
                    waitlist=fields.waitlist,
                    position=fields.position,
                )
            )
        await self.notify(EventChanged(str(the_event)))
        self.redirect(f"/admin/events/{the_event}", status=303)
