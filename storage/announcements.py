"""Announcements: one fan-out of notices to an event's registrants, done once for the cluster.

An announcement is keyed by what it tells (:func:`key_of`): the reminder the day before an
event, a new time or place, the event cancelled. The node that owes its notices first
:meth:`~Announcements.claim`\\ s it (a lightweight transaction: another node that tries the
same key is told no), owes one notice per registrant, all at the announcement's ``owed_at``
(so that owing one again lands on the same notice and changes nothing), then marks it
:meth:`~Announcements.done` with how many it owed by channel. A node that dies mid-way leaves
it ``owing``: once its claim is :data:`CLAIM_S` old another node takes it over
(:meth:`~Announcements.claim` again, or :meth:`~Announcements.take_over` for the sweep) and
finishes it. An announcement whose change did not apply (the node died before it) is
:meth:`~Announcements.void`\\ ed; claiming its key again (staff cancel once more) starts it
afresh. The rows double as the history the management UI shows.

Example::

    announcement = store.announcements.claim("reminder", event, f"{day}", node="hub")
    if announcement is not None:
        ...  # owe the notices, then
        store.announcements.done(announcement, {"sms": 3, "email": 2})
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from uuid import UUID

from storage import times, validate
from storage.events import Event
from storage.session import Database, Row

KINDS = ("reminder", "changed", "cancelled")
"""``reminder``: the day before the event; ``changed``: a new time or place; ``cancelled``:
staff cancelled the event."""
CLAIM_S = 120.0
"""An ``owing`` announcement claimed longer ago than this is taken to belong to a node that
died mid-way."""
_JOB = "announcements"
_CLAIMED = (
    "key", "kind", "event_id", "title", "starts_at", "location", "state", "claimed_by",
    "claimed_at", "owed_at",
)  # fmt: skip
_COLUMNS = (
    "key, kind, event_id, title, starts_at, location, state, claimed_by, claimed_at, owed_at, "
    "owed, done_at, detail"
)


def key_of(kind: str, event_id: UUID, what: str = "") -> str:
    """The key of the announcement of ``kind`` about the event; ``what`` tells apart the
    announcements of one kind (a reminder's local start date, a change's moment)."""
    validate.choice("kind", kind, KINDS)
    return f"{kind}:{event_id}" + (f":{what}" if what else "")


@dataclass(frozen=True)
class Announcement:
    """One fan-out, as recorded: the event as it announces it, and how far it got."""

    key: str
    kind: str
    event_id: UUID
    title: str
    starts_at: datetime
    location: str
    state: str
    claimed_by: str
    claimed_at: datetime
    owed_at: datetime
    """The moment every notice of it is owed at (the first claim's)."""
    owed: dict[str, int]
    """Notices owed by channel, once done."""
    done_at: datetime | None = None
    detail: str = ""
    """Why it is void."""

    def taken_over(self, now: datetime) -> bool:
        """Whether another node may take it over at ``now``."""
        return self.state == "owing" and now - self.claimed_at > timedelta(seconds=CLAIM_S)


class Announcements:
    """Claim, finish and list announcements."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, key: str) -> Announcement | None:
        """The announcement of ``key``, or None."""
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM announcements WHERE job = ? AND key = ?",
            (_JOB, validate.text("key", key, max_len=200)),
            op="signup",
        )
        return _announcement(rows[0]) if rows else None

    def claim(
        self, kind: str, event: Event, what: str, node: str, now: datetime | None = None
    ) -> Announcement | None:
        """Make ``node`` the one owing the announcement of ``kind`` about ``event`` (as it is
        announced: its title, start and place); None when it is done, or owing on a node
        (this one too: another request, another actor) whose claim is still in force. A
        ``void`` one (what it announced never happened) is claimed afresh."""
        now = times.now() if now is None else now
        key = key_of(kind, event.event_id, what)
        node = validate.text("node", node, max_len=48)
        claimed = Announcement(
            key, kind, event.event_id, event.title, event.starts_at, event.location,
            "owing", node, now, now, {},
        )  # fmt: skip
        rows = self._db.execute(
            f"INSERT INTO announcements (job, {', '.join(_CLAIMED)}) "
            f"VALUES (?, {', '.join('?' * len(_CLAIMED))}) IF NOT EXISTS",
            (_JOB, *(getattr(claimed, name) for name in _CLAIMED)),
            op="signup",
        )
        if rows[0]["[applied]"]:
            return claimed
        found = _announcement(rows[0])  # the row that is there
        if found.state == "void":  # what it announced never happened: announce it now
            return self._reclaim(found, claimed)
        return self.take_over(found, node, now) if found.taken_over(now) else None

    def _reclaim(self, void: Announcement, claimed: Announcement) -> Announcement | None:
        """Claim a ``void`` announcement's key again, afresh."""
        applied = self._db.execute(
            "UPDATE announcements SET title = ?, starts_at = ?, location = ?, state = 'owing', "
            "claimed_by = ?, claimed_at = ?, owed_at = ?, detail = '' "
            "WHERE job = ? AND key = ? IF state = 'void' AND claimed_at = ?",
            (
                claimed.title,
                claimed.starts_at,
                claimed.location,
                claimed.claimed_by,
                claimed.claimed_at,
                claimed.owed_at,
                _JOB,
                claimed.key,
                void.claimed_at,
            ),
            op="signup",
        )[0]["[applied]"]
        return claimed if applied else None

    def take_over(
        self, announcement: Announcement, node: str, now: datetime | None = None
    ) -> Announcement | None:
        """Claim an ``owing`` announcement whose node died; None when another node got it
        (or it changed) first. It keeps its ``owed_at``."""
        now = times.now() if now is None else now
        applied = self._db.execute(
            "UPDATE announcements SET claimed_by = ?, claimed_at = ? WHERE job = ? AND key = ? "
            "IF state = 'owing' AND claimed_at = ?",
            (node, now, _JOB, announcement.key, announcement.claimed_at),
            op="signup",
        )[0]["[applied]"]
        return replace(announcement, claimed_by=node, claimed_at=now) if applied else None

    def done(self, announcement: Announcement, owed: Mapping[str, int]) -> Announcement:
        """Record that every notice of it is owed: ``owed`` counts them by channel."""
        now = times.now()
        counts = {validate.text("channel", c, max_len=16): n for c, n in owed.items()}
        self._finish(announcement, "done", now, counts, "")
        return replace(announcement, state="done", owed=counts, done_at=now)

    def void(self, announcement: Announcement, reason: str) -> Announcement:
        """Record that it owes nothing: what it announces did not happen (``reason``)."""
        now = times.now()
        self._finish(announcement, "void", now, {}, reason[:300])
        return replace(announcement, state="void", done_at=now, detail=reason[:300])

    def _finish(
        self,
        announcement: Announcement,
        state: str,
        now: datetime,
        owed: dict[str, int],
        detail: str,
    ) -> None:
        self._db.execute(
            "UPDATE announcements SET state = ?, owed = ?, done_at = ?, detail = ? "
            "WHERE job = ? AND key = ?",
            (state, owed, now, detail, _JOB, announcement.key),
            op="signup",
        )

    def recent(self) -> list[Announcement]:
        """Every announcement kept (the last 90 days), newest first."""
        rows = self._db.stream(
            f"SELECT {_COLUMNS} FROM announcements WHERE job = ?", (_JOB,), op="read"
        )
        return sorted(map(_announcement, rows), key=lambda a: a.owed_at, reverse=True)


def _announcement(row: Row) -> Announcement:
    return Announcement(
        key=row["key"],
        kind=row["kind"],
        event_id=row["event_id"],
        title=row["title"],
        starts_at=times.utc(row["starts_at"]),
        location=row["location"] or "",
        state=row["state"],
        claimed_by=row["claimed_by"],
        claimed_at=times.utc(row["claimed_at"]),
        owed_at=times.utc(row["owed_at"]),
        owed=dict(row["owed"] or {}),
        done_at=times.utc(row["done_at"]),
        detail=row["detail"] or "",
    )
