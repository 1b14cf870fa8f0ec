"""The website in a real headless Chromium, against a real server on the test keyspace: its
Content-Security-Policy breaks nothing (backgrounds show, an admin signs in and creates an
event, no violation is reported), the admin UI cannot be framed by another origin, and no
page scrolls sideways on a phone or a desktop.
"""

from __future__ import annotations

import io
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from storage import demo
from storage.store import Store
from tests.helpers import PNG
from web.app import make_app
from web.screenshots import CHROMIUM, CHROMIUM_ARGS
from web.server import WebServer

WIDTHS = (360, 1280)
"""A phone's and a desktop's viewport width, in CSS pixels."""

WATCH_POLICY = """
window.violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.violations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample}`);
});
"""
"""Runs first in every document: records what the Content-Security-Policy blocked."""


@dataclass(frozen=True)
class Site:
    base: str
    event_id: str
    background: str
    ref: str


@pytest.fixture(scope="module")
def site(web_context: Any, store: Store) -> Iterator[Site]:
    """A running server and an event with an icon, a background, a long description and a
    registration; the demo events too."""
    demo.seed(store, web_context.config.site.time_zone)
    icon = store.assets.put(io.BytesIO(PNG), "image/png", "layout-icon.png")
    background = store.assets.put(io.BytesIO(PNG), "image/png", "layout-background.png")
    start = datetime.now(UTC) + timedelta(days=3)
    event = store.events.create(
        title="Layout check: the annual neighbourhood gathering with a rather long title",
        description="Details at https://example.org/sign-up?ticket=" + "Qx7Lm2Zp9" * 12,
        location="The community centre's main hall, second floor, at the far end",
        starts_at=start,
        ends_at=start + timedelta(hours=3),
        time_zone="Europe/London",
        short_code="Y" + secrets.token_hex(4).upper(),
        icon_asset=icon.asset_id,
        background_asset=background.asset_id,
    )
    option = store.events.add_option(event.event_id, "Evening, with dinner", 10, True)
    signed_up = store.registrations.sign_up(
        option.option_id, "Layla Longname-Wetherington", "layla.longname@example.org"
    )
    server = WebServer(make_app(web_context, storage_threads=4), "127.0.0.1", 0)
    server.start()
    try:
        yield Site(
            f"http://127.0.0.1:{server.port}",
            str(event.event_id),
            str(background.asset_id),
            signed_up.registration.ref,
        )
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except Exception as exc:
            pytest.fail(
                f"headless Chromium ({CHROMIUM}) could not be started: {exc}", pytrace=False
            )
        yield launched
        launched.close()


@pytest.fixture
def framer(site: Site) -> Iterator[str]:
    """A page on another loopback origin (127.0.0.2) that frames the admin UI."""
    page = f'<!doctype html><title>Framer</title><iframe src="{site.base}/admin/events"></iframe>'

    class Framing(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = page.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.2", 0), Framing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.2:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def watched(context: BrowserContext) -> Page:
    """A new page whose policy violations are recorded (``violations(page)``)."""
    context.add_init_script(WATCH_POLICY)
    return context.new_page()


def violations(page: Page) -> list[str]:
    return page.evaluate("window.violations")


def sign_in(page: Page, base: str, admin: tuple[str, str]) -> None:
    page.goto(base + "/admin/login")
    page.get_by_label("Username").fill(admin[0])
    page.get_by_label("Password").fill(admin[1])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Events", exact=True)).to_be_visible()


def test_backgrounds_show_under_a_policy_without_inline_styles(
    site: Site, browser: Browser
) -> None:
    context = browser.new_context()
    page = watched(context)
    answer = page.goto(f"{site.base}/events/{site.event_id}")
    assert answer is not None
    policy = answer.headers.get("content-security-policy", "")
    assert "style-src 'self'" in policy and "unsafe-inline" not in policy, policy
    url = f'url("{site.base}/assets/{site.background}")'
    hero = page.locator("section.hero")
    assert hero.evaluate("e => getComputedStyle(e).backgroundImage") == url
    page.goto(site.base + "/")
    card = page.locator("li.card", has=page.locator(f"a[href='/events/{site.event_id}']"))
    assert card.evaluate("e => getComputedStyle(e).backgroundImage") == url
    assert violations(page) == []
    context.close()


def test_the_admin_ui_cannot_be_framed_by_another_origin(
    site: Site, browser: Browser, framer: str
) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(framer)
    framed = [frame for frame in page.frames if frame != page.main_frame]
    assert len(framed) == 1
    assert not framed[0].url.startswith(site.base), framed[0].url  # an error page instead
    assert framed[0].locator("input, form, h1:has-text('Sign in')").count() == 0
    context.close()


def test_an_admin_signs_in_and_creates_an_event_under_the_policy(
    site: Site, browser: Browser, admin_login: tuple[str, str], tmp_path: Path
) -> None:
    context = browser.new_context()
    page = watched(context)
    sign_in(page, site.base, admin_login)
    image = tmp_path / "background.png"
    image.write_bytes(PNG)
    code = "P" + secrets.token_hex(4).upper()
    page.get_by_label("Title").fill(f"Policy picnic {code}")
    page.get_by_label("Short code (members text it)").fill(code)
    page.get_by_label("Time zone").fill("Europe/Paris")
    page.get_by_label("Starts at").fill("2031-06-01T12:00")
    page.get_by_label("Ends at").fill("2031-06-01T15:00")
    page.locator("#background_file").set_input_files(str(image))
    page.get_by_role("button", name="Create the event").click()
    expect(page.get_by_role("heading", name=f"Policy picnic {code}")).to_be_visible()
    expect(page.get_by_label("Time zone")).to_have_value("Europe/Paris")
    page.get_by_role("link", name="Public page").click()
    hero = page.locator("section.hero")
    assert hero.evaluate("e => getComputedStyle(e).backgroundImage").startswith(
        f'url("{site.base}/assets/'
    )
    assert violations(page) == []
    context.close()


def test_no_page_scrolls_sideways_on_a_phone_or_a_desktop(
    site: Site, browser: Browser, admin_login: tuple[str, str], store: Store
) -> None:
    event = f"/admin/events/{site.event_id}"
    demo_events = [f"/admin/events/{store.events.by_code(d.code).event_id}" for d in demo.EVENTS]
    pages = [
        "/",
        f"/events/{site.event_id}",
        f"/registrations/{site.ref}",
        "/cancel",
        "/admin/login",
        "/admin/events",
        event,
        *demo_events,
        f"{event}/registrations",
        "/admin/assets",
        "/admin/kiosks",
        "/admin/cluster",
        "/admin/sms",
        "/admin/sms/attention",
        "/admin/sms/optouts",
        "/admin/sms/notices",
        "/admin/sms/numbers/%2B15550100100",
    ]
    wide = []
    for width in WIDTHS:
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = watched(context)
        sign_in(page, site.base, admin_login)
        for path in pages:
            page.goto(site.base + path)
            scroll, client = page.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
            )
            if scroll > client:
                wide.append(f"{path} at {width} px is {scroll} px wide")
            assert violations(page) == [], path
        context.close()
    assert wide == []
