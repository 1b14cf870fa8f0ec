"""The errors of reports, grouped by what a caller does about them.

::

    ReportError                  every report error (a DomainError: it crosses the link as itself)
    ├── UnknownReport            no report of that name here: fix the name (``known`` lists them)
    ├── WorkerMismatch           a worker runs other code for the report: upgrade that node
    ├── ReportFailed             the run could not finish (no worker up, a range that failed
    │                            on every try): run it again once the cause is fixed
    └── NoWorkerNode             no node can coordinate a run: start a worker node
"""

from __future__ import annotations

from typing import Any

from actors.errors import DomainError


class ReportError(DomainError):
    """The root of the reports' errors."""


class UnknownReport(ReportError, LookupError):
    """No report is named ``name``; ``known`` are the names there are."""

    def __init__(self, name: str, known: str = "") -> None:
        self.name = name
        self.known = known
        super().__init__(f"no report named {name!r}; the reports are: {known or 'none'}")

    def arguments(self) -> tuple[Any, ...]:
        return (self.name, self.known)


class WorkerMismatch(ReportError):
    """Worker ``worker`` has no code for report ``report``, or other code than the
    coordinator's (an older or newer release): its ranges cannot be counted."""

    def __init__(self, worker: str, report: str, detail: str) -> None:
        self.worker = worker
        self.report = report
        self.detail = detail
        super().__init__(f"worker {worker} cannot run report {report!r}: {detail}")

    def arguments(self) -> tuple[Any, ...]:
        return (self.worker, self.report, self.detail)


class ReportFailed(ReportError):
    """The run of report ``report`` stopped before every range was counted."""

    def __init__(self, report: str, detail: str) -> None:
        self.report = report
        self.detail = detail
        super().__init__(f"report {report!r} failed: {detail}")

    def arguments(self) -> tuple[Any, ...]:
        return (self.report, self.detail)


class NoWorkerNode(ReportError):
    """No node of cluster.yaml with the ``worker`` role is up to coordinate a run."""
