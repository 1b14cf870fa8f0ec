"""The coordinator of one report run: splits the ring, hands ranges to the workers of every
worker node that is up, reduces their partials, and presents the total.

Work is handed out as it is asked for: each worker has at most :data:`IN_FLIGHT` ranges at a
time (the second waits in its mailbox, so a worker never idles between ranges), and a worker
that finishes early simply gets more. A range is counted once: its partial is added only when
its answer (every piece of it) has arrived, and a range answered twice (it was handed out
again after its worker seemed gone) is added the first time only.

When a worker fails (its node killed: the link fails its asks at once; its actor restarting;
a range read from every replica in vain) the ranges it held go back to the front of the queue
for the other workers; a worker left out is tried again after :data:`RETRY_WORKER_S`, as
its node may be back. A range that fails :data:`MAX_ATTEMPTS` times, or no worker at all for
:data:`NO_WORKER_S`, fails the run (:class:`ReportFailed`); a worker with other code for the
report fails it at once (:class:`WorkerMismatch`): its counts could not be trusted.

Runs on the caller's thread (the runner gives each run one); the link's futures carry the
asks, so one thread coordinates any number of workers.
"""

from __future__ import annotations

import concurrent.futures
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from node.context import NodeContext
from reports import pieces, ranges
from reports.definition import Partial, PresentContext, Report, ReportResult, add
from reports.errors import ReportFailed, WorkerMismatch
from reports.messages import RangeDone, ScanRange, TakePiece

WORKER_PATH = "root/worker/scan-{}"
IN_FLIGHT = 2
RANGE_TIMEOUT_S = 120.0
MAX_ATTEMPTS = 5
RETRY_WORKER_S = 2.0
NO_WORKER_S = 30.0
PROGRESS_S = 0.5


@dataclass
class Progress:
    """How far a run is: ranges counted of all, rows scanned, workers in use, ranges handed
    out again, and ranges read per Cassandra node."""

    ranges_total: int = 0
    ranges_done: int = 0
    rows: int = 0
    workers: int = 0
    reassigned: int = 0
    hosts: dict[str, int] = field(default_factory=dict)

    def as_data(self) -> dict[str, Any]:
        return {
            "ranges_total": self.ranges_total,
            "ranges_done": self.ranges_done,
            "rows": self.rows,
            "workers": self.workers,
            "reassigned": self.reassigned,
            "hosts": dict(self.hosts),
        }


@dataclass(frozen=True)
class Worker:
    """One worker actor: its node and path."""

    node: str
    path: str


@dataclass(frozen=True)
class _Item:
    """One range of one scan."""

    range_id: int
    scan: int
    token_range: ranges.TokenRange


def workers_of(context: NodeContext, limit: int = 0) -> list[Worker]:
    """The worker actors of the worker nodes that are up, spread over the nodes (each node's
    first, then each node's second, ...); at most ``limit`` of them (0: all)."""
    link = context.require_link()
    config = context.config
    nodes = [
        node.name
        for node in config.nodes.values()
        if "worker" in node.roles and link.is_up(node.name)
    ]
    found = [
        Worker(node, WORKER_PATH.format(i))
        for i in range(1, config.reports.workers_per_node + 1)
        for node in nodes
    ]
    return found[:limit] if limit > 0 else found


class Coordinator:
    """One run of ``report`` from this node; :meth:`run` returns its result.

    ``on_progress`` is called (on the run's thread) at most every :data:`PROGRESS_S` and once
    at the end; ``workers`` caps the worker actors used (0: every one that is up).
    """

    def __init__(
        self,
        context: NodeContext,
        report: Report,
        *,
        job: str | None = None,
        workers: int = 0,
        on_progress: Callable[[Progress], None] | None = None,
    ) -> None:
        self.context = context
        self.report = report
        self.job = job or str(uuid.uuid1())
        self.progress = Progress()
        self._limit = workers
        self._on_progress = on_progress or (lambda _: None)
        self._fingerprint = report.fingerprint()

    def run(self) -> ReportResult:
        """Scan, reduce, present; raise a :class:`~reports.errors.ReportError` on failure."""
        total = self.reduce()
        store = self.context.require_store()
        present = self.report.function(self.report.present)
        return present(total, PresentContext(store, self.context.config.site.time_zone))

    def reduce(self) -> Partial:
        """Every range's partial, added up."""
        config = self.context.config
        store = self.context.require_store()
        workers = workers_of(self.context, self._limit)
        if not workers:
            raise ReportFailed(self.report.name, "no worker node is up")
        split = ranges.split(store.db.ring(), config.reports.splits_per_worker * len(workers))
        queue = deque(
            _Item(scan * len(split) + i, scan, token_range)
            for scan in range(len(self.report.scans))
            for i, token_range in enumerate(split)
        )
        self.progress.ranges_total = len(queue)
        self.progress.workers = len(workers)
        return self._schedule(queue, workers)

    def _schedule(self, queue: deque[_Item], workers: list[Worker]) -> Partial:
        link = self.context.require_link()
        total: Partial = {}
        done: set[int] = set()
        attempts: dict[int, int] = {}
        busy: dict[Worker, int] = dict.fromkeys(workers, 0)
        benched: dict[Worker, float] = {}
        flying: dict[concurrent.futures.Future[Any], tuple[Worker, _Item]] = {}
        no_worker_since: float | None = None
        reported = 0.0
        while len(done) < self.progress.ranges_total:
            now = time.monotonic()
            for worker, since in list(benched.items()):
                if now - since >= RETRY_WORKER_S and link.is_up(worker.node):
                    del benched[worker]
                    busy[worker] = 0
            for worker in busy:
                while queue and busy[worker] < IN_FLIGHT:
                    item = queue.popleft()
                    if item.range_id in done:
                        continue
                    flying[self._send(worker, item)] = (worker, item)
                    busy[worker] += 1
            self.progress.workers = len(busy)
            if not busy:
                no_worker_since = no_worker_since or now
                if now - no_worker_since > NO_WORKER_S:
                    raise ReportFailed(self.report.name, "no worker node has been up for 30 s")
            else:
                no_worker_since = None
            finished, _ = concurrent.futures.wait(
                list(flying), timeout=PROGRESS_S, return_when=concurrent.futures.FIRST_COMPLETED
            )
            for future in finished:
                worker, item = flying.pop(future)
                if worker in busy:  # (a worker taken back since may have had asks pending)
                    busy[worker] = max(0, busy[worker] - 1)
                try:
                    answer = future.result()
                    partial = self._partial(worker, answer)
                except WorkerMismatch:
                    raise
                except Exception as exc:  # the worker, its node or Cassandra failed
                    self._failed(item, exc, attempts, queue, done)
                    if worker in busy:
                        del busy[worker]
                        benched[worker] = time.monotonic()
                    continue
                if item.range_id not in done:
                    done.add(item.range_id)
                    add(total, partial)
                    self.progress.ranges_done = len(done)
                    self.progress.rows += answer.rows
                    self.progress.hosts[answer.host] = self.progress.hosts.get(answer.host, 0) + 1
            if time.monotonic() - reported >= PROGRESS_S:
                reported = time.monotonic()
                self._on_progress(self.progress)
        for future in flying:  # ranges handed out twice whose first answer has come
            future.cancel()
        self._on_progress(self.progress)
        return total

    def _send(self, worker: Worker, item: _Item) -> concurrent.futures.Future[Any]:
        order = ScanRange(
            job=self.job,
            report=self.report.name,
            fingerprint=self._fingerprint,
            scan=item.scan,
            range_id=item.range_id,
            start=item.token_range.start,
            end=item.token_range.end,
            replicas=list(item.token_range.replicas),
            page_rows=self.context.config.reports.page_rows,
            piece_bytes=pieces.budget(self.context.config.link.max_frame_bytes),
        )
        link = self.context.require_link()
        try:
            return link.ask_future(worker.node, worker.path, order, timeout=RANGE_TIMEOUT_S)
        except Exception as exc:  # the node went down since it was counted in
            failed: concurrent.futures.Future[Any] = concurrent.futures.Future()
            failed.set_exception(exc)
            return failed

    def _partial(self, worker: Worker, answer: Any) -> Partial:
        if not isinstance(answer, RangeDone) or answer.job != self.job:
            raise ReportFailed(self.report.name, f"{worker.node} answered {type(answer).__name__}")
        partial = pieces.unpack(answer.piece)
        link = self.context.require_link()
        for index in range(1, answer.pieces):
            piece = link.ask(
                worker.node,
                worker.path,
                TakePiece(job=self.job, range_id=answer.range_id, index=index),
                timeout=RANGE_TIMEOUT_S,
            )
            add(partial, pieces.unpack(piece))
        return partial

    def _failed(
        self,
        item: _Item,
        exc: BaseException,
        attempts: dict[int, int],
        queue: deque[_Item],
        done: set[int],
    ) -> None:
        if item.range_id in done:
            return
        attempts[item.range_id] = attempts.get(item.range_id, 0) + 1
        if attempts[item.range_id] >= MAX_ATTEMPTS:
            raise ReportFailed(
                self.report.name,
                f"range {item.range_id} failed {MAX_ATTEMPTS} times; the last time: "
                f"{type(exc).__name__}: {exc}",
            )
        self.progress.reassigned += 1
        queue.appendleft(item)
