"""The management UI's Reports pages on a real web server against the real Cassandra cluster:
sign-in and the XSRF token required, runs written into ``report_runs`` as a coordinator writes
them (listed, running with a progress bar that refreshes itself, done with its figures, tables
and an SVG per chart, failed, stalled), the CSV export of a table (every row, formulas
guarded), unknown reports and runs; "Run now" end to end on real node processes (a web node
asks a worker node over the link); and a screenshot of a done run in headless Chromium.

The runs are written under the names of real reports (``events``, ``people``) in the shared
test keyspace, with results made up for the test.
"""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import sync_playwright

from reports import Chart, ReportResult, Table, catalog
from storage import times
from storage.store import Store
from tests.helpers import (
    REPO,
    Browser,
    admin_page,
    recorded_run,
    web_and_worker,
    web_server,
)
from web.admin.reports import TABLE_ROWS, BarChart, bar_chart, slug
from web.screenshots import CHROMIUM, CHROMIUM_ARGS

REPORT = "events"
SCREENSHOT = REPO / "var" / "report-run.png"
WATCH_POLICY = """
window.violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.violations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample}`);
});
"""
"""Runs first in every document: records what the Content-Security-Policy blocked."""
WIDTH = "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
"""The page's width and the window's, in CSS pixels."""

RESULT = ReportResult(
    summary=(("Registrations", 1234), ("Confirmed", 1000), ("Events", 3)),
    tables=(
        Table(
            "By event and option",
            ("Event", "Option", "Confirmed"),
            (
                ("Picnic <b>in the park</b>", "Lunch & games", 40),
                ('=HYPERLINK("http://evil")', "@SUM(A1)", -3),
                ("Quiz night", "+Team", 12),
            ),
            note="Cancelled sign-ups left out.",
        ),
        Table(
            "Sign-ups per day",
            ("Day", "Sign-ups"),
            tuple((f"2031-01-{n:04d}", n) for n in range(TABLE_ROWS * 5 + 7)),
        ),
    ),
    charts=(
        Chart(
            "Sign-ups by channel <script>",
            (("web", 120), ("kiosk", 60), ("sms <i>text</i>", 30), ("api", 0)),
        ),
        Chart("Nothing yet", ()),
        Chart("All zero", (("a", 0), ("b", 0))),
    ),
)


@pytest.fixture(scope="module")
def base(web_context: Any) -> Iterator[str]:
    with web_server(web_context) as address:
        yield address


@pytest.fixture
def admin(base: str, admin_login: tuple[str, str]) -> Browser:
    browser = Browser(base)
    browser.sign_in(*admin_login)
    return browser


@pytest.fixture(scope="module")
def done(store: Store) -> str:
    """A done run of :data:`REPORT` with :data:`RESULT`; its page's path."""
    run_id = recorded_run(store, REPORT, result=RESULT.as_data(), progress=(16, 16, 5000, 2))
    return f"/admin/reports/{REPORT}/{run_id}"


def test_every_reports_page_needs_a_signed_in_admin(base: str, done: str) -> None:
    for path in ("/admin/reports", done, done + "/csv?table=1"):
        status, headers, _ = Browser(base).get(path)
        assert status == 302, path
        assert headers["Location"] == "/admin/login?next=" + quote(path, safe=""), path


def test_run_now_needs_a_session_and_the_xsrf_token(
    admin: Browser, base: str, store: Store
) -> None:
    before = [r.run_id for r in store.report_runs.recent(REPORT, 3)]
    anonymous = Browser(base)
    status, _, body = anonymous.get(
        f"/admin/reports/{REPORT}/run", {"_xsrf": anonymous.xsrf("/admin/login")}
    )
    assert status == 403 and b"sign in again" in body
    status, _, body = admin.get(f"/admin/reports/{REPORT}/run", {})
    assert status == 403 and b"not sent from this site" in body
    assert [r.run_id for r in store.report_runs.recent(REPORT, 3)] == before


def test_the_list_shows_every_report_its_runs_and_its_latest_nightly_run(
    admin: Browser, store: Store
) -> None:
    nightly = recorded_run(
        store, "people", result=RESULT.as_data(), trigger="nightly", period="2031-02-03"
    )
    manual = recorded_run(store, "people", error="report 'people' failed: no worker")
    page = admin_page(admin, "/admin/reports")
    for report in catalog.all_reports():
        assert f'id="report-{report.name}"' in page
        assert report.title in page
        assert f'action="/admin/reports/{report.name}/run"' in page
    people = page[page.index('id="report-people"') :]
    people = people[: people.index("</section>")]
    assert 'name="_xsrf"' in people and ">Run now</button>" in people
    assert f'href="/admin/reports/people/{nightly}">night of 2031-02-03</a>' in people
    rows = people[people.index("<tbody>") :]
    assert rows.index(manual) < rows.index(nightly)  # newest first
    assert "nightly, night of 2031-02-03" in rows and "<td>manual</td>" in rows
    assert 'class="run-failed">failed' in rows and 'class="run-done">done' in rows
    assert '<a href="/admin/reports">Reports</a>' in page  # the admin navigation


def test_a_running_run_shows_its_progress_and_refreshes_itself(
    admin: Browser, store: Store
) -> None:
    run_id = recorded_run(store, REPORT, progress=(16, 6, 12345, 3))
    page = admin_page(admin, f"/admin/reports/{REPORT}/{run_id}")
    assert '<meta http-equiv="refresh" content="1">' in page
    assert re.search(r'<progress id="progress-bar" max="16" value="6"', page)
    assert "6 of 16 ranges done, 12,345 rows scanned, 3 workers in use." in page
    assert "<script" not in page and "Download as CSV" not in page
    started = recorded_run(store, REPORT)  # no progress yet: an indeterminate bar
    page = admin_page(admin, f"/admin/reports/{REPORT}/{started}")
    assert '<progress id="progress-bar" aria-labelledby' in page


def test_a_done_run_shows_figures_tables_and_an_svg_per_chart(admin: Browser, done: str) -> None:
    page = admin_page(admin, done)
    assert "http-equiv" not in page and "<progress" not in page
    assert 'class="run-done" id="state">done' in page
    assert "<dt>Registrations</dt><dd>1,234</dd>" in page
    assert page.count("<svg ") == len(RESULT.charts)
    assert page.count("<table ") == len(RESULT.tables)
    # staff-entered text is escaped everywhere, the charts' too
    assert "<b>in the park</b>" not in page and "Picnic &lt;b&gt;in the park&lt;/b&gt;" in page
    assert "<script>" not in page and "Sign-ups by channel &lt;script&gt;" in page
    assert "sms &lt;i&gt;text&lt;/i&gt;" in page and "<i>text</i>" not in page
    assert "Lunch &amp; games" in page and "Cancelled sign-ups left out." in page
    # the chart: a title and description for screen readers, values as text, scaled to the max
    chart = page[page.index('id="chart-1"') : page.index("</figure>")]
    assert 'role="img" aria-labelledby="chart-1-title chart-1-desc"' in chart
    assert "4 bars; the largest is web, 120." in chart
    widths = re.findall(r'<rect x="0" y="\d+" width="([0-9.]+)%"', chart)
    assert [float(w) for w in widths] == [BarChart.LONGEST, 41.0, 20.5, 0.0]
    assert [v for v in re.findall(r'class="value">([^<]+)<', chart)] == ["120", "60", "30", "0"]
    assert "Nothing to chart." in page and "Every value is 0." in page
    # the big table: its first rows only, with the CSV for all
    big = page[page.index('id="table-2"') :]
    assert f"The first {TABLE_ROWS} of 1,007 rows are shown; the CSV has them all." in big
    assert big.count("<tr>") == TABLE_ROWS + 1  # and the header's
    assert f'href="{done}/csv?table=2">Download as CSV</a>' in big


def test_the_csv_has_every_row_and_no_formula(
    admin: Browser, done: str, store: Store, web_context: Any
) -> None:
    status, headers, body = admin.get(done + "/csv?table=1")
    assert status == 200 and headers["Content-Type"] == "text/csv; charset=utf-8"
    run = store.report_runs.get(REPORT, uuid.UUID(done.rsplit("/", 1)[1]))
    assert run is not None
    day = run.started_at.astimezone(ZoneInfo(web_context.config.site.time_zone)).date()
    assert headers["Content-Disposition"] == (
        f'attachment; filename="events-{day.isoformat()}-by-event-and-option.csv"'
    )
    rows = list(csv.reader(io.StringIO(body.decode())))
    assert rows == [
        ["Event", "Option", "Confirmed"],
        ["Picnic <b>in the park</b>", "Lunch & games", "40"],
        ['\'=HYPERLINK("http://evil")', "'@SUM(A1)", "-3"],
        ["Quiz night", "'+Team", "12"],
    ]
    status, _, body = admin.get(done + "/csv?table=2")
    rows = list(csv.reader(io.StringIO(body.decode())))
    assert status == 200 and len(rows) == 1 + TABLE_ROWS * 5 + 7
    assert rows[-1] == [f"2031-01-{TABLE_ROWS * 5 + 6:04d}", str(TABLE_ROWS * 5 + 6)]
    assert admin.get(done + "/csv?table=3")[0] == 404
    assert admin.get(done + "/csv?table=x")[0] == 400
    assert admin.get(done + "/csv")[0] == 400


def test_unknown_reports_and_runs_are_404s_that_say_so(admin: Browser, done: str) -> None:
    run_id = done.rsplit("/", 1)[1]
    for path in (f"/admin/reports/nosuch/{run_id}", f"/admin/reports/nosuch/{run_id}/csv?table=1"):
        status, _, body = admin.get(path)
        assert status == 404 and b"There is no report named &#x27;nosuch&#x27;." in body, path
    status, _, body = admin.get("/admin/reports/nosuch/run", {"_xsrf": admin.xsrf(done)})
    assert status == 404 and b"There is no report named" in body
    status, _, body = admin.get(f"/admin/reports/{REPORT}/{uuid.uuid1()}")
    assert status == 404 and b"There is no run" in body


def test_failed_and_stalled_runs_show_why(admin: Browser, store: Store) -> None:
    failed = recorded_run(store, REPORT, error="report 'events' failed: <no worker> for 30 s")
    page = admin_page(admin, f"/admin/reports/{REPORT}/{failed}")
    assert 'id="error" role="alert">The run failed: report' in page
    assert "&lt;no worker&gt;" in page and "http-equiv" not in page
    stalled = recorded_run(store, REPORT, progress=(16, 2, 10, 2))
    store.db.execute(
        "UPDATE report_runs SET updated_at = ? WHERE report = ? AND run_id = ?",
        (times.now() - timedelta(minutes=5), REPORT, uuid.UUID(stalled)),
        op="write",
    )
    page = admin_page(admin, f"/admin/reports/{REPORT}/{stalled}")
    assert 'class="run-stalled" id="state">stalled' in page
    assert "The run stalled: no progress for over a minute" in page
    assert "http-equiv" not in page and ">Run again</button>" in page


def test_run_now_without_a_worker_node_up_says_so(admin: Browser) -> None:
    # web-test has no worker role and no node link: no worker node can be asked
    status, _, body = admin.get(
        f"/admin/reports/{REPORT}/run", {"_xsrf": admin.xsrf("/admin/reports")}
    )
    assert status == 503
    title = b"&#x27;Sign-ups by event and option&#x27;"
    assert b'id="problem" role="alert">The report ' + title + b" was not run:" in body
    assert b"is not running" in body and b'id="report-events"' in body


def test_bar_charts_scale_to_the_largest_value() -> None:
    chart = bar_chart({"title": "t", "bars": [["a", 5], ["b", 10], ["c", -2]]})
    assert [bar.percent for bar in chart.bars] == [BarChart.LONGEST / 2, BarChart.LONGEST, 0.0]
    assert not chart.all_zero and bar_chart({"title": "t", "bars": [["a", 0]]}).all_zero
    many = bar_chart({"title": "t", "bars": [[str(n), n] for n in range(250)]})
    assert len(many.bars) == 100 and many.hidden == 150
    long = bar_chart({"title": "t", "bars": [["x" * 100, 1]]}).bars[0]
    assert len(long.label) == 60 and long.full_label == "x" * 100
    assert slug("By event & option!") == "by-event-option" and slug("<>") == ""


def test_run_now_runs_the_report_on_a_worker_node(
    tmp_path: Path, admin_login: tuple[str, str]
) -> None:
    """A web node without the worker role asks the worker node over the link; the run's page
    follows it to its end and shows its tables."""
    with web_and_worker(tmp_path, "web-rp", "work-rp") as (nodes, base):
        admin = Browser(base)
        admin.sign_in(*admin_login)
        status, headers, body = admin.get(
            f"/admin/reports/{REPORT}/run", {"_xsrf": admin.xsrf("/admin/reports")}
        )
        assert status == 303, body
        location = headers["Location"]
        assert re.fullmatch(rf"/admin/reports/{REPORT}/[0-9a-f-]{{36}}", location)
        pages: list[str] = []

        def ended() -> bool:
            pages.append(admin_page(admin, location))
            return "http-equiv" not in pages[-1]

        nodes.wait_until(ended, "the run to end", 120)
        page = pages[-1]
        assert 'class="run-done" id="state">done' in page, page[:3000]
        assert "coordinated by work-rp" in page
        for table in catalog.get(REPORT).title, "By event and option", "By channel":
            assert table in page
        assert page.count("<svg ") == 2  # the events report's two charts
        assert f'href="{location}/csv?table=1"' in page


def test_a_done_run_in_chromium(base: str, done: str, admin_login: tuple[str, str]) -> None:
    """The page under the site's policy (nothing blocked), no wider than a phone, and a
    screenshot of it saved to look at (var/report-run.png)."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for width in (360, 1280):
                context = browser.new_context(viewport={"width": width, "height": 900})
                context.add_init_script(WATCH_POLICY)
                page = context.new_page()
                page.goto(base + "/admin/login")
                page.get_by_label("Username").fill(admin_login[0])
                page.get_by_label("Password").fill(admin_login[1])
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_url("**/admin/events")
                for path in ("/admin/reports", done):
                    page.goto(base + path)
                    scroll, client = page.evaluate(WIDTH)
                    assert scroll <= client, f"{path} at {width} px: {scroll} px wide"
                assert page.locator("svg").count() == len(RESULT.charts)
                assert page.evaluate("window.violations") == []
                if width == 1280:
                    SCREENSHOT.parent.mkdir(exist_ok=True)
                    page.locator("#chart-1").scroll_into_view_if_needed()
                    page.screenshot(path=str(SCREENSHOT), full_page=False)
                    table = SCREENSHOT.with_name("report-run-table.png")
                    page.locator("#table-1").screenshot(path=str(table))
                else:
                    page.screenshot(path=str(SCREENSHOT.with_name("report-run-phone.png")))
                context.close()
        finally:
            browser.close()
