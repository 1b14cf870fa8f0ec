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
from storage.registrations import MAX_NAME
from storage.session import Database

MAX_PENDING = 2000


@dataclass(frozen=True)
class Sender:
    """A sender's remembered ``name`` (None: not known yet) and ``pending`` question."""

    phone: str
    name: str | None
    pending: dict[str, Any] | None


class SmsSenders:
    """Read and update senders' conversation state."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, phone: str) -> Sender:
        """What is remembered of ``phone`` (an E.164 number)."""
        rows = self._db.execute(
            "SELECT name, pending FROM sms_senders WHERE phone = ?", (_phone(phone),)
        )
        if not rows:
            return Sender(phone, None, None)
        pending = rows[0]["pending"]
        return Sender(phone, rows[0]["name"], json.loads(pending) if pending else None)

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

    def settle(self, phone: str, name: str | None = None) -> None:
        """Forget ``phone``'s pending question; remember ``name`` when given."""
        if name is None:
            self._db.execute(
                "DELETE pending FROM sms_senders WHERE phone = ?", (_phone(phone),), op="write"
            )
            return
        self._db.execute(
            "UPDATE sms_senders SET name = ?, pending = null WHERE phone = ?",
            (validate.text("name", name, max_len=MAX_NAME), _phone(phone)),
            op="write",
        )


def _phone(phone: str) -> str:
    return validate.text("phone", phone, max_len=32)
