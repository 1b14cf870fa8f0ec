"""A report worker: scans the token ranges it is handed, maps their rows and sends back each
range's partial (``root/worker/scan-N`` on nodes with the ``worker`` role).

A range is read from its replicas in order, up ones first: when a Cassandra node fails mid-
range the range is read again, from the start, at the next replica, so its partial never
counts a row twice. Pieces of a partial beyond the first wait here until the coordinator
takes them (at most :data:`PIECES_KEPT_S`). Several workers run on one node: each scans on
its own thread, and while one waits for Cassandra's next page another maps its rows.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from actors.actor import GatherActor
from node.context import NodeContext
from reports import catalog, pieces
from reports.definition import MapContext, Partial, Report
from reports.errors import ReportFailed, WorkerMismatch
from reports.messages import RangeDone, ScanRange, TakePiece
from storage.errors import CassandraUnavailable

log = logging.getLogger("gather.reports")

PIECES_KEPT_S = 600.0


class ScanActor(GatherActor):
    """Answers :class:`ScanRange` with :class:`RangeDone` and :class:`TakePiece` with bytes."""

    def __init__(self, context: NodeContext) -> None:
        super().__init__()
        self.context = context
        self._kept: dict[tuple[str, int], tuple[float, list[bytes]]] = {}

    def on_receive(self, message: Any) -> Any:
        match message:
            case ScanRange():
                return self._scan(message)
            case TakePiece(job=job, range_id=range_id, index=index):
                kept = self._kept.get((job, range_id))
                if kept is None or not 0 < index <= len(kept[1]):
                    raise ReportFailed(job, f"no piece {index} of range {range_id} is kept")
                return kept[1][index - 1]
            case _:
                raise ValueError(f"unexpected message {message!r}")

    def _scan(self, order: ScanRange) -> RangeDone:
        report = self._report(order)
        scan = report.scans[order.scan]
        map_rows = report.function(scan.map)
        db = self.context.require_store().db
        context = MapContext(contact_hash=pieces.contact_hasher(self.context.cookie, order.job))
        hosts = sorted(order.replicas, key=lambda host: not db.is_host_up(host))
        failure: CassandraUnavailable | None = None
        for host in hosts:
            acc: dict[Any, Any] = {}
            rows = 0
            try:
                for page in db.scan_pages(
                    scan.cql(), (order.start, order.end), order.page_rows, host
                ):
                    map_rows(acc, page, context)
                    rows += len(page)
            except CassandraUnavailable as exc:
                log.info(
                    "range %d of %s not read from %s: %s", order.range_id, order.report, host, exc
                )
                failure = exc
                continue
            partial: Partial = report.function(report.combine)(acc) if report.combine else acc
            return self._range_done(order, rows, host, partial)
        raise failure or CassandraUnavailable(f"range {order.range_id} has no replica")

    def _report(self, order: ScanRange) -> Report:
        report = catalog.find(order.report)
        name = self.context.name
        if report is None:
            raise WorkerMismatch(name, order.report, "this node has no such report (older code?)")
        if report.fingerprint() != order.fingerprint:
            raise WorkerMismatch(
                name, order.report, "this node's definition differs (another release)"
            )
        if not 0 <= order.scan < len(report.scans):
            raise WorkerMismatch(name, order.report, f"it has no scan {order.scan}")
        return report

    def _range_done(self, order: ScanRange, rows: int, host: str, partial: Partial) -> RangeDone:
        packed = pieces.pack(partial, order.piece_bytes)
        now = time.monotonic()
        self._kept = {
            key: kept for key, kept in self._kept.items() if now - kept[0] < PIECES_KEPT_S
        }
        if len(packed) > 1:
            self._kept[(order.job, order.range_id)] = (now, packed[1:])
        return RangeDone(
            job=order.job,
            range_id=order.range_id,
            rows=rows,
            host=host,
            pieces=len(packed),
            piece=packed[0],
        )
