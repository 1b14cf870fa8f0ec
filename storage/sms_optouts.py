"""SMS opt-outs: phone numbers (E.164) that texted STOP and must get nothing more."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage import times, validate
from storage.flow import Query
from storage.session import Database


@dataclass(frozen=True)
class OptOut:
    """A number that opted out, with the keyword it sent and when."""

    phone: str
    keyword: str
    at: datetime


class SmsOptOuts:
    """Opt numbers out and in again; ask whether a number may be texted."""

    def __init__(self, db: Database, phone_region: str = validate.DEFAULT_REGION) -> None:
        self._db = db
        self._region = validate.phone_region(phone_region)

    def opt_out(self, phone: str, keyword: str = "STOP") -> OptOut:
        """Record that ``phone`` opted out (again: the latest keyword and time win)."""
        optout = OptOut(
            phone=validate.phone(phone, self._region),
            keyword=validate.text("keyword", keyword, max_len=32).upper(),
            at=times.now(),
        )
        self._db.execute(
            "INSERT INTO sms_optouts (phone, keyword, at) VALUES (?, ?, ?)",
            (optout.phone, optout.keyword, optout.at),
            op="write",
        )
        return optout

    def opt_in(self, phone: str) -> None:
        """``phone`` may be texted again (it sent START)."""
        self._db.execute(
            "DELETE FROM sms_optouts WHERE phone = ?",
            (validate.phone(phone, self._region),),
            op="write",
        )

    def is_opted_out(self, phone: str) -> bool:
        """Whether ``phone`` must not be texted."""
        return bool(self._db.query(self.lookup(phone)))

    def lookup(self, phone: str) -> Query:
        """The read behind :meth:`is_opted_out` (any row: opted out), to run where the caller
        runs its requests (the webhook awaits it on its IOLoop)."""
        return Query(
            "SELECT phone FROM sms_optouts WHERE phone = ?",
            (validate.phone(phone, self._region),),
            "read",
        )

    def list(self) -> list[OptOut]:
        """Every opted-out number."""
        rows = self._db.stream("SELECT phone, keyword, at FROM sms_optouts", op="report")
        return sorted(
            (OptOut(row["phone"], row["keyword"], times.utc(row["at"])) for row in rows),
            key=lambda optout: optout.phone,
        )
