"""Notices owed to members: a text or an e-mail that must reach them once, whoever sends it.

A notice is owed (:meth:`Notices.owe`) where its cause happens: a sign-up on the website or a
kiosk owes the member their reference code, a settled change of an option owes every party it
promoted off the waitlist a word (written *before* the change's batch, so that no crash between
the two loses it; each attempt of the batch owes its own, at the time the batch writes on the
registration, and the sender sends only the one whose time the registration has), a text
answered through Telnyx's API owes its reply. Its key names its cause
(``promoted:<option>:<number>:<attempt's time>``), so owing it again changes nothing.

Senders (the sms role's notifier for ``sms``, the mail role's for ``email``) scan their
channel's day partitions (:meth:`Notices.unsettled`), :meth:`~Notices.claim` each notice with a
lightweight transaction so that one sender of the whole cluster sends it, and
:meth:`~Notices.settle` it (sent, opted out, skipped, failed) or put it off
(:meth:`~Notices.retry_later`). A claim whose sender died expires after ``CLAIM_S`` and is
claimed again: delivery is at least once (docs/sms.md says why).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from uuid import UUID

from storage import times, validate
from storage.flow import Query
from storage.session import Database, Row

KINDS = ("code", "again", "promoted", "reply", "reminder", "changed", "cancelled")
"""``code``: the reference code after a sign-up; ``again``: the code sent again on request;
``promoted``: a seat off the waitlist; ``reply``: the answer to a text, through the API;
``reminder``: the day before the event; ``changed``: the event has a new time or place;
``cancelled``: staff cancelled the event (the last three owed by :mod:`notices.announcer`)."""
SNAPSHOT_KINDS = ("changed", "cancelled")
"""Kinds whose body is a :func:`storage.snapshots.snapshot` of the registration and the event
as announced: it is sent as it was owed, even when the event was deleted (and its ledger
purged) since."""
CHANNELS = ("sms", "email")
SETTLED = ("sent", "opted_out", "skipped", "failed")
CLAIM_S = 120.0
"""A claim older than this is taken to belong to a sender that died mid-send."""
_COLUMNS = (
    "channel, day, key, kind, contact, ref, option_id, number, body, created_at, state, "
    "claimed_by, claimed_at, attempts, next_at, outcome, settled_at"
)
_OWE = (
    "INSERT INTO member_notices (channel, day, key, kind, contact, ref, option_id, number, "
    "body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


@dataclass(frozen=True)
class Notice:
    """One owed notice and how far its delivery got."""

    channel: str
    day: date
    key: str
    kind: str
    contact: str
    ref: str | None
    option_id: UUID | None
    number: int | None
    body: str | None
    created_at: datetime
    state: str | None = None
    """None: owed, nobody sending; ``sending``, ``retry`` or one of :data:`SETTLED`."""
    claimed_by: str | None = None
    claimed_at: datetime | None = None
    attempts: int = 0
    next_at: datetime | None = None
    outcome: str | None = None
    settled_at: datetime | None = None

    @property
    def settled(self) -> bool:
        """Nothing more will be done with it."""
        return self.state in SETTLED

    def due(self, now: datetime) -> bool:
        """Whether a sender may claim it now."""
        if self.state is None:
            return True
        if self.state == "retry":
            return self.next_at is None or self.next_at <= now
        if self.state == "sending":
            return self.claimed_at is None or now - self.claimed_at > timedelta(seconds=CLAIM_S)
        return False


def channel_of(contact: str) -> str:
    """``sms`` for a phone number (E.164), ``email`` for an address."""
    return "sms" if contact.startswith("+") else "email"


class Notices:
    """Owe, find, claim and settle notices."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def owing(
        self,
        kind: str,
        key: str,
        contact: str,
        *,
        ref: str | None = None,
        option_id: UUID | None = None,
        number: int | None = None,
        body: str | None = None,
        now: datetime | None = None,
    ) -> Query:
        """The write that owes a notice (for a :mod:`storage.flow`); see :meth:`owe`."""
        kind = validate.choice("kind", kind, KINDS)
        key = validate.text("key", key, max_len=200)
        now = times.now() if now is None else now
        params = (channel_of(contact), now.date(), key, kind, contact, ref, option_id, number)
        return Query(_OWE, (*params, body, now), "write")

    def owe(
        self,
        kind: str,
        key: str,
        contact: str,
        *,
        ref: str | None = None,
        option_id: UUID | None = None,
        number: int | None = None,
        body: str | None = None,
        now: datetime | None = None,
    ) -> None:
        """Owe ``contact`` a notice of ``kind`` whose cause is ``key`` (once per key and UTC
        day), about registration ``ref`` (number ``number`` of ``option_id``) or with its
        own ``body``; owed ``now`` (default: the current time)."""
        query = self.owing(
            kind, key, contact, ref=ref, option_id=option_id, number=number, body=body, now=now
        )
        self._db.query(query)

    def owe_all(self, queries: Iterable[Query], window: int = 64) -> int:
        """Run :meth:`owing`'s writes, ``window`` at a time; how many there were."""
        count, pending = 0, iter(queries)
        while batch := list(itertools.islice(pending, window)):
            for request in [self._db.submit(q.cql, q.params, op=q.op) for q in batch]:
                request.result()
            count += len(batch)
        return count

    def unsettled(self, channel: str, since: date, until: date | None = None) -> Iterator[Notice]:
        """The channel's notices owed from day ``since`` to ``until`` (default: today) that
        are not settled, oldest day first."""
        channel = validate.choice("channel", channel, CHANNELS)
        day, last = since, until or times.now().date()
        while day <= last:
            for notice in self._on_day(channel, day):
                if not notice.settled:
                    yield notice
            day += timedelta(days=1)

    def recent(self, channel: str, days: int = 7) -> list[Notice]:
        """The channel's notices of the last ``days`` days, newest first (the management UI)."""
        today = times.now().date()
        found = []
        for back in range(days):
            day = today - timedelta(days=back)
            notices = self._on_day(validate.choice("channel", channel, CHANNELS), day)
            found += sorted(notices, key=lambda n: n.created_at, reverse=True)
        return found

    def _on_day(self, channel: str, day: date) -> Iterator[Notice]:
        """Every notice of the channel owed on ``day``."""
        rows = self._db.stream(
            f"SELECT {_COLUMNS} FROM member_notices WHERE channel = ? AND day = ?",
            (channel, day),
            op="read",
        )
        return map(_notice, rows)

    def claim(self, notice: Notice, sender: str, now: datetime | None = None) -> Notice | None:
        """Make ``sender`` the one sending ``notice``: the claimed notice, or None when
        another sender got it (or it changed) first."""
        now = times.now() if now is None else now
        expected: tuple[object, ...]
        if notice.state is None:
            condition, expected = "IF kind = ? AND state = null", (notice.kind,)
        elif notice.state == "retry":
            condition, expected = "IF state = ? AND attempts = ?", ("retry", notice.attempts)
        else:
            condition, expected = (
                "IF state = ? AND claimed_at = ?",
                (notice.state, notice.claimed_at),
            )
        rows = self._db.execute(
            "UPDATE member_notices SET state = 'sending', claimed_by = ?, claimed_at = ? "
            f"WHERE channel = ? AND day = ? AND key = ? {condition}",
            (sender, now, notice.channel, notice.day, notice.key, *expected),
            op="signup",
        )
        if not rows[0]["[applied]"]:
            return None
        return replace(notice, state="sending", claimed_by=sender, claimed_at=now)

    def settle(self, notice: Notice, state: str, outcome: str = "") -> None:
        """Record how a claimed notice ended (one of :data:`SETTLED`)."""
        self._db.execute(
            "UPDATE member_notices SET state = ?, outcome = ?, settled_at = ?, attempts = ? "
            "WHERE channel = ? AND day = ? AND key = ?",
            (
                validate.choice("state", state, SETTLED),
                outcome[:500],
                times.now(),
                notice.attempts + 1,
                notice.channel,
                notice.day,
                notice.key,
            ),
            op="write",
        )

    def retry_later(self, notice: Notice, at: datetime, outcome: str) -> None:
        """Put a claimed notice off until ``at`` (its attempts counted)."""
        self._db.execute(
            "UPDATE member_notices SET state = 'retry', next_at = ?, outcome = ?, attempts = ? "
            "WHERE channel = ? AND day = ? AND key = ?",
            (at, outcome[:500], notice.attempts + 1, notice.channel, notice.day, notice.key),
            op="write",
        )

    def release(self, notice: Notice) -> None:
        """Give a claimed notice back unsent, to be claimed again (its cause is not settled
        yet, e.g. a promotion whose batch has not applied so far)."""
        self._db.execute(
            "UPDATE member_notices SET state = null, claimed_by = null, claimed_at = null "
            "WHERE channel = ? AND day = ? AND key = ?",
            (notice.channel, notice.day, notice.key),
            op="write",
        )


def _notice(row: Row) -> Notice:
    return Notice(
        channel=row["channel"],
        day=_day(row["day"]),
        key=row["key"],
        kind=row["kind"],
        contact=row["contact"],
        ref=row["ref"],
        option_id=row["option_id"],
        number=row["number"],
        body=row["body"],
        created_at=times.utc(row["created_at"]),
        state=row["state"],
        claimed_by=row["claimed_by"],
        claimed_at=times.utc(row["claimed_at"]) if row["claimed_at"] else None,
        attempts=row["attempts"] or 0,
        next_at=times.utc(row["next_at"]) if row["next_at"] else None,
        outcome=row["outcome"],
        settled_at=times.utc(row["settled_at"]) if row["settled_at"] else None,
    )


def _day(value: object) -> date:
    """A ``date`` column as a :class:`date` (the driver gives ``cassandra.util.Date``)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))
