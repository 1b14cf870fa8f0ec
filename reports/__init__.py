"""Reports computed map-reduce style across the worker nodes (docs/reports.md).

A report (:class:`Report`) is data: the tables it scans, a map function per table, an
optional combine on the worker, and a present function, all named ``"module:function"``.
A :class:`Coordinator` on any node splits the token ring into ranges, hands them to the
report workers of every worker node that is up (``root/worker/scan-N``), adds up the
partials they send back and presents the total as a :class:`ReportResult`.

Example (on a running node; the shell's ``report events`` does the same)::

    result = Coordinator(context, catalog.get("events")).run()
    for table in result.tables:
        print(table.title, len(table.rows))

Thread safety: a Coordinator runs on its caller's thread, one run each; the catalog is
filled at import and read-only after.
"""

from reports import catalog
from reports.coordinator import Coordinator, Progress
from reports.definition import (
    Chart,
    MapContext,
    Partial,
    PresentContext,
    Report,
    ReportResult,
    Scan,
    Table,
)
from reports.errors import NoWorkerNode, ReportError, ReportFailed, UnknownReport, WorkerMismatch

__all__ = [
    "Chart",
    "Coordinator",
    "MapContext",
    "NoWorkerNode",
    "Partial",
    "PresentContext",
    "Progress",
    "Report",
    "ReportError",
    "ReportFailed",
    "ReportResult",
    "Scan",
    "Table",
    "UnknownReport",
    "WorkerMismatch",
    "catalog",
]
