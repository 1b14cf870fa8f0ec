"""The pass every channel's sender runs over the notices owed to members (:mod:`storage.notices`).

One :class:`Sender` per channel and node; what differs between the channels is a
:class:`Channel` (the SMS one in :mod:`sms.notifier`, the e-mail one in :mod:`mail.notices`).
Every pass reads the channel's notices not settled since its watermark day, claims each one
that is due (one sender in the whole cluster gets it), works out its content from the
registration as it is now, and hands it to the channel:

- sent: what the channel keeps of it is recorded (:meth:`Channel.record`) and the notice
  settled;
- the contact opted out (:meth:`Channel.blocked` before the send; the channel says so after
  it): the notice settled ``opted_out``;
- refused or unreachable: tried again with a growing back-off, at most :data:`MAX_ATTEMPTS`
  times, then settled ``failed`` (logged);
- unknown (a timeout after the request left): **at least once**, tried again as if it had
  failed, and counted (``uncertain``): a notice sent twice costs a member a duplicate; a
  promotion not sent costs them their seat. The same holds for a sender that dies between the
  channel's answer and the settle: its claim expires and another sender sends it again.

A promotion's notice is owed before the batch that promotes (so that no crash loses it), one
per attempt of the batch, at the time the batch marks the registration updated: the notice
whose time the confirmed registration has is sent; another attempt's is dropped
(``skipped``); while the registration is still waitlisted, its batch has not applied yet, or
never will, and the notice is put back for :data:`PROMOTION_GRACE_S`, then dropped. A code for
a registration cancelled meanwhile is dropped too. A ``reply`` carries its own body and is
about no registration.

No notice about a registration of a cancelled event is sent but the cancellation's own. The
notices of :mod:`notices.announcer`: a ``reminder`` goes out only to a registration still
confirmed, for an event not started, and still starting on the day the reminder
was owed for; a ``changed`` or ``cancelled`` one is sent from the snapshot it was owed with
(the event may be deleted by then), unless the registration was cancelled since, or (for a
change) the event was cancelled, deleted or changed again since (the later change tells its
own). The watermark does not pass the day of an announcement still owing, or done within
:data:`SETTLE_MARGIN` (its notices are owed on the day it began, maybe after a pass read it).

Blocking; one pass at a time (the notifier actor's thread).
"""

from __future__ import annotations

import logging
import random
from abc import ABC, abstractmethod
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import ClassVar, Generic, TypeVar

from notices.announcer import start_day
from notices.outcome import SendKind, SendOutcome
from storage import times
from storage.announcements import Announcement
from storage.errors import NotFound
from storage.events import Event
from storage.notices import SNAPSHOT_KINDS, Notice
from storage.registrations import Registration
from storage.snapshots import unpack
from storage.store import Store

C = TypeVar("C")
"""What a channel sends: a text, an e-mail message."""

MAX_ATTEMPTS = 12
"""Sends of one notice before it is given up (about an hour of back-off in all)."""
BACKOFF_S = (2.0, 900.0)
"""The first and the longest wait between attempts."""
PROMOTION_GRACE_S = 60.0
"""How long a promotion's notice waits for its batch to apply before it is dropped."""
LOOKBACK = timedelta(days=2)
"""Where the first scan starts, with no watermark yet."""
SETTLE_MARGIN = timedelta(hours=1)
"""The watermark never passes the day of this long ago: a notice owed on a node whose clock
is a little behind still lands in a day that is scanned."""


@dataclass(frozen=True)
class About:
    """The registration a notice is about and its event, as they are when it is sent."""

    registration: Registration
    event: Event


class Channel(ABC, Generic[C]):
    """How one channel sends a notice: what the :class:`Sender`'s pass leaves to it."""

    name: ClassVar[str]
    """The channel of its notices (:data:`storage.notices.CHANNELS`): ``sms``, ``email``."""
    noun: ClassVar[str]
    """What it sends, in the log: ``text``, ``e-mail``."""
    log: ClassVar[logging.Logger]
    """Where the pass logs (never a contact, a name or a content)."""

    def blocked(self, store: Store, notice: Notice) -> str | None:
        """Why ``notice`` may not be sent to its contact (it is settled ``opted_out`` with
        that reason, unsent), or None when it may. By default none is blocked."""
        return None

    @abstractmethod
    def render(self, notice: Notice, about: About | None) -> C | None:
        """The content of ``notice`` about ``about`` as it is now, or of a notice that
        carries its own body (``about`` None); None: not a notice this channel sends (it is
        settled ``skipped``)."""

    @abstractmethod
    def send(self, notice: Notice, content: C) -> SendOutcome:
        """Send ``content`` to the notice's contact, within the channel's timeout; never
        raises for an error of the provider or the server, but says what became of it."""

    def record(self, store: Store, notice: Notice, content: C, outcome: SendOutcome) -> None:
        """Keep what the channel keeps of a send that ended :attr:`SendKind.SENT` or
        :attr:`SendKind.OPTED_OUT`, before the notice is settled. By default nothing."""

    def close(self) -> None:
        """Let go of what the channel holds (threads, connections). By default nothing."""


class Sender(Generic[C]):
    """Sends the owed notices of ``channel`` for the whole cluster, as node ``node``."""

    def __init__(self, channel: Channel[C], node: str) -> None:
        self.channel = channel
        self._node = node
        self.watermark_job = f"notices-{channel.name}"
        """The job of the scan's watermark in ``job_watermarks``."""
        self.counts: Counter[str] = Counter()
        """Notices by how they ended here (sent, retry, uncertain, failed, ...)."""

    def close(self) -> None:
        """Let go of the channel."""
        self.channel.close()

    def run_pass(self, store: Store) -> int:
        """Send what is due, with ``store``; how many notices were claimed."""
        now = times.now()
        watermark = store.watermarks.get(self.watermark_job)
        since = (watermark or now - LOOKBACK).date()
        oldest_open = None
        claimed = 0
        for notice in store.notices.unsettled(self.channel.name, since):
            if oldest_open is None:
                oldest_open = notice.day
            if not notice.due(now):
                continue
            mine = store.notices.claim(notice, self._node, now)
            if mine is None:
                continue
            claimed += 1
            sent = self._deliver(store, mine)
            if sent is not None and sent.kind in (SendKind.RETRY, SendKind.UNCERTAIN):
                break  # the provider is out of reach or failing: the rest wait for a pass
        else:
            self._advance(store, since, oldest_open, now)
        return claimed

    def _advance(self, store: Store, since: date, oldest_open: date | None, now: datetime) -> None:
        """Move the watermark to the oldest day that still holds an unsettled notice."""
        settled_until = (now - SETTLE_MARGIN).date()
        until = min(oldest_open or settled_until, settled_until)
        if until > since:  # not past an announcement still owing, or just done: it owes on
            held = [a.owed_at.date() for a in store.announcements.recent() if _holds(a, now)]
            until = min([until, *held])  # its own day, maybe after this pass read it
        if until > since:
            moment = datetime.combine(until, datetime.min.time(), now.tzinfo)
            store.watermarks.advance(self.watermark_job, moment)

    def _deliver(self, store: Store, notice: Notice) -> SendOutcome | None:
        """Send a claimed notice; what the channel said (None: nothing was sent)."""
        try:
            content = self._content(store, notice)
        except NotFound:
            self._skip(store, notice, "its registration or event no longer exists")
            return None
        if content is None:
            return None
        reason = self.channel.blocked(store, notice)
        if reason is not None:
            store.notices.settle(notice, "opted_out", reason)
            self.counts["opted_out"] += 1
            return None
        outcome = self.channel.send(notice, content)
        self._settle(store, notice, content, outcome)
        return outcome

    def _content(self, store: Store, notice: Notice) -> C | None:
        """The content to send, or None when the notice was settled or released instead."""
        if notice.kind == "reply":
            return self._rendered(store, notice, None)
        if notice.kind in SNAPSHOT_KINDS:
            return self._announced(store, notice)
        assert notice.option_id is not None and notice.number is not None
        registration = store.registrations.numbered(notice.option_id, notice.number)
        about = About(registration, store.events.get(registration.event_id))
        if about.event.cancelled:  # its own notice told them; a seat or a code would not do
            self._skip(store, notice, "the event was cancelled")
            return None
        if notice.kind == "reminder":
            why_not = _why_no_reminder(notice, about)
            if why_not is not None:
                self._skip(store, notice, why_not)
                return None
            return self._rendered(store, notice, about)
        if notice.kind != "promoted":
            if registration.status == "cancelled":
                self._skip(store, notice, "cancelled before it was sent")
                return None
            return self._rendered(store, notice, about)
        if registration.status == "confirmed" and registration.updated_at == notice.created_at:
            return self._rendered(store, notice, about)
        age = (times.now() - notice.created_at).total_seconds()
        if registration.status == "waitlisted" and age < PROMOTION_GRACE_S:
            store.notices.release(notice)  # its batch may still apply
            return None
        self._skip(store, notice, "the promotion did not apply")
        return None

    def _announced(self, store: Store, notice: Notice) -> C | None:
        """A change's or a cancellation's content, from the snapshot it was owed with; the
        registration cancelled since, or (for a change) the event deleted, cancelled or
        changed again since (the later change tells its own), is not told."""
        assert notice.body is not None
        try:
            registration, event = unpack(notice.body)
        except (ValueError, KeyError, TypeError):
            self._skip(store, notice, "its snapshot cannot be read")
            return None
        why_not = None
        try:
            current = store.registrations.numbered(registration.option_id, registration.number)
            if current.status == "cancelled":
                why_not = "the registration was cancelled since"
            elif notice.kind == "changed":
                why_not = _why_not_changed(event, store.events.get(event.event_id))
        except NotFound:  # deleted since, its ledger purged
            if notice.kind == "changed":
                why_not = "the event was deleted since"
        if why_not is not None:
            self._skip(store, notice, why_not)
            return None
        return self._rendered(store, notice, About(registration, event))

    def _rendered(self, store: Store, notice: Notice, about: About | None) -> C | None:
        """The channel's content for the notice; a notice it does not send is skipped."""
        content = self.channel.render(notice, about)
        if content is None:
            self._skip(store, notice, f"not a notice sent by {self.channel.name}")
        return content

    def _skip(self, store: Store, notice: Notice, reason: str) -> None:
        store.notices.settle(notice, "skipped", reason)
        self.counts["skipped"] += 1

    def _settle(self, store: Store, notice: Notice, content: C, outcome: SendOutcome) -> None:
        notices, log, noun = store.notices, self.channel.log, self.channel.noun
        detail = f"{outcome.kind}: {outcome.code or ''} {outcome.detail}".strip()
        self.counts[outcome.kind] += 1
        if outcome.kind in (SendKind.SENT, SendKind.OPTED_OUT):
            self.channel.record(store, notice, content, outcome)
        if outcome.kind is SendKind.SENT:
            notices.settle(notice, "sent", outcome.provider_id or "")
        elif outcome.kind is SendKind.OPTED_OUT:
            notices.settle(notice, "opted_out", detail)
        elif outcome.kind is SendKind.FAILED or notice.attempts + 1 >= MAX_ATTEMPTS:
            log.warning(
                "a %s %s was given up after %d attempt(s): %s",
                notice.kind,
                noun,
                notice.attempts + 1,
                detail,
            )
            notices.settle(notice, "failed", detail)
        else:  # retry, or uncertain: at least once
            wait = min(BACKOFF_S[1], BACKOFF_S[0] * 2**notice.attempts) * random.uniform(0.8, 1.2)
            log.info("a %s %s will be tried again in %.0f s (%s)", notice.kind, noun, wait, detail)
            notices.retry_later(notice, times.now() + timedelta(seconds=wait), detail)


def _why_no_reminder(notice: Notice, about: About) -> str | None:
    """Why a reminder may not go out now (None: it may): only a confirmed registration of an
    event still on, on the day the reminder was owed for, is reminded."""
    registration, event = about.registration, about.event
    if registration.status != "confirmed":
        return f"the registration is {registration.status}"
    if event.starts_at <= times.now():
        return "the event has started"
    if f":{start_day(event)}:" not in notice.key:
        return "the event moved to another day"
    return None


def _why_not_changed(announced: Event, event: Event) -> str | None:
    """Why a change's notice announcing ``announced`` may not go out about ``event`` as it is
    now (None: it may)."""
    if event.cancelled:
        return "the event was cancelled since"
    if (event.starts_at, event.location) != (announced.starts_at, announced.location):
        return "the event was changed again since"
    return None


def _holds(announcement: Announcement, now: datetime) -> bool:
    """Whether the announcement may still owe notices on its day that a pass has not seen:
    still owing, or done less than :data:`SETTLE_MARGIN` ago."""
    if announcement.state == "owing":
        return True
    done = announcement.done_at
    return announcement.state == "done" and done is not None and now - done < SETTLE_MARGIN
