"""Every SMS in and out, bucketed by UTC day so that "everything since a watermark" is a short
run of single-partition range scans, and logged by the member's number (``sms_by_number``).

A provider's message id is claimed once (:meth:`SmsMessages.claim`), so a retried webhook is
recognised rather than recorded twice. A message is stored as received: a body with control
characters, bytes that were not UTF-8 or more than :data:`MAX_BODY` characters is kept, escaped
(:func:`stored_form`), even though the conversation refuses it as a command.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from uuid import UUID

from cassandra.util import max_uuid_from_time, uuid_from_time

from storage import times, validate
from storage.flow import Query
from storage.session import Database, Row

DIRECTIONS = ("in", "out")
ACTIONS = (
    "events",
    "asked_option",
    "asked_name",
    "signed_up",
    "waitlisted",
    "refused",
    "status",
    "cancelled",
    "opted_out",
    "opted_in",
    "help",
    "needs_person",
    "unreadable",
    "ignored",
    "rate_limited",
    "reply",
    "code",
    "again",
    "promoted",
    "reminder",
    "changed",
    "event_cancelled",
)
"""What a message did. In: the conversation's outcome (``ignored``: from an opted-out number;
``needs_person``: not understood). Out: what it was (a ``reply``, or a notice's kind, a
cancelled event's being ``event_cancelled``: ``cancelled`` is a member's own cancellation)."""
MAX_BODY = 1600
"""The longest text a provider delivers (and the conversation reads as a command)."""
MAX_STORED = 8000
"""Stored bodies are cut here (after escaping), with a note of how much was cut."""
MAX_NUMBER = 32
MAX_PROVIDER_ID = 100
_COLUMNS = (
    "day, at, direction, from_number, to_number, body, provider_id, node, action, reply, handled"
)
_INSERT = (
    "INSERT INTO sms_messages (day, at, direction, from_number, to_number, body, provider_id, "
    "node, action, reply) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_BY_NUMBER = (
    "INSERT INTO sms_by_number (phone, at, day, direction, action) VALUES (?, ?, ?, ?, ?)"
)


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
    action: str | None = None
    reply: str | None = None
    handled: bool = False

    @classmethod
    def of_row(cls, row: Row) -> SmsMessage:
        """The message of a row of ``sms_messages``."""
        return cls(
            message_id=row["at"],
            at=times.of_uuid(row["at"]),
            direction=row["direction"],
            from_number=row["from_number"],
            to_number=row["to_number"],
            body=row["body"] or "",
            provider_id=row["provider_id"],
            node=row["node"],
            action=row["action"],
            reply=row["reply"],
            handled=bool(row["handled"]),
        )

    @property
    def member(self) -> str:
        """The member's number: the sender of a message in, the recipient of one out."""
        return self.from_number if self.direction == "in" else self.to_number


def claimed(message_id: UUID, rows: list[Row]) -> tuple[UUID, bool]:
    """What :meth:`SmsMessages.claiming`'s rows say: ``message_id`` and True when it was
    claimed now, else the id an earlier delivery claimed and False."""
    if rows[0]["[applied]"]:
        return message_id, True
    return rows[0]["at"], False


def _statements(
    messages: Sequence[SmsMessage], also: Sequence[Query]
) -> list[tuple[str, Sequence[object]]]:
    """The writes that store ``messages`` (each with its line of the log by number), then
    ``also``'s."""
    statements: list[tuple[str, Sequence[object]]] = []
    for message in messages:
        day = message.at.date()
        statements += [
            (
                _INSERT,
                (
                    day,
                    message.message_id,
                    message.direction,
                    message.from_number,
                    message.to_number,
                    message.body,
                    message.provider_id,
                    message.node,
                    message.action,
                    message.reply,
                ),
            ),
            (
                _INSERT_BY_NUMBER,
                (message.member, message.message_id, day, message.direction, message.action),
            ),
        ]
    return statements + [(write.cql, write.params) for write in also]


def stored_form(body: str) -> str:
    """``body`` as it is stored: bytes that were not UTF-8 (lone surrogates, as
    ``surrogateescape`` decodes them) as ``\\xNN``, control characters other than new lines
    and tabs as ``\\uNNNN``, and cut at :data:`MAX_STORED` characters with a note."""
    if body.isprintable() and len(body) <= MAX_STORED:
        return body
    out = []
    for ch in body:
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:
            out.append(f"\\x{code - 0xDC00:02x}")
        elif 0xD800 <= code <= 0xDFFF or (
            ch not in "\n\t" and unicodedata.category(ch) in ("Cc", "Cs")
        ):
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    text = "".join(out)
    if len(text) > MAX_STORED:
        text = f"{text[:MAX_STORED]} [{len(text) - MAX_STORED} more characters not kept]"
    return text


class SmsMessages:
    """Record messages and read them by time and by number."""

    def __init__(self, db: Database, node: str) -> None:
        self._db = db
        self._node = validate.text("node", node, max_len=48)

    def new(
        self,
        direction: str,
        from_number: str,
        to_number: str,
        body: str,
        provider_id: str | None = None,
        action: str | None = None,
        reply: str | None = None,
        message_id: UUID | None = None,
    ) -> SmsMessage:
        """A message of this node, validated, to :meth:`write` (``message_id``: the id a
        :meth:`claim` gave it; default a new one for now)."""
        if provider_id is not None:
            provider_id = validate.text("provider_id", provider_id, max_len=MAX_PROVIDER_ID)
        if action is not None:
            validate.choice("action", action, ACTIONS)
        message_id = uuid_from_time(times.now()) if message_id is None else message_id
        return SmsMessage(
            message_id=message_id,
            at=times.of_uuid(message_id),
            direction=validate.choice("direction", direction, DIRECTIONS),
            from_number=validate.text("from_number", from_number, max_len=MAX_NUMBER),
            to_number=validate.text("to_number", to_number, max_len=MAX_NUMBER),
            body=stored_form(body),
            provider_id=provider_id,
            node=self._node,
            action=action,
            reply=None if reply is None else stored_form(reply),
        )

    def claim(self, provider_id: str, at: datetime | None = None) -> tuple[UUID, bool]:
        """The id of the message the provider calls ``provider_id``: a new one, True; or the
        one an earlier delivery of it claimed, False (a lightweight transaction)."""
        query, message_id = self.claiming(provider_id, at)
        return claimed(message_id, self._db.query(query))

    @staticmethod
    def claiming(provider_id: str, at: datetime | None = None) -> tuple[Query, UUID]:
        """:meth:`claim`'s lightweight transaction and the new id it tries (its rows give
        :func:`claimed`), to run where the caller runs its requests (the webhook awaits it on
        its IOLoop)."""
        provider_id = validate.text("provider_id", provider_id, max_len=MAX_PROVIDER_ID)
        message_id = uuid_from_time(times.now() if at is None else validate.moment("at", at))
        query = Query(
            "INSERT INTO sms_provider_ids (provider_id, at) VALUES (?, ?) IF NOT EXISTS",
            (provider_id, message_id),
            "signup",
        )
        return query, message_id

    def write(self, *messages: SmsMessage, also: Sequence[Query] = ()) -> None:
        """Store messages (and their lines of the log by number) as one unlogged batch, with
        the writes ``also`` (what the messages did, e.g. a sender's name remembered)."""
        self._db.batch(_statements(messages, also), op="write")

    @staticmethod
    def writing(*messages: SmsMessage, also: Sequence[Query] = ()) -> Query:
        """:meth:`write`'s batch as one statement, to run where the caller runs its requests
        (the webhook awaits it on its IOLoop)."""
        statements = _statements(messages, also)
        cql = "; ".join(statement for statement, _ in statements)
        params = tuple(param for _, values in statements for param in values)
        return Query(f"BEGIN UNLOGGED BATCH {cql}; APPLY BATCH", params, "write")

    def record(
        self,
        direction: str,
        from_number: str,
        to_number: str,
        body: str,
        provider_id: str | None = None,
        at: datetime | None = None,
        action: str | None = None,
    ) -> tuple[SmsMessage, bool]:
        """Store a message; returns it and False when ``provider_id`` was already stored
        (the earlier message's id and time are kept; its row is written again, which
        completes a first attempt that stopped after its claim)."""
        at = times.now() if at is None else validate.moment("at", at)
        created, message_id = True, uuid_from_time(at)
        if provider_id is not None:
            message_id, created = self.claim(provider_id, at)
        message = self.new(
            direction, from_number, to_number, body, provider_id, action, message_id=message_id
        )
        self.write(message)
        return message, created

    def get(self, message_id: UUID) -> SmsMessage | None:
        """The stored message with this id, if its row was written."""
        return next(self._fetch([message_id]), None)

    def mark_handled(self, message_id: UUID, handled: bool = True) -> None:
        """Record that staff read a message that needed a person (or undo it)."""
        self._db.execute(
            "UPDATE sms_messages SET handled = ? WHERE day = ? AND at = ?",
            (handled, times.of_uuid(message_id).date(), message_id),
            op="write",
        )

    def since(self, watermark: datetime, until: datetime | None = None) -> Iterator[SmsMessage]:
        """Messages after ``watermark`` up to and including ``until`` (default: now), oldest
        first. A job should scan up to a little before now, then make ``until`` its watermark."""
        return map(SmsMessage.of_row, self.rows_since(watermark, until))

    def rows_since(self, watermark: datetime, until: datetime | None = None) -> Iterator[Row]:
        """:meth:`since`'s rows as read (:meth:`SmsMessage.of_row` makes one a message), for a
        scan that folds many and keeps few."""
        lower = validate.moment("watermark", watermark)
        upper = times.now() if until is None else validate.moment("until", until)
        after = max_uuid_from_time(lower.timestamp())
        through = max_uuid_from_time(upper.timestamp())
        day: date = lower.date()
        while day <= upper.date():
            yield from self._db.stream(
                f"SELECT {_COLUMNS} FROM sms_messages WHERE day = ? AND at > ? AND at <= ?",
                (day, after, through),
                op="read",
            )
            day += timedelta(days=1)

    def on_day(self, day: date, limit: int = 500) -> list[SmsMessage]:
        """The day's messages (UTC), newest first, at most ``limit``."""
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM sms_messages WHERE day = ? ORDER BY at DESC LIMIT ?",
            (day, validate.integer("limit", limit, 1, 10_000)),
        )
        return [SmsMessage.of_row(row) for row in rows]

    def of_number(self, phone: str, limit: int = 200) -> list[SmsMessage]:
        """The messages from and to ``phone`` (as stored), newest first, at most ``limit``."""
        rows = self._db.execute(
            "SELECT at FROM sms_by_number WHERE phone = ? LIMIT ?",
            (
                validate.text("phone", phone, max_len=MAX_NUMBER),
                validate.integer("limit", limit, 1, 10_000),
            ),
        )
        return list(self._fetch(row["at"] for row in rows))

    def needing_person(self, days: int = 7) -> list[SmsMessage]:
        """Messages of the last ``days`` UTC days that need a person and nobody handled,
        newest first."""
        today = times.now().date()
        found = []
        for back in range(validate.integer("days", days, 1, 366)):
            for row in self._db.stream(
                f"SELECT {_COLUMNS} FROM sms_messages WHERE day = ?",
                (today - timedelta(days=back),),
                op="read",
            ):
                if row["action"] == "needs_person" and not row["handled"]:
                    found.append(SmsMessage.of_row(row))
        return sorted(found, key=lambda message: message.at, reverse=True)

    def _fetch(self, message_ids: Iterable[UUID]) -> Iterator[SmsMessage]:
        """The messages with these ids, read concurrently, in the same order."""
        pending = [
            self._db.submit(
                f"SELECT {_COLUMNS} FROM sms_messages WHERE day = ? AND at = ?",
                (times.of_uuid(message_id).date(), message_id),
            )
            for message_id in message_ids
        ]
        for request in pending:
            rows = request.result()
            if rows:
                yield SmsMessage.of_row(rows[0])


def with_reply(message: SmsMessage, action: str, reply: str | None) -> SmsMessage:
    """``message`` with what it did and the reply it got."""
    validate.choice("action", action, ACTIONS)
    return replace(message, action=action, reply=None if reply is None else stored_form(reply))
