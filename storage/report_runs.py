"""The runs of reports: who ran which report when, how far it got, and its result.

One partition per report, newest run first (``report_runs``); rows expire after a year. A
run is written when it starts (``running``), its progress while it goes (at most every half
second, plain writes), and its end: ``done`` with the result, or ``failed`` with the error.
A run whose coordinator died stays ``running``: :meth:`ReportRuns.get` shows it ``stalled``
once its progress is :data:`STALLED_S` old.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import msgpack

from storage import times, validate
from storage.session import Database, Row

STATES = ("running", "done", "failed", "stalled")
TRIGGERS = ("manual", "shell", "nightly")
STALLED_S = 60.0
_COLUMNS = (
    "report, run_id, trigger, period, node, state, started_at, updated_at, finished_at, "
    "ranges_total, "
    "ranges_done, rows_scanned, workers, reassigned, hosts, error"
)


@dataclass(frozen=True)
class ReportRun:
    """One run of a report, as recorded; ``result`` (plain data: see
    :meth:`reports.definition.ReportResult.as_data`) once it is done."""

    report: str
    run_id: UUID
    trigger: str
    node: str
    state: str
    started_at: datetime
    period: str | None = None
    finished_at: datetime | None = None
    ranges_total: int = 0
    ranges_done: int = 0
    rows: int = 0
    workers: int = 0
    reassigned: int = 0
    hosts: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    result: dict[str, Any] | None = None

    def as_data(self) -> dict[str, Any]:
        """The run as msgpack-able data (the shell, the link)."""
        return {
            "report": self.report,
            "run_id": str(self.run_id),
            "trigger": self.trigger,
            "node": self.node,
            "state": self.state,
            "started_at": self.started_at.isoformat(),
            "period": self.period,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "ranges_total": self.ranges_total,
            "ranges_done": self.ranges_done,
            "rows": self.rows,
            "workers": self.workers,
            "reassigned": self.reassigned,
            "hosts": dict(self.hosts),
            "error": self.error,
            "result": self.result,
        }


class ReportRuns:
    """Record and read report runs."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def start(
        self, report: str, run_id: UUID, trigger: str, node: str, period: str | None = None
    ) -> ReportRun:
        """Record a run that starts now."""
        run = ReportRun(  # validated here: the row is the first thing a run writes
            report=validate.text("report", report, max_len=64),
            run_id=run_id,
            trigger=validate.choice("trigger", trigger, TRIGGERS),
            node=validate.text("node", node, max_len=48),
            state="running",
            started_at=times.now(),
            period=period,
        )
        self._db.execute(
            "INSERT INTO report_runs (report, run_id, trigger, period, node, state, started_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (run.report, run_id, run.trigger, period, run.node, run.state, run.started_at),
            op="write",
        )
        return run

    def progress(
        self,
        report: str,
        run_id: UUID,
        *,
        ranges_total: int,
        ranges_done: int,
        rows: int,
        workers: int,
        reassigned: int,
        hosts: dict[str, int],
    ) -> None:
        """Record how far the run is."""
        self._db.execute(
            "UPDATE report_runs SET ranges_total = ?, ranges_done = ?, rows_scanned = ?, "
            "workers = ?, reassigned = ?, hosts = ?, updated_at = ? "
            "WHERE report = ? AND run_id = ?",
            (
                ranges_total,
                ranges_done,
                rows,
                workers,
                reassigned,
                hosts,
                times.now(),
                report,
                run_id,
            ),
            op="write",
        )

    def finish(
        self,
        report: str,
        run_id: UUID,
        *,
        result: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> None:
        """Record the run's end: its result, or the error that stopped it."""
        blob = None if result is None else zlib.compress(msgpack.packb(result, use_bin_type=True))
        self._db.execute(
            "UPDATE report_runs SET state = ?, finished_at = ?, result = ?, error = ? "
            "WHERE report = ? AND run_id = ?",
            (
                "failed" if error is not None else "done",
                times.now(),
                blob,
                None if error is None else error[:2000],
                report,
                run_id,
            ),
            op="write",
        )

    def get(self, report: str, run_id: UUID) -> ReportRun | None:
        """One run with its result, or None."""
        rows = self._db.execute(
            f"SELECT {_COLUMNS}, result FROM report_runs WHERE report = ? AND run_id = ?",
            (report, run_id),
        )
        return _run(rows[0], with_result=True) if rows else None

    def recent(self, report: str, limit: int = 10) -> list[ReportRun]:
        """The report's newest runs, without their results."""
        rows = self._db.execute(
            f"SELECT {_COLUMNS} FROM report_runs WHERE report = ? LIMIT ?",
            (report, validate.integer("limit", limit, 1, 1000)),
        )
        return [_run(row, with_result=False) for row in rows]

    def latest_done(self, report: str, limit: int = 20) -> ReportRun | None:
        """The newest of the report's last ``limit`` runs that is done, with its result."""
        for run in self.recent(report, limit):
            if run.state == "done":
                return self.get(report, run.run_id)
        return None


def _run(row: Row, *, with_result: bool) -> ReportRun:
    state = row["state"]
    seen = times.utc(row["updated_at"] or row["started_at"])
    if state == "running" and times.now() - seen > timedelta(seconds=STALLED_S):
        state = "stalled"
    blob = row.get("result") if with_result else None
    return ReportRun(
        report=row["report"],
        run_id=row["run_id"],
        trigger=row["trigger"],
        node=row["node"],
        state=state,
        started_at=times.utc(row["started_at"]),
        period=row["period"],
        finished_at=times.utc(row["finished_at"]),
        ranges_total=row["ranges_total"] or 0,
        ranges_done=row["ranges_done"] or 0,
        rows=row["rows_scanned"] or 0,
        workers=row["workers"] or 0,
        reassigned=row["reassigned"] or 0,
        hosts=dict(row["hosts"] or {}),
        error=row["error"],
        result=msgpack.unpackb(zlib.decompress(blob), raw=False) if blob else None,
    )
