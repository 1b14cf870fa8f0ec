"""The report runner of a worker node (``root/worker/runner``): starts runs with this node as
their coordinator, answers how they are going, and starts the nightly run.

A run goes on a thread of its own (:class:`~reports.coordinator.Coordinator`), so the runner
answers :class:`~reports.messages.RunStatus` while it runs; its row in ``report_runs`` is
written as it starts, every half second of progress, and at its end (result or error), so
that any node's management UI shows it. A run whose coordinator dies with its node stays
``running`` in its row and reads as ``stalled`` a minute later; it is simply run again.

**The nightly run.** Every :data:`CHECK_S` seconds (and at start, so a node that was off
catches up) the runner asks whether tonight's run is due: ``reports.run_at`` on the site's
clock has passed since the watermark ``reports`` (``job_watermarks``). The worker node that
claims the night (``job_claims``: job ``reports``, period the night's date, as the digest
claims its periods) runs every report one after the other and then moves the watermark;
the others leave it. A claimer that dies leaves its claim to expire after
:data:`CLAIM_TTL_S`, and the night is run by another node.
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from actors.ticker import TickingActor
from node.context import NodeContext
from reports import catalog
from reports.coordinator import Coordinator, Progress
from reports.definition import Report
from reports.errors import NoWorkerNode, ReportError
from reports.messages import RunStatus, StartReport
from storage.errors import StorageError
from storage.report_runs import ReportRun

log = logging.getLogger("gather.reports")

RUNNER = "root/worker/runner"
NIGHTLY_JOB = "reports"
CHECK_S = 30.0
CLAIM_TTL_S = 3600


@dataclass
class _Live:
    """A run of this node's: its row as last known, kept in memory while the node lives."""

    run: ReportRun
    progress: Progress


class RunnerActor(TickingActor):
    """Runs reports with this node as coordinator; the nightly run when it is due."""

    def __init__(self, context: NodeContext, check_s: float = CHECK_S) -> None:
        super().__init__()
        self.context = context
        self._check_s = check_s
        self._live: dict[UUID, _Live] = {}
        self._lock = threading.Lock()
        self._nightly: threading.Thread | None = None

    def on_start(self) -> None:
        self.actor_ref.tell("check")
        self.start_ticking("check", self._check_s, "reports-ticks")

    def on_receive(self, message: Any) -> Any:
        match message:
            case StartReport(name=name, trigger=trigger, workers=workers):
                report = catalog.get(name)
                return self.start_run(report, trigger, workers).as_data()
            case RunStatus(name=name, run_id=run_id):
                return self.status(name, UUID(run_id))
            case "check":
                self._check_nightly()
                return None
            case _:
                raise ValueError(f"unexpected message {message!r}")

    def start_run(
        self, report: Report, trigger: str, workers: int = 0, period: str | None = None
    ) -> ReportRun:
        """Record a run of ``report`` and start it on a thread of its own."""
        run = self._begin(report, trigger, period)
        threading.Thread(
            target=self._execute,
            args=(report, run, workers),
            name=f"report-{report.name}",
            daemon=True,
        ).start()
        return run

    def status(self, name: str, run_id: UUID) -> dict[str, Any]:
        """The run as data: live while it runs here, else as stored."""
        with self._lock:
            live = self._live.get(run_id)
        if live is not None:
            return _with_progress(live.run, live.progress).as_data()
        run = self.context.require_store().report_runs.get(name, run_id)
        if run is None:
            raise ReportError(f"no run {run_id} of report {name!r}")
        return run.as_data()

    def _begin(self, report: Report, trigger: str, period: str | None) -> ReportRun:
        store = self.context.require_store()
        run = store.report_runs.start(report.name, uuid.uuid1(), trigger, self.context.name, period)
        with self._lock:
            self._live[run.run_id] = _Live(run, Progress())
        log.info("report %s started (%s), run %s", report.name, trigger, run.run_id)
        return run

    def _execute(self, report: Report, run: ReportRun, workers: int) -> ReportRun:
        """Run ``report``; record its end; the run as it ended (on the run's thread)."""
        runs = self.context.require_store().report_runs
        live = self._live[run.run_id]

        def record(progress: Progress) -> None:
            live.progress = progress
            try:
                runs.progress(
                    report.name,
                    run.run_id,
                    ranges_total=progress.ranges_total,
                    ranges_done=progress.ranges_done,
                    rows=progress.rows,
                    workers=progress.workers,
                    reassigned=progress.reassigned,
                    hosts=progress.hosts,
                )
            except StorageError as exc:  # progress is shown late; the run goes on
                log.info("progress of run %s not recorded: %s", run.run_id, exc)

        coordinator = Coordinator(
            self.context, report, job=str(run.run_id), workers=workers, on_progress=record
        )
        result = error = None
        try:
            result = coordinator.run().as_data()
        except (ReportError, StorageError) as exc:
            error = str(exc)
        except Exception as exc:  # a bug in a report's functions: recorded, the node goes on
            log.exception("report %s failed", report.name)
            error = f"{type(exc).__name__}: {exc}"
        record(coordinator.progress)
        try:
            runs.finish(report.name, run.run_id, result=result, error=error)
        except StorageError as exc:
            log.warning("the end of run %s not recorded: %s", run.run_id, exc)
        state = "failed" if error is not None else "done"
        ended = replace(
            _with_progress(run, coordinator.progress), state=state, error=error, result=result
        )
        live.run = ended
        log.info(
            "report %s %s: %d ranges, %d rows, %d workers%s",
            report.name,
            state,
            coordinator.progress.ranges_done,
            coordinator.progress.rows,
            coordinator.progress.workers,
            f" ({error})" if error else "",
        )
        return ended

    def _check_nightly(self) -> None:
        store = self.context.store
        config = self.context.config
        busy = self._nightly is not None and self._nightly.is_alive()
        if store is None or busy or not config.reports.nightly:
            return
        zone = ZoneInfo(config.site.time_zone)
        night, slot = due_night(datetime.now(zone), config.reports.run_at)
        try:
            watermark = store.watermarks.get(NIGHTLY_JOB)
            if watermark is not None and watermark >= slot:
                return
            if not store.job_claims.claim(
                NIGHTLY_JOB, night.isoformat(), self.context.name, CLAIM_TTL_S
            ):
                return
        except StorageError as exc:
            log.warning("nightly reports not checked this time: %s", exc)
            return
        self._nightly = threading.Thread(
            target=self._run_nightly, args=(night, slot), name="reports-nightly", daemon=True
        )
        self._nightly.start()

    def _run_nightly(self, night: date, slot: datetime) -> None:
        log.info("nightly reports of %s started", night.isoformat())
        for report in catalog.all_reports():
            try:
                run = self._begin(report, "nightly", night.isoformat())
            except StorageError as exc:
                log.warning("nightly report %s not started: %s", report.name, exc)
                continue
            self._execute(report, run, 0)
        try:
            self.context.require_store().watermarks.advance(
                NIGHTLY_JOB, slot, "nightly reports run"
            )
        except StorageError as exc:  # the claim still holds the night: not run twice
            log.warning("nightly reports' watermark not moved: %s", exc)


def coordinator_node(context: NodeContext) -> str:
    """The node that coordinates a run started on ``context``'s node: this one when it has the
    worker role, else the first worker node of cluster.yaml whose link is up. Raises
    :class:`NoWorkerNode` saying why there is none."""
    if "worker" in context.node.roles:
        return context.name
    workers = [name for name, node in context.config.nodes.items() if "worker" in node.roles]
    if not workers:
        raise NoWorkerNode("no node of cluster.yaml has the worker role")
    link = context.link
    if link is None:
        raise NoWorkerNode(f"the node link of {context.name} is not running")
    for name in workers:
        if link.is_up(name):
            return name
    raise NoWorkerNode(f"no worker node is up (the link to {', '.join(workers)} is down)")


def due_night(now: datetime, run_at: Any) -> tuple[date, datetime]:
    """The night whose run is due at ``now`` (an aware time on the site's clock): its date,
    and the moment it became due (``run_at`` that day)."""
    slot = datetime.combine(now.date(), run_at, tzinfo=now.tzinfo)
    if now < slot:
        slot = datetime.combine(now.date() - timedelta(days=1), run_at, tzinfo=now.tzinfo)
    return slot.date(), slot


def _with_progress(run: ReportRun, progress: Progress) -> ReportRun:
    return replace(
        run,
        ranges_total=progress.ranges_total,
        ranges_done=progress.ranges_done,
        rows=progress.rows,
        workers=progress.workers,
        reassigned=progress.reassigned,
        hosts=dict(progress.hosts),
    )
