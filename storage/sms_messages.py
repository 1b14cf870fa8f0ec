"""Every SMS in and out, bucketed by UTC day so that "everything since a watermark" is a short
run of single-partition range scans; a provider's message id is stored once, so a retried
webhook is recognised rather than recorded twice."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from cassandra.util import max_uuid_from_time, uuid_from_time

from storage import times, validate
from storage.session import Database, Row

DIRECTIONS = ("in", "out")
MAX_BODY = 1600
MAX_NUMBER = 32
MAX_PROVIDER_ID = 100
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_UUID_EPOCH_TICKS = 0x01B21DD213814000
_COLUMNS = "day, at, direction, from_number, to_number, body, provider_id, node"


@dataclass(frozen=True)
class SmsMessage:
    """One stored message; ``message_id`` is its time-based id (``at`` is its time)."""

    message_id: UUID
    at: datetime
    direction: str
    from_number: str
    to_number: str
    body: str
    provider_id: str | None
    node: str


class SmsMessages:
    """Record messages and scan them by time."""

    def __init__(self, db: Database, node: str) -> None:
        self._db = db
        self._node = validate.text("node", node, max_len=48)

    def record(
        self,
        direction: str,
        from_number: str,
        to_number: str,
        body: str,
        provider_id: str | None = None,
        at: datetime | None = None,
    ) -> tuple[SmsMessage, bool]:
        """Store a message; returns it and False when ``provider_id`` was already stored
        (the earlier message's id and time are kept)."""
        direction = validate.choice("direction", direction, DIRECTIONS)
        from_number = validate.text("from_number", from_number, max_len=MAX_NUMBER)
        to_number = validate.text("to_number", to_number, max_len=MAX_NUMBER)
        body = validate.text("body", body, max_len=MAX_BODY, required=False, lines=True)
        if provider_id is not None:
            provider_id = validate.text("provider_id", provider_id, max_len=MAX_PROVIDER_ID)
        at = times.now() if at is None else validate.moment("at", at)
        message_id = uuid_from_time(at)
        created = True
        if provider_id is not None:
            claim = self._db.execute(
                "INSERT INTO sms_provider_ids (provider_id, at) VALUES (?, ?) IF NOT EXISTS",
                (provider_id, message_id),
                op="signup",
            )[0]
            if not claim["[applied]"]:
                created = False
                message_id = claim["at"]
        message = SmsMessage(
            message_id=message_id,
            at=_time_of(message_id),
            direction=direction,
            from_number=from_number,
            to_number=to_number,
            body=body,
            provider_id=provider_id,
            node=self._node,
        )
        # Written also for a duplicate: it completes a first attempt that stopped after its claim.
        self._db.execute(
            f"INSERT INTO sms_messages ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                message.at.date(),
                message_id,
                direction,
                from_number,
                to_number,
                body,
                provider_id,
                self._node,
            ),
            op="write",
        )
        return message, created

    def since(self, watermark: datetime, until: datetime | None = None) -> Iterator[SmsMessage]:
        """Messages after ``watermark`` up to and including ``until`` (default: now), oldest
        first. A job should scan up to a little before now, then make ``until`` its watermark."""
        lower = validate.moment("watermark", watermark)
        upper = times.now() if until is None else validate.moment("until", until)
        after = max_uuid_from_time(lower.timestamp())
        through = max_uuid_from_time(upper.timestamp())
        day: date = lower.date()
        while day <= upper.date():
            yield from map(
                _message,
                self._db.stream(
                    f"SELECT {_COLUMNS} FROM sms_messages WHERE day = ? AND at > ? AND at <= ?",
                    (day, after, through),
                    op="read",
                ),
            )
            day += timedelta(days=1)


def _time_of(message_id: UUID) -> datetime:
    """The time in a time-based UUID (100 ns ticks since 1582-10-15), to the microsecond."""
    return _EPOCH + timedelta(microseconds=(message_id.time - _UUID_EPOCH_TICKS) // 10)


def _message(row: Row) -> SmsMessage:
    return SmsMessage(
        message_id=row["at"],
        at=_time_of(row["at"]),
        direction=row["direction"],
        from_number=row["from_number"],
        to_number=row["to_number"],
        body=row["body"] or "",
        provider_id=row["provider_id"],
        node=row["node"],
    )
