"""The Reports pages: every report with its latest runs and "Run now", one run (its progress
while it runs, its figures, tables and charts once done) and each table as CSV.

A run is started on a node with the ``worker`` role, its coordinator: this node when it has
the role, else the first worker node of cluster.yaml whose link is up, asked over the node
link (off the IOLoop) with :class:`~reports.messages.StartReport`. The runs are read from
Cassandra (``report_runs``, :mod:`storage.report_runs`), where the coordinator writes its
progress every half second, so any web node shows any run; a running run's page reloads
itself every second (a ``<meta>`` refresh: the site has no JavaScript).

Charts are drawn here, on the server, as inline SVG (:func:`bar_chart`); titles, labels and
cells are staff-entered text, which the templates only ever autoescape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from actors.errors import ActorError, DomainError
from node.context import NodeContext
from node.errors import LinkError, RemoteError, describe
from reports import catalog
from reports.definition import Report
from reports.errors import NoWorkerNode
from reports.messages import StartReport
from reports.runner import RUNNER, coordinator_node
from storage.report_runs import ReportRun
from storage.store import Store
from web.admin.base import Admin
from web.admin.registrations import csv_pieces
from web.base import Refusal

RECENT_RUNS = 5
"""Runs the Reports page lists per report, newest first."""
NIGHTLY_LOOKBACK = 50
"""Runs read per report to find its latest nightly one (manual runs may come after it)."""
START_TIMEOUT_S = 10.0
"""How long "Run now" waits for the runner to record the run and answer it."""
TABLE_ROWS = 200
"""Rows of a table shown on a run's page; the CSV has them all."""
CHART_BARS = 100
"""Bars drawn of a chart; the rest are counted under it."""
LABEL_CHARS = 60
"""Characters of a bar's label drawn (the whole label is its tooltip)."""
REFRESH_S = 1
"""How often a running run's page reloads itself, in seconds."""

START_FAILURES = (ActorError, DomainError, LinkError, TimeoutError)
"""What asking a runner to start a run may raise when it did not start one."""
TRIGGER_WORDS = {"manual": "manual", "shell": "operator shell", "nightly": "nightly"}
"""How the pages name what started a run."""


class NoWorker(Exception):
    """No node could coordinate a run; the message says why (``uncertain``: it may have
    started one all the same)."""

    def __init__(self, reason: str, uncertain: bool = False) -> None:
        super().__init__(reason)
        self.uncertain = uncertain


def worker_node(context: NodeContext) -> str:
    """The node that coordinates a run started here (:func:`reports.runner.coordinator_node`).
    Raises :class:`NoWorker`."""
    try:
        return coordinator_node(context)
    except NoWorkerNode as exc:
        raise NoWorker(str(exc)) from None


def start_run(context: NodeContext, name: str) -> dict[str, Any]:
    """Have a worker node (:func:`worker_node`) start report ``name``; the run as data
    (:meth:`storage.report_runs.ReportRun.as_data`). Blocks: run it off the IOLoop."""
    node = worker_node(context)
    try:
        link = context.require_link()
        run: dict[str, Any] = link.ask(
            node, RUNNER, StartReport(name, "manual"), timeout=START_TIMEOUT_S
        )
    except TimeoutError as exc:
        raise NoWorker(
            f"the report runner on {node} did not answer within {START_TIMEOUT_S:g} s",
            uncertain=True,
        ) from exc
    except START_FAILURES as exc:
        raise NoWorker(
            f"the report runner on {node} failed ({describe(exc)})",
            uncertain=isinstance(exc, RemoteError),
        ) from exc
    return run


def report_of(name: str) -> Report:
    """The report named ``name``, or a 404 that says so."""
    report = catalog.find(name)
    if report is None:
        raise Refusal(404, f"There is no report named {name!r}.")
    return report


@dataclass(frozen=True)
class Bar:
    """One bar of a chart as drawn: its label (shortened), the whole label, its value, and
    its length in percent of the chart's width."""

    label: str
    full_label: str
    value: int
    percent: float


@dataclass(frozen=True)
class BarChart:
    """A chart as the run's page draws it: horizontal bars scaled to the largest value."""

    title: str
    bars: tuple[Bar, ...]
    height: int
    hidden: int
    """Bars of the chart left undrawn (over :data:`CHART_BARS`)."""
    largest: int

    ROW = 40
    """Pixels per bar: its label's line, then the bar with its value."""
    BAR = 16
    """The bar's thickness in pixels."""
    LONGEST = 82.0
    """The largest value's bar, in percent of the width (the rest holds its value)."""

    @property
    def all_zero(self) -> bool:
        return bool(self.bars) and self.largest <= 0

    def describe(self) -> str:
        """The chart in a sentence, for screen readers."""
        if not self.bars:
            return "No values to chart."
        count = len(self.bars) + self.hidden
        top = max(self.bars, key=lambda bar: bar.value)
        return (
            f"{count} bar{'' if count == 1 else 's'}; the largest is {top.full_label}, {top.value}."
        )


def bar_chart(chart: dict[str, Any]) -> BarChart:
    """The drawing of a result's chart (``{"title", "bars": [[label, value], ...]}``)."""
    pairs = [(str(label), _whole(value)) for label, value in chart.get("bars", ())]
    shown = pairs[:CHART_BARS]
    largest = max((value for _, value in shown), default=0)
    bars = tuple(
        Bar(
            label=label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…",
            full_label=label,
            value=value,
            percent=round(BarChart.LONGEST * max(value, 0) / largest, 2) if largest > 0 else 0.0,
        )
        for label, value in shown
    )
    height = max(len(bars), 1) * BarChart.ROW + 4
    return BarChart(str(chart.get("title", "")), bars, height, len(pairs) - len(shown), largest)


def _whole(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def slug(text: str) -> str:
    """``text`` for a file name: lower-case ASCII letters and digits between dashes."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60].strip("-")


class ReportsAdmin(Admin):
    """A Reports page: times in the site's zone, how runs are named."""

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.context.config.site.time_zone)

    def get_template_namespace(self) -> dict[str, Any]:
        """``local`` (a moment in the site's zone), ``zone`` (its name), ``trigger`` (what
        started a run, in words)."""
        return super().get_template_namespace() | {
            "local": self.local,
            "zone": self.zone.key,
            "trigger": trigger_text,
        }

    def local(self, moment: datetime | None) -> str:
        """``moment`` in the site's time zone, to the second (empty for None)."""
        if moment is None:
            return ""
        return moment.astimezone(self.zone).strftime("%Y-%m-%d %H:%M:%S")

    async def run_of(self, name: str, raw_id: str) -> ReportRun:
        """Run ``raw_id`` of report ``name``, or a 404 that says what is missing."""
        report = report_of(name)
        try:
            run_id = UUID(raw_id)
        except ValueError:
            raise Refusal(
                404, f"There is no run {raw_id} of the report {report.title!r}."
            ) from None
        run = await self.storage(lambda s: s.report_runs.get(report.name, run_id))
        if run is None:
            raise Refusal(404, f"There is no run {raw_id} of the report {report.title!r}.")
        return run

    async def render_list(self, problem: str = "") -> None:
        """The Reports page, with ``problem`` (why a run did not start) on top."""

        def runs(store: Store) -> list[tuple[Report, list[ReportRun], ReportRun | None]]:
            found = []
            for report in catalog.all_reports():
                recent = store.report_runs.recent(report.name, NIGHTLY_LOOKBACK)
                nightly = next((r for r in recent if r.trigger == "nightly"), None)
                found.append((report, recent[:RECENT_RUNS], nightly))
            return found

        self.render("admin/reports.html", reports=await self.storage(runs), problem=problem)


def trigger_text(run: ReportRun) -> str:
    """What started ``run``, in words (a nightly run with its night)."""
    words = TRIGGER_WORDS.get(run.trigger, run.trigger)
    if run.trigger == "nightly" and run.period:
        return f"{words}, night of {run.period}"
    return words


class ReportListAdmin(ReportsAdmin):
    """``GET /admin/reports``: every report, its latest runs, its latest nightly run."""

    async def get(self) -> None:
        await self.render_list()


class ReportStartAdmin(ReportsAdmin):
    """``POST /admin/reports/{name}/run``: start a run now on a worker node, then 303 to the
    run's page; the Reports page again with the reason (503) when no worker started it."""

    async def post(self, name: str) -> None:
        report = report_of(name)
        try:
            run = await self.blocking(start_run, self.context, report.name)
        except NoWorker as exc:
            self.set_status(503)
            if exc.uncertain:
                problem = (
                    f"No answer about the run of {report.title!r}: {exc}. If it started, it is "
                    "listed below."
                )
            else:
                problem = f"The report {report.title!r} was not run: {exc}."
            await self.render_list(problem)
            return
        run_id = UUID(str(run["run_id"]))  # a peer's answer: never raw into a header
        self.redirect(f"/admin/reports/{report.name}/{run_id}", status=303)


class ReportRunAdmin(ReportsAdmin):
    """``GET /admin/reports/{name}/{run_id}``: the run; while it runs, its progress (the page
    reloads itself every :data:`REFRESH_S` s); once done, its figures, tables and charts."""

    async def get(self, name: str, raw_id: str) -> None:
        run = await self.run_of(name, raw_id)
        result = run.result or {}
        tables = list(result.get("tables", ()))
        self.render(
            "admin/report_run.html",
            report=report_of(name),
            run=run,
            summary=list(result.get("summary", ())),
            tables=tables,
            charts=[bar_chart(chart) for chart in result.get("charts", ())],
            table_rows=TABLE_ROWS,
            refresh_s=REFRESH_S,
        )


class ReportCsvAdmin(ReportsAdmin):
    """``GET /admin/reports/{name}/{run_id}/csv?table=N``: the run's N-th table (from 1), all
    its rows, as CSV (cells that a spreadsheet would read as a formula are guarded)."""

    async def get(self, name: str, raw_id: str) -> None:
        raw = self.get_query_argument("table", "")
        if not re.fullmatch(r"[0-9]{1,4}", raw):
            raise Refusal(400, "Table must be the number of one of the run's tables, from 1.")
        run = await self.run_of(name, raw_id)
        if run.result is None:
            raise Refusal(409, "This run has no result (yet): there is nothing to export.")
        tables = run.result.get("tables", ())
        number = int(raw)
        if not 1 <= number <= len(tables):
            raise Refusal(404, f"This run has {len(tables)} tables; there is no table {number}.")
        table = tables[number - 1]
        day = run.started_at.astimezone(self.zone).date().isoformat()
        title = slug(str(table.get("title", ""))) or f"table-{number}"
        pieces = csv_pieces(table.get("columns", ()), table.get("rows", ()))
        await self.send_csv(f"{run.report}-{day}-{title}.csv", pieces)
