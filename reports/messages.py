"""The messages between a report's coordinator and the workers (``root/worker/scan-N``)
and its runner (``root/worker/runner``), over the node link (:mod:`node.wire`).

::

    coordinator                                   worker node
     │ ── ask(scan-N, ScanRange(job, report, fingerprint, scan, range, ...)) ──▶│
     │ ◀── RangeDone(job, range_id, rows, host, pieces, piece) ────────────────│ piece 0
     │ ── ask(scan-N, TakePiece(job, range_id, 1)) ───────────────────────────▶│ only when
     │ ◀── bytes ───────────────────────────────────────────────────────────────│ pieces > 1
"""

from __future__ import annotations

from node.wire import message


@message("report_scan_range")
class ScanRange:
    """Scan tokens ``(start, end]`` of scan ``scan`` of report ``report`` for run ``job``."""

    job: str
    report: str
    fingerprint: str
    scan: int
    range_id: int
    start: int
    end: int
    replicas: list[str]
    page_rows: int
    piece_bytes: int


@message("report_range_done")
class RangeDone:
    """A range counted: its rows, the Cassandra node that served it, and the first of the
    ``pieces`` pieces of its partial (the others kept for :class:`TakePiece`)."""

    job: str
    range_id: int
    rows: int
    host: str
    pieces: int
    piece: bytes


@message("report_take_piece")
class TakePiece:
    """Piece ``index`` (from 1) of a range's partial; the answer is the piece's bytes."""

    job: str
    range_id: int
    index: int


@message("report_start")
class StartReport:
    """Run report ``name`` with this node as coordinator; answered with the run's
    :class:`~storage.report_runs.ReportRun` as data. ``workers``: at most this many worker
    actors (0: all of every worker node that is up)."""

    name: str
    trigger: str = "manual"
    workers: int = 0


@message("report_status")
class RunStatus:
    """The run ``run_id`` of report ``name`` as this node's runner sees it (its progress while
    it runs here, else its stored row); answered with the run as data."""

    name: str
    run_id: str
