"""The history of digest runs: what each one covered, to whom it went and how it ended.

One partition per job (``digest``), newest first; a row is written once a run reached the
SMTP server (sent, even if some recipients were refused) or was given up, never before: the
watermark (:mod:`storage.watermarks`) says what has been covered, this table says what
staff were told.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from cassandra.util import uuid_from_time

from storage import times, validate
from storage.session import Database, Row

OUTCOMES = ("sent", "empty", "rejected")
"""``sent``: the server accepted it (for some recipients at least); ``empty``: nothing new
and an empty period sends nothing; ``rejected``: the server refused it for good (5xx)."""


@dataclass(frozen=True)
class DigestRun:
    """One digest run, as recorded."""

    at: datetime
    covers_from: datetime
    covers_to: datetime
    catch_up: bool
    recipients: tuple[str, ...]
    refused: dict[str, str]
    """Address -> the server's answer, for the recipients it refused."""
    outcome: str
    message_id: str | None
    node: str
    size_bytes: int


class DigestLog:
    """Record and list digest runs."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def record(
        self,
        *,
        job: str,
        covers_from: datetime,
        covers_to: datetime,
        catch_up: bool,
        recipients: Sequence[str],
        refused: Mapping[str, str],
        outcome: str,
        message_id: str | None,
        node: str,
        size_bytes: int,
    ) -> DigestRun:
        """Record one run, now."""
        run = DigestRun(
            at=times.now(),
            covers_from=validate.moment("covers_from", covers_from),
            covers_to=validate.moment("covers_to", covers_to),
            catch_up=catch_up,
            recipients=tuple(recipients),
            refused=dict(refused),
            outcome=validate.choice("outcome", outcome, OUTCOMES),
            message_id=message_id,
            node=validate.text("node", node, max_len=48),
            size_bytes=validate.integer("size_bytes", size_bytes, 0, 2**31 - 1),
        )
        self._db.execute(
            "INSERT INTO digests (job, at, covers_from, covers_to, catch_up, recipients, "
            "refused, outcome, message_id, node, size_bytes) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                validate.text("job", job, max_len=64),
                uuid_from_time(run.at),
                run.covers_from,
                run.covers_to,
                run.catch_up,
                list(run.recipients),
                run.refused,
                run.outcome,
                run.message_id,
                run.node,
                run.size_bytes,
            ),
            op="write",
        )
        return run

    def recent(self, job: str, limit: int = 50) -> list[DigestRun]:
        """The job's latest runs, newest first."""
        rows = self._db.execute(
            "SELECT at, covers_from, covers_to, catch_up, recipients, refused, outcome, "
            "message_id, node, size_bytes FROM digests WHERE job = ? LIMIT ?",
            (validate.text("job", job, max_len=64), validate.integer("limit", limit, 1, 1000)),
        )
        return [_run(row) for row in rows]


def _run(row: Row) -> DigestRun:
    return DigestRun(
        at=times.of_uuid(row["at"]),
        covers_from=times.utc(row["covers_from"]),
        covers_to=times.utc(row["covers_to"]),
        catch_up=bool(row["catch_up"]),
        recipients=tuple(row["recipients"] or ()),
        refused=dict(row["refused"] or {}),
        outcome=row["outcome"],
        message_id=row["message_id"],
        node=row["node"],
        size_bytes=row["size_bytes"] or 0,
    )
