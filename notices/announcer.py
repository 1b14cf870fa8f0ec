"""Telling an event's registrants: the reminder the day before, a new time or place, the event
cancelled. The management UI (:mod:`web.admin.events`) and the mail role (:mod:`mail.reminders`)
both go through here, so the rules are written once.

Each is one announcement (:mod:`storage.announcements`), done once for the whole cluster:

- **reminder**: from :data:`REMIND_AT` on the day before the event starts (in the event's time
  zone) until it starts, to every confirmed registration (a member who cancelled, or is still
  waitlisted, gets none), rendered when sent: one cancelled meanwhile is not sent. An event
  created on the day it starts gets none, and one cancelled gets none. Keyed by the event and
  its local start date: an event moved to another day gets the reminder of its new day.
- **changed**: staff gave the event a new start (:data:`MOVES`: its time or its place), and it
  has not ended and is not cancelled: every confirmed and waitlisted registration is told, with
  a snapshot of the event as it now is (:mod:`storage.snapshots`). Keyed by the moment of the
  change, so each change is told once.
- **cancelled**: staff cancelled the event (:meth:`storage.events.Events.cancel`; closing
  sign-ups is something else, and tells nobody): every confirmed and waitlisted registration
  is told, from a snapshot, so that deleting the event (which purges its ledger) before the
  notices are sent loses none.

The announcement is claimed *before* the change is applied, with the event as it will be; then
the change; then one notice owed per registrant at the announcement's moment; then it is done.
A node that dies on the way leaves it ``owing``, and :meth:`Announcer.sweep` (the mail role,
every check) finishes it once its claim has expired, or voids it when the change never applied.
Owing a notice again writes the same row: nobody is told twice.

Blocking; not thread-safe (one per actor or per request).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from config.cluster import REMIND_AT
from storage import times
from storage.announcements import Announcement, key_of
from storage.errors import Conflict, NotFound, Refused, StorageError
from storage.events import Event, changed
from storage.flow import Query
from storage.notices import channel_of
from storage.registrations import Registration
from storage.snapshots import snapshot
from storage.store import Store

log = logging.getLogger("gather.notices")

MOVES = ("starts_at", "location")
"""The fields whose change registrants are told of: the event's time and its place."""
TOLD = {
    "reminder": ("confirmed",),
    "changed": ("confirmed", "waitlisted"),
    "cancelled": ("confirmed", "waitlisted"),
}
"""Which registrations each kind of announcement tells, by status."""


def start_day(event: Event) -> date:
    """The day the event starts, in its time zone."""
    return event.starts_at.astimezone(ZoneInfo(event.time_zone)).date()


def reminder_due(event: Event, now: datetime, remind_at: time = REMIND_AT) -> bool:
    """Whether the event's reminders are owed at ``now``: from ``remind_at`` on the day before
    it starts until it starts, unless it is cancelled or was created on the day it starts."""
    zone = ZoneInfo(event.time_zone)
    day = start_day(event)
    from_moment = datetime.combine(day - timedelta(days=1), remind_at, zone)
    its_day = datetime.combine(day, time(0), zone)
    return (
        not event.cancelled and from_moment <= now < event.starts_at and event.created_at < its_day
    )


def reminder_key(event: Event) -> str:
    """The key of the event's reminder announcement: its id and its local start date."""
    return key_of("reminder", event.event_id, start_day(event).isoformat())


def moved(before: Event, after: Event) -> bool:
    """Whether the event has a new time or place."""
    return any(getattr(before, name) != getattr(after, name) for name in MOVES)


class Announcer:
    """Owes the notices of announcements with ``store``, as node ``node``; reminders from
    ``remind_at`` on the day before (``mail.remind_at``)."""

    def __init__(self, store: Store, node: str, remind_at: time = REMIND_AT) -> None:
        self.store = store
        self.node = node
        self.remind_at = remind_at
        """When reminders are owed, on the day before the event in its time zone."""

    def change(self, event_id: UUID, **changes: Any) -> tuple[Event, Announcement | None]:
        """:meth:`~storage.events.Events.update` the event, telling its registrants when it
        gets a new time or place (:data:`MOVES`) before it ends: the event as changed, and the
        announcement (None when nobody is told)."""
        events, now = self.store.events, times.now()
        before = events.get(event_id)
        after = changed(before, changes)  # refused here, before anything is written
        if before.cancelled or before.ends_at < now or not moved(before, after):
            return events.update(event_id, **changes), None
        announcement = self.store.announcements.claim(
            "changed", after, now.isoformat(), self.node, now
        )
        assert announcement is not None  # its key is this moment's: nobody else has it
        try:
            after = events.update(event_id, **changes)
        except Refused as exc:  # nothing was written; uncertain is left owing: the sweep sees
            self.store.announcements.void(announcement, f"the change was refused: {exc}")
            raise
        return after, self._owe(announcement, after)

    def cancel(self, event_id: UUID) -> tuple[Event, Announcement | None]:
        """Cancel the event and tell its registrants: the event, and the announcement (None
        when it was cancelled before). An event that is over cannot be (:class:`Conflict`)."""
        event = self.store.events.get(event_id)
        if event.cancelled:
            return event, None
        if event.ends_at < times.now():
            raise Conflict("the event is over; there is nothing to cancel")
        announcement = self.store.announcements.claim("cancelled", event, "", self.node)
        if announcement is None:  # another node is cancelling it right now
            return self.store.events.cancel(event_id, times.now()), None
        cancelled = self.store.events.cancel(event_id, announcement.owed_at)
        return cancelled, self._owe(announcement, cancelled)

    def check(self, now: datetime) -> list[Announcement]:
        """:meth:`sweep`, then :meth:`remind`, on one read of the announcements; those
        finished or done."""
        known = self.store.announcements.recent()
        return self.sweep(now, known) + self.remind(now, known)

    def remind(self, now: datetime, known: list[Announcement] | None = None) -> list[Announcement]:
        """Owe the reminders due at ``now`` (:func:`reminder_due`) that no node has owed yet,
        by ``known``, the announcements as last read (read now if None, and only if one is
        due); the announcements done. One event's failure is logged and the others go on."""
        due = [e for e in self.store.events.list() if reminder_due(e, now, self.remind_at)]
        if not due:
            return []
        if known is None:
            known = self.store.announcements.recent()
        keyed = {a.key: a for a in known}
        done = (self._each(self._remind, e, now, keyed.get(reminder_key(e))) for e in due)
        return [announcement for announcement in done if announcement is not None]

    def remind_event(self, event: Event, now: datetime) -> Announcement | None:
        """Owe the event's reminders if they are due at ``now`` and no node owed them yet;
        the announcement done, or None."""
        if not reminder_due(event, now, self.remind_at):
            return None
        return self._remind(event, now, self.store.announcements.get(reminder_key(event)))

    def _remind(
        self, event: Event, now: datetime, found: Announcement | None
    ) -> Announcement | None:
        """Owe the due reminders of ``event`` unless ``found`` (its announcement as last read)
        says another node has, or is, owing them."""
        if found is not None and found.state != "void" and not found.taken_over(now):
            return None
        day = start_day(event).isoformat()
        announcement = self.store.announcements.claim("reminder", event, day, self.node, now)
        return None if announcement is None else self._owe(announcement, event)

    def sweep(self, now: datetime, known: list[Announcement] | None = None) -> list[Announcement]:
        """Finish (or void) the announcements whose node died mid-way (their claim is
        :data:`~storage.announcements.CLAIM_S` old), oldest first, by ``known``, the
        announcements as last read, newest first (read now if None); those finished. One
        announcement's failure is logged and the others go on."""
        if known is None:
            known = self.store.announcements.recent()
        left = [found for found in reversed(known) if found.taken_over(now)]
        done = (self._each(self._take_over, found, now) for found in left)
        return [announcement for announcement in done if announcement is not None]

    def _take_over(self, found: Announcement, now: datetime) -> Announcement | None:
        announcement = self.store.announcements.take_over(found, self.node, now)
        return None if announcement is None else self._resume(announcement, now)

    def _each(self, work: Callable[..., Announcement | None], *args: Any) -> Announcement | None:
        """``work(*args)``, one announcement's; an error of storage or a bug in it is logged
        (with its traceback) and counts as nothing done, so that it stops no other."""
        try:
            return work(*args)
        except StorageError as exc:
            log.warning("an announcement was put off: %s", exc)
        except Exception:
            log.exception("an announcement failed; tried again at the next check")
        return None

    def _resume(self, announcement: Announcement, now: datetime) -> Announcement:
        """Finish an announcement taken over, if what it announces holds."""
        announcements = self.store.announcements
        try:
            event = self.store.events.get(announcement.event_id)
        except NotFound:
            return announcements.void(announcement, "the event was deleted before it was told")
        if announcement.kind == "cancelled" and not event.cancelled:
            return announcements.void(announcement, "the cancellation did not apply")
        if announcement.kind == "changed" and (
            event.starts_at != announcement.starts_at or event.location != announcement.location
        ):
            return announcements.void(
                announcement, "the change did not apply, or was changed again"
            )
        if announcement.kind == "reminder" and not (
            reminder_due(event, now, self.remind_at)
            and announcement.key.endswith(f":{start_day(event)}")
        ):
            return announcements.void(announcement, "the event moved, started or was cancelled")
        return self._owe(announcement, event)

    def _owe(self, announcement: Announcement, event: Event) -> Announcement:
        """Owe one notice per registration the announcement tells, then mark it done."""
        counts: Counter[str] = Counter()
        told = list(self._told(event, TOLD[announcement.kind]))
        for registration in told:
            counts[channel_of(registration.contact)] += 1
        self.store.notices.owe_all(self._notices(announcement, event, told))
        return self.store.announcements.done(announcement, counts)

    def _told(self, event: Event, statuses: tuple[str, ...]) -> Iterator[Registration]:
        for option in self.store.events.options(event.event_id):
            for registration in self.store.registrations.registrations(option.option_id):
                if registration.status in statuses:
                    yield registration

    def _notices(
        self, announcement: Announcement, event: Event, told: Iterable[Registration]
    ) -> Iterator[Query]:
        kind, notices = announcement.kind, self.store.notices
        for registration in told:
            yield notices.owing(
                kind,
                f"{announcement.key}:{registration.option_id}:{registration.number}",
                registration.contact,
                ref=registration.ref,
                option_id=registration.option_id,
                number=registration.number,
                body=snapshot(registration, event) if kind != "reminder" else None,
                now=announcement.owed_at,
            )
