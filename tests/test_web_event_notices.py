"""Staff moving or cancelling an event in the management UI, and the Mail page's history of
what registrants were told: a real web server on the test keyspace, real Cassandra, and the
e-mail notices sent to a real SMTP server on loopback (:mod:`mail.mail_sandbox`).

Other tests share the keyspace: each test looks only at its own event's announcements and
notices, and at the e-mails that reached its own addresses. Mail node processes on the test
keyspace (tests/test_mail_nodes.py) send these notices too: run these tests apart from them,
or a node may send a notice before this test's sender does (the failure names who sent it)."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest

from mail import notices
from mail.sandbox import MailSandbox
from notices.sender import Sender
from signups import Client
from storage.announcements import Announcement
from storage.events import Event, SignupOption
from storage.store import Store
from tests.helpers import (
    Browser,
    announced,
    mail_text,
    mails_to,
    make_event,
    new_address,
    new_phone,
    send_all,
    web_server,
    web_sign_up,
)
from web.admin.events import event_values, local_input

WEB = Client.web("198.51.100.21")


@pytest.fixture(scope="module")
def site(web_context: Any) -> Iterator[str]:
    """The base address of a web server on the test keyspace."""
    with web_server(web_context) as base:
        yield base


@pytest.fixture
def admin(site: str, admin_login: tuple[str, str]) -> Browser:
    browser = Browser(site)
    browser.sign_in(*admin_login)
    return browser


@dataclasses.dataclass(frozen=True)
class Signed:
    """An event of one seat with an e-mail registrant (confirmed), a phone (waitlisted) and
    an e-mail that cancelled (told nothing)."""

    event: Event
    option: SignupOption
    address: str
    phone: str
    cancelled: str


@pytest.fixture
def signed(store: Store, short_code: str) -> Signed:
    event, option = make_event(store, short_code, capacity=1, waitlist=True)
    address, phone, cancelled = new_address("n"), new_phone(), new_address("n")
    web_sign_up(store, option, address)
    web_sign_up(store, option, phone)
    store.registrations.cancel(web_sign_up(store, option, cancelled))
    return Signed(event, option, address, phone, cancelled)


def announcements(store: Store, event: Event, kind: str) -> list[Announcement]:
    return [
        a for a in store.announcements.recent() if a.event_id == event.event_id and a.kind == kind
    ]


def one_mail(
    store: Store, mail_sandbox: MailSandbox, announcement: Announcement, address: str, subject: str
) -> EmailMessage:
    """The one e-mail ``announcement`` sent to ``address``, with ``subject``."""
    got = mails_to(mail_sandbox, address, subject)
    notice = [n for n in announced(store, announcement) if n.contact == address]
    assert len(got) == 1, f"{len(got)} e-mail(s) {subject!r} to {address}; its notice: {notice}"
    return got[0]


def page(browser: Browser, path: str) -> str:
    status, _, body = browser.get(path)
    assert status == 200, (path, status, body[:500])
    return body.decode()


def save(admin: Browser, event: Event, **changes: str) -> str:
    """Post the event's form as the page shows it, with ``changes``; where it redirects."""
    path = f"/admin/events/{event.event_id}"
    fields = event_values(event) | changes | {"_xsrf": admin.xsrf(path)}
    status, headers, body = admin.get(path, fields)
    assert status == 303, body[:500]
    return str(headers["Location"])


def post(admin: Browser, path: str, fields: dict[str, str] | None = None) -> tuple[int, Any, str]:
    """A form posted from the event's page, with its XSRF token."""
    token = admin.xsrf(path.rsplit("/", 1)[0])
    status, headers, body = admin.get(path, {**(fields or {}), "_xsrf": token})
    return status, headers, body.decode()


def test_moving_an_event_tells_each_registrant_once(
    admin: Browser,
    store: Store,
    signed: Signed,
    mail_sandbox: MailSandbox,
    email_sender: Sender[EmailMessage],
) -> None:
    event = signed.event
    later = event.starts_at + timedelta(hours=1)
    location = save(admin, event, starts_at=local_input(event, later))
    assert location == f"/admin/events/{event.event_id}?told=2"
    shown = page(admin, location)
    assert "2 registrants are being told of the new time or place" in shown
    moved = store.events.get(event.event_id)
    assert moved.starts_at == later.replace(second=0, microsecond=0)  # the form has minutes
    assert moved.ends_at == event.ends_at  # sent back as shown: kept to the second

    [announcement] = announcements(store, event, "changed")
    assert announcement.state == "done" and announcement.owed == {"email": 1, "sms": 1}
    told = announced(store, announcement)
    assert sorted(n.contact for n in told) == sorted([signed.address, signed.phone])
    assert {n.kind for n in told} == {"changed"}

    send_all(email_sender, store)
    mail = one_mail(store, mail_sandbox, announcement, signed.address, f"Changed: {event.title}")
    assert notices.when(moved) in mail_text(mail)
    assert not mails_to(mail_sandbox, signed.cancelled, f"Changed: {event.title}")

    again = save(admin, moved)  # saved as it is: nobody is told
    assert again == f"/admin/events/{event.event_id}"
    assert "being told" not in page(admin, again)
    retitled = save(admin, moved, title=f"{event.title} (renamed)")
    assert retitled == f"/admin/events/{event.event_id}"
    assert store.events.get(event.event_id).title == f"{event.title} (renamed)"
    assert len(announcements(store, event, "changed")) == 1

    send_all(email_sender, store)
    assert len(mails_to(mail_sandbox, signed.address, f"Changed: {event.title}")) == 1


def test_a_refused_move_tells_nobody(admin: Browser, store: Store, signed: Signed) -> None:
    event = signed.event
    path = f"/admin/events/{event.event_id}"
    fields = event_values(event) | {
        "starts_at": local_input(event, event.ends_at + timedelta(hours=1)),
        "_xsrf": admin.xsrf(path),
    }
    status, _, body = admin.get(path, fields)
    assert status == 400 and b"form-error" in body
    assert store.events.get(event.event_id).starts_at == event.starts_at
    assert announcements(store, event, "changed") == []


def test_cancelling_an_event_tells_each_registrant_even_once_it_is_deleted(
    admin: Browser,
    site: str,
    store: Store,
    signed: Signed,
    mail_sandbox: MailSandbox,
    email_sender: Sender[EmailMessage],
) -> None:
    event = signed.event
    base = f"/admin/events/{event.event_id}"
    before = page(admin, base)
    assert f'action="{base}/cancel"' in before and "cannot be undone" in before
    assert "Closing tells nobody" in before

    status, _, body = post(admin, f"{base}/cancel")  # the box not ticked
    assert status == 400 and "Tick the box" in body
    assert not store.events.get(event.event_id).cancelled

    status, headers, _ = post(admin, f"{base}/cancel", {"confirm": "1"})
    assert status == 303 and headers["Location"] == f"{base}?told=2"
    cancelled = store.events.get(event.event_id)
    assert cancelled.cancelled and not cancelled.is_open
    [announcement] = announcements(store, event, "cancelled")
    assert announcement.state == "done" and announcement.owed == {"email": 1, "sms": 1}
    told = announced(store, announcement)
    assert sorted(n.contact for n in told) == sorted([signed.address, signed.phone])

    shown = page(admin, headers["Location"])
    assert "2 registrants are being told that the event is cancelled" in shown
    assert 'id="cancelled"' in shown and "Cancelled on " in shown
    assert f'action="{base}/open"' not in shown and f'action="{base}/cancel"' not in shown
    assert f'action="{base}/options' not in shown  # its options cannot be changed
    listed = re.search(rf'<tr><td><a href="{base}">.*?</tr>', page(admin, "/admin/events"))
    assert listed and ">cancelled<" in listed.group(0)

    public = page(Browser(site), f"/events/{event.event_id}")
    assert "This event is cancelled." in public and "/signup" not in public
    assert "Sign-ups for this event are closed" not in public
    home = page(Browser(site), "/")
    card = re.search(rf'href="/events/{event.event_id}">(.*?)</a>', home, re.S)
    assert card and "Cancelled" in card.group(1)
    _, _, api = Browser(site).get(f"/api/v1/events/{event.event_id}")
    shape = json.loads(api)
    assert cancelled.cancelled_at is not None
    assert shape["cancelled"] is True
    assert shape["cancelled_at"] == cancelled.cancelled_at.isoformat()

    status, _, body = post(admin, f"{base}/open", {"is_open": "1"})
    assert status == 409 and "cannot be opened for sign-ups again" in body
    assert not store.events.get(event.event_id).is_open

    status, headers, _ = post(admin, f"{base}/cancel", {"confirm": "1"})
    assert status == 303 and headers["Location"] == base  # nobody told again
    assert len(announcements(store, event, "cancelled")) == 1
    assert len(announced(store, announcement)) == 2

    status, _, _ = post(admin, f"{base}/delete")
    assert status == 303
    assert admin.get(base)[0] == 404
    send_all(email_sender, store)
    mail = one_mail(store, mail_sandbox, announcement, signed.address, f"Cancelled: {event.title}")
    assert "is cancelled" in mail_text(mail)
    assert not mails_to(mail_sandbox, signed.cancelled, f"Cancelled: {event.title}")


def test_cancelling_needs_a_signed_in_admin_and_the_xsrf_token(
    site: str, admin: Browser, store: Store, short_code: str
) -> None:
    event, _ = make_event(store, short_code)
    path = f"/admin/events/{event.event_id}/cancel"
    anonymous = Browser(site)
    token = anonymous.xsrf("/admin/login")
    status, _, body = anonymous.get(path, {"_xsrf": token, "confirm": "1"})
    assert status == 403 and b"sign in again" in body
    status, _, _ = admin.get(path, {"confirm": "1"})
    assert status == 403
    assert not store.events.get(event.event_id).cancelled


def test_the_mail_page_lists_what_registrants_were_told(
    admin: Browser,
    store: Store,
    signed: Signed,
    email_sender: Sender[EmailMessage],
) -> None:
    event = signed.event
    save(admin, event, starts_at=local_input(event, event.starts_at + timedelta(hours=2)))
    send_all(email_sender, store)  # before the cancellation, which would make the change moot
    post(admin, f"/admin/events/{event.event_id}/cancel", {"confirm": "1"})
    send_all(email_sender, store)
    [changed] = announcements(store, event, "changed")
    [cancelled] = announcements(store, event, "cancelled")

    shown = page(admin, "/admin/mail")
    assert "Reminders and event notices" in shown
    rows = {}
    for announcement in (changed, cancelled):
        row = re.search(rf'<tr data-key="{re.escape(announcement.key)}">(.*?)</tr>', shown, re.S)
        assert row, f"no row of {announcement.key}"
        rows[announcement.kind] = re.sub(r"<[^>]+>", " ", row.group(1))
        assert f'href="/admin/events/{event.event_id}"' in row.group(1)
    assert shown.index(cancelled.key) < shown.index(changed.key)  # newest first
    for kind, words in (("changed", "New time or place"), ("cancelled", "Cancelled")):
        cells = " ".join(rows[kind].split())
        assert words in cells and event.title in cells and "done" in cells
        assert "1 text" in cells and "1 e-mail" in cells
        assert "1 sent" in cells and "1 pending" in cells  # the e-mail sent, the text owed
