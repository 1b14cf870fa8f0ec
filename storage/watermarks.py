"""Job watermarks: when each scheduled job last completed successfully.

A watermark only moves forward: it is written with the watermark itself as the write
timestamp, so an older value written late (a slow or duplicate job run) never wins.
"""

from __future__ import annotations

from datetime import datetime

from storage import times, validate
from storage.session import Database

_JOB = 64


class JobWatermarks:
    """Read and advance job watermarks."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, job: str) -> datetime | None:
        """The job's last successful run, or None if it never succeeded."""
        rows = self._db.execute(
            "SELECT last_success FROM job_watermarks WHERE job = ?",
            (validate.text("job", job, max_len=_JOB),),
        )
        return times.utc(rows[0]["last_success"]) if rows else None

    def advance(self, job: str, at: datetime, note: str = "") -> None:
        """Record a successful run up to ``at`` (ignored if a later one is recorded)."""
        at = validate.moment("at", at)
        micros = int(at.timestamp()) * 1_000_000 + at.microsecond
        self._db.execute(
            "INSERT INTO job_watermarks (job, last_success, note) VALUES (?, ?, ?) "
            "USING TIMESTAMP ?",
            (
                validate.text("job", job, max_len=_JOB),
                at,
                validate.text("note", note, max_len=500, required=False),
                micros,
            ),
            op="write",
        )

    def all(self) -> dict[str, datetime]:
        """Every job's watermark."""
        rows = self._db.stream("SELECT job, last_success FROM job_watermarks", op="report")
        return {row["job"]: times.utc(row["last_success"]) for row in rows}
