"""What the SMS conversation remembers of a sender: the name it signs up under, and the
question its next text answers (which option? what name?), which expires.

Kept in Cassandra, not in a node's memory, so that any sms node can take the next message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from storage import validate
from storage.errors import ValidationError
from storage.flow import Query
from storage.registrations import MAX_NAME
from storage.session import Database, Row

MAX_PENDING = 2000


@dataclass(frozen=True)
class Sender:
    """A sender's remembered ``name`` (None: not known yet) and ``pending`` question."""

    phone: str
    name: str | None
    pending: dict[str, Any] | None


def sender_of(phone: str, rows: list[Row]) -> Sender:
    """What is remembered of ``phone``, from the rows of :meth:`SmsSenders.lookup`."""
    if not rows:
        return Sender(phone, None, None)
    question = rows[0]["pending"]
    return Sender(phone, rows[0]["name"], json.loads(question) if question else None)


class SmsSenders:
    """Read and update senders' conversation state."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @staticmethod
    def lookup(phone: str) -> Query:
        """The read of what is remembered of ``phone`` (its rows give :func:`sender_of`), to
        run where the caller runs its requests (the webhook awaits it on its IOLoop)."""
        return Query(
            "SELECT name, pending FROM sms_senders WHERE phone = ?", (_phone(phone),), "read"
        )

    def ask(self, phone: str, question: dict[str, Any], ttl_s: int) -> None:
        """Remember that ``phone``'s next text answers ``question`` (for ``ttl_s`` seconds)."""
        pending = json.dumps(question, separators=(",", ":"))
        if len(pending) > MAX_PENDING:
            raise ValidationError("pending", f"must be at most {MAX_PENDING} characters")
        self._db.execute(
            "UPDATE sms_senders USING TTL ? SET pending = ? WHERE phone = ?",
            (validate.integer("ttl_s", ttl_s, 1, 86_400), pending, _phone(phone)),
            op="write",
        )

    @staticmethod
    def settling(phone: str, name: str | None = None) -> Query:
        """The write that forgets ``phone``'s pending question and remembers ``name`` when
        given, to send with others (one batch)."""
        if name is None:
            return Query(
                "DELETE pending FROM sms_senders WHERE phone = ?", (_phone(phone),), "write"
            )
        return Query(
            "UPDATE sms_senders SET name = ?, pending = null WHERE phone = ?",
            (validate.text("name", name, max_len=MAX_NAME), _phone(phone)),
            "write",
        )


def _phone(phone: str) -> str:
    return validate.text("phone", phone, max_len=32)
