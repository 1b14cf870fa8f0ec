"""The management UI's SMS pages and the events list's SMS keyword checks, on a real web
server against the real Cassandra cluster: sign-in required, seeded messages shown (bodies
escaped), marking a text handled, opt-outs, notices, and short codes that are SMS keywords."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote
from uuid import uuid1, uuid4

import pytest

from storage import times
from storage.events import Event
from storage.store import Store
from tests.helpers import Browser, make_event, new_phone, web_server

SITE_NUMBER = "+15550100100"
PAGES = (
    "/admin/sms",
    "/admin/sms/attention",
    "/admin/sms/optouts",
    "/admin/sms/notices",
    f"/admin/sms/numbers/{quote('+15550100100', safe='')}",
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


def page(browser: Browser, path: str) -> str:
    """The page at ``path``, which must answer 200."""
    status, _, body = browser.get(path)
    assert status == 200, (path, status, body[:500])
    return body.decode()


def number_link(phone: str) -> str:
    return f'href="/admin/sms/numbers/{quote(phone, safe="")}"'


@pytest.mark.parametrize("path", PAGES)
def test_every_sms_page_needs_a_signed_in_admin(base: str, path: str) -> None:
    status, headers, _ = Browser(base).get(path)
    assert status == 302
    assert headers["Location"] == "/admin/login?next=" + quote(path, safe="")


def test_the_log_by_day_shows_messages_both_ways_newest_first(admin: Browser, store: Store) -> None:
    phone = new_phone()
    store.sms_messages.record("in", phone, SITE_NUMBER, "JOIN PICNIC", action="asked_name")
    store.sms_messages.record("out", SITE_NUMBER, phone, "What name shall we put down?")
    log = page(admin, "/admin/sms")
    assert log.index("What name shall we put down?") < log.index("JOIN PICNIC")
    assert log.count(number_link(phone)) == 2
    assert "asked name" in log
    assert re.search(r'id="count">\d+ messages?', log)
    today = times.now().date()
    assert page(admin, f"/admin/sms?day={today.isoformat()}") == log
    yesterday = (today - timedelta(days=1)).isoformat()
    assert f'href="/admin/sms?day={yesterday}"' in log
    assert "JOIN PICNIC" not in page(admin, f"/admin/sms?day={yesterday}")
    status, _, body = admin.get("/admin/sms?day=yesterday")
    assert status == 400 and b"Day must be a date" in body


def test_a_number_page_shows_its_messages_and_whether_it_opted_out(
    admin: Browser, store: Store
) -> None:
    phone, other = new_phone(), new_phone()
    store.sms_messages.record("in", phone, SITE_NUMBER, "EVENTS", action="events")
    store.sms_messages.record("in", other, SITE_NUMBER, "STATUS", action="status")
    path = f"/admin/sms/numbers/{quote(phone, safe='')}"
    shown = page(admin, path)
    assert "EVENTS" in shown and "STATUS" not in shown
    assert "has not opted out" in shown
    store.sms_optouts.opt_out(phone, "STOP")
    assert 'id="opted-out"' in page(admin, path)
    optouts = page(admin, "/admin/sms/optouts")
    assert number_link(phone) in optouts and "STOP" in optouts


def test_marking_a_text_handled_takes_it_off_the_attention_list(
    admin: Browser, store: Store
) -> None:
    phone = new_phone()
    message, _ = store.sms_messages.record(
        "in", phone, SITE_NUMBER, "is the hall heated?", action="needs_person"
    )
    assert "is the hall heated?" in page(admin, "/admin/sms/attention")
    handled = f"/admin/sms/messages/{message.message_id}/handled"
    assert f'action="{handled}"' in page(admin, "/admin/sms/attention")
    status, _, body = admin.get(handled, {})  # no XSRF token
    assert status == 403 and b"not sent from this site" in body
    assert "is the hall heated?" in page(admin, "/admin/sms/attention")
    status, headers, _ = admin.get(handled, {"_xsrf": admin.xsrf("/admin/sms/attention")})
    assert status == 303 and headers["Location"] == "/admin/sms/attention"
    assert "is the hall heated?" not in page(admin, "/admin/sms/attention")
    stored = store.sms_messages.get(message.message_id)
    assert stored is not None and stored.handled


def test_a_made_up_message_cannot_be_marked_handled(admin: Browser) -> None:
    token = admin.xsrf("/admin/sms/attention")
    for made_up in (uuid4(), uuid1()):
        status, _, _ = admin.get(f"/admin/sms/messages/{made_up}/handled", {"_xsrf": token})
        assert status == 404


def test_bodies_and_replies_are_escaped(admin: Browser, store: Store) -> None:
    phone = new_phone()
    message = store.sms_messages.new(
        "in", phone, SITE_NUMBER, "<script>alert(1)</script>", action="needs_person", reply="<i>"
    )
    store.sms_messages.write(message)
    for path in ("/admin/sms", "/admin/sms/attention", f"/admin/sms/numbers/{quote(phone)}"):
        shown = page(admin, path)
        assert "<script>" not in shown and "<i>" not in shown, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown and "&lt;i&gt;" in shown, path


def test_the_notices_page_shows_what_is_owed_and_how_far_it_got(
    admin: Browser, store: Store
) -> None:
    phone = new_phone()
    key = f"promoted:test:{secrets.token_hex(4)}"
    store.notices.owe("promoted", key, phone, ref="TEST-ABCDEF")
    owed = next(n for n in store.notices.recent("sms") if n.key == key)
    shown = page(admin, "/admin/sms/notices")
    row = shown[shown.index(number_link(phone)) :].split("</tr>")[0]
    assert "TEST-ABCDEF" in row and "owed" in row
    claimed = store.notices.claim(owed, "test-sender")
    assert claimed is not None
    store.notices.settle(claimed, "sent", "delivered by the test")
    shown = page(admin, "/admin/sms/notices")
    row = shown[shown.index(number_link(phone)) :].split("</tr>")[0]
    assert "sent" in row and "delivered by the test" in row


# Short codes that are SMS keywords.


def event_fields(admin: Browser, path: str, short_code: str) -> dict[str, str]:
    start = datetime.now(UTC) + timedelta(days=3)
    return {
        "_xsrf": admin.xsrf(path),
        "title": "Keyword <b>test</b>",
        "short_code": short_code,
        "time_zone": "UTC",
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
    }


@pytest.mark.parametrize("keyword", ["STOP", "help"])
def test_creating_an_event_with_a_keyword_code_shows_the_form_again(
    admin: Browser, keyword: str
) -> None:
    fields = event_fields(admin, "/admin/events", keyword)
    status, _, body = admin.get("/admin/events", fields)
    shown = body.decode()
    assert status == 400
    assert 'id="form-error"' in shown and "a word texts use as a command" in shown
    assert f'name="short_code" required maxlength="12" value="{keyword}"' in shown
    assert 'value="Keyword &lt;b&gt;test&lt;/b&gt;"' in shown  # what was typed, escaped


def test_changing_an_event_to_a_keyword_code_shows_the_form_again(
    admin: Browser, store: Store, short_code: str
) -> None:
    event, _ = make_event(store, short_code)
    path = f"/admin/events/{event.event_id}"
    status, _, body = admin.get(path, event_fields(admin, path, "Stop"))
    assert status == 400 and "a word texts use as a command" in body.decode()
    assert store.events.get(event.event_id).short_code == short_code


def test_the_events_list_flags_codes_members_cannot_text(admin: Browser, store: Store) -> None:
    legacy = keyword_event(store, "HELP")
    try:
        listing = page(admin, "/admin/events")
        row = listing[listing.index(f"/admin/events/{legacy.event_id}") :].split("</tr>")[0]
        assert "members cannot text this code; change it" in row
        event_page = page(admin, f"/admin/events/{legacy.event_id}")
        assert "members cannot text this code; change it" in event_page
    finally:
        store.events.delete(legacy.event_id)


def keyword_event(store: Store, code: str) -> Event:
    """An event whose short code is ``code``, written past validation (as an event created
    before keywords were refused)."""
    made, _ = make_event(store, "K" + secrets.token_hex(4).upper())
    store.db.execute(
        "UPDATE events SET short_code = ? WHERE event_id = ?", (code, made.event_id), op="write"
    )
    return store.events.get(made.event_id)
