"""The reports this node knows, by name: the built-in ones (:mod:`reports.builtin`) and any
registered later. A worker finds a coordinator's report here, by name: a name it does not
know means it runs other code (:class:`~reports.errors.WorkerMismatch`)."""

from __future__ import annotations

from reports.definition import Report
from reports.errors import UnknownReport

_REPORTS: dict[str, Report] = {}


def register(report: Report) -> Report:
    """Add ``report`` (a name may be registered once)."""
    if report.name in _REPORTS and _REPORTS[report.name] != report:
        raise ValueError(f"report {report.name!r} is already registered")
    _REPORTS[report.name] = report
    return report


def find(name: str) -> Report | None:
    """The report named ``name``, or None."""
    _load_builtin()
    return _REPORTS.get(name)


def get(name: str) -> Report:
    """The report named ``name``; :class:`UnknownReport` (naming the known ones) if none."""
    report = find(name)
    if report is None:
        raise UnknownReport(name, ", ".join(names()))
    return report


def names() -> list[str]:
    """Every report's name, in the order they were registered."""
    _load_builtin()
    return list(_REPORTS)


def all_reports() -> list[Report]:
    """Every report, in the order they were registered."""
    _load_builtin()
    return list(_REPORTS.values())


def _load_builtin() -> None:
    # Import cycle, accepted: the built-in reports register themselves here when imported,
    # and are imported on first use rather than at this module's import.
    import reports.builtin  # noqa: F401
