"""The management UI's Mail pages on a real web server against the real Cassandra cluster,
with real mailer actors sending to a real SMTP server on loopback (:mod:`mail.sandbox`).

As in production, the web node ``web-mt`` has no mail role: it asks the mailer of the mail
node ``mail-mt`` over a real node link (both nodes run in this process, each with its own
tree). A node with both roles asks its own tree. The mail role runs its mailer only (not the
notifier of members' e-mails), at the path the role's tree gives it. The mailers run the
digest's own job (``digest``); the watermark is moved to now before they start, so that
nothing is due and a digest goes out only when a test sends one now.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from tornado.escape import xhtml_escape as escape

from config.cluster import ClusterConfig, NodeConfig
from mail import actor, mailer
from mail.sandbox import MailSandbox
from node.context import NodeContext
from node.logbuffer import LogBuffer
from node.services import LinkActor
from storage import times
from storage.store import Store
from supervision import ChildSpec, Supervisor
from tests import helpers
from tests.helpers import (
    SMS_NUMBER,
    Browser,
    free_port,
    new_phone,
    running,
    wait_until,
    web_server,
)
from web.admin.mail import JOB, MAILER, PREVIEW_POLICY

RECIPIENTS = ("staff@example.org", "office@example.org")
PAGES = ("/admin/mail", "/admin/mail/preview", "/admin/mail/preview.html")


@dataclasses.dataclass(frozen=True)
class MailSite:
    """The website of ``web-mt``, and what its mailer (on ``mail-mt``) sends to."""

    base: str
    sandbox: MailSandbox
    config: ClusterConfig


def mail_config(config: ClusterConfig, port: int, nodes: dict[str, NodeConfig]) -> ClusterConfig:
    """``config`` with only ``nodes`` and a mail section for the loopback SMTP server on
    ``port`` (tests.helpers: the digest due daily an hour ago, so that a watermark of now
    makes nothing due)."""
    return dataclasses.replace(helpers.mail_config(config, port, RECIPIENTS), nodes=nodes)


def node(name: str, *roles: str) -> NodeConfig:
    """A node on loopback, its link on a free port; a web node trusts loopback proxies (so
    that tests sign in as a proxy's clients, as the other web tests do)."""
    proxies = ("127.0.0.0/8",) if "web" in roles else ()
    return NodeConfig(name, "127.0.0.1", free_port(), roles, trusted_proxies=proxies)


def context(config: ClusterConfig, name: str, cookie: bytes, store: Store) -> NodeContext:
    return NodeContext(config, config.nodes[name], cookie, LogBuffer(), store=store)


def link(of: NodeContext) -> ChildSpec:
    return ChildSpec("link", LinkActor, kwargs={"context": of})


def mail_role(of: NodeContext) -> ChildSpec:
    """The mail role's supervisor with its mailer only: the role's notifier would send the
    e-mails owed to members of the shared test keyspace to the test's SMTP server."""
    mailer_spec = ChildSpec("mailer", actor.MailerActor, kwargs={"context": of})
    return Supervisor.spec("mail", [mailer_spec], intensity=5, period=30.0)


@pytest.fixture(scope="module")
def site(config: ClusterConfig, store: Store) -> Iterator[MailSite]:
    """``web-mt`` (web) and ``mail-mt`` (mail) linked, and the website of ``web-mt``."""
    with MailSandbox() as sandbox:
        nodes = {"web-mt": node("web-mt", "web"), "mail-mt": node("mail-mt", "mail")}
        linked = mail_config(config, sandbox.port, nodes)
        cookie = secrets.token_bytes(16)
        web, mail = (context(linked, name, cookie, store) for name in nodes)
        store.watermarks.advance(JOB, times.now())  # nothing due: only "send now" sends
        with (
            running([link(mail), mail_role(mail)]) as mail.tree,
            running([link(web)]) as web.tree,
        ):
            wait_until(lambda: web.link is not None and web.link.is_up("mail-mt"), 10, "link")
            with web_server(web) as base:
                yield MailSite(base, sandbox, linked)


@pytest.fixture
def admin(site: MailSite, admin_login: tuple[str, str]) -> Browser:
    browser = Browser(site.base)
    browser.sign_in(*admin_login)
    return browser


def page(browser: Browser, path: str) -> str:
    """The page at ``path``, which must answer 200."""
    status, _, body = browser.get(path)
    assert status == 200, (path, status, body[:500])
    return body.decode()


def element(shown: str, tag: str, element_id: str) -> str:
    """What is inside the ``tag`` element of ``shown`` whose id is ``element_id`` (an element
    with no element of the same tag inside)."""
    found = re.search(rf'<{tag}\b[^>]*\bid="{element_id}"[^>]*>(.*?)</{tag}>', shown, re.S)
    assert found, f"no {tag} {element_id} in {shown[:3000]}"
    return found.group(1)


def test_the_pages_know_the_mailers_path_and_job() -> None:
    """The Mail pages do not import the mail package (web nodes load it only with the mail
    role): their names of the mailer and its job must stay the mail package's."""
    assert (MAILER, JOB) == (actor.MAILER, mailer.JOB)


@pytest.mark.parametrize("path", PAGES)
def test_every_mail_page_needs_a_signed_in_admin(site: MailSite, path: str) -> None:
    status, headers, _ = Browser(site.base).get(path)
    assert status == 302
    assert headers["Location"] == "/admin/login?next=" + quote(path, safe="")


def test_send_now_needs_a_signed_in_admin(site: MailSite) -> None:
    anonymous = Browser(site.base)
    sent = len(site.sandbox.received)
    status, _, body = anonymous.get("/admin/mail/send", {"_xsrf": anonymous.xsrf("/admin/login")})
    assert status == 403 and b"sign in again" in body
    assert len(site.sandbox.received) == sent


def test_send_now_without_the_xsrf_token_is_refused(
    admin: Browser, site: MailSite, store: Store
) -> None:
    watermark = store.watermarks.get(JOB)
    sent = len(site.sandbox.received)
    status, _, body = admin.get("/admin/mail/send", {})
    assert status == 403 and b"not sent from this site" in body
    assert len(site.sandbox.received) == sent
    assert store.watermarks.get(JOB) == watermark


def test_the_page_shows_the_mailers_status_and_the_watermark(
    admin: Browser, site: MailSite, store: Store
) -> None:
    shown = page(admin, "/admin/mail")
    status = element(shown, "dl", "status")
    assert "on mail-mt" in status and "(this node)" not in status
    mail = site.config.mail
    assert mail is not None
    assert f"{mail.send_at:%H:%M}:00 (UTC)" in status  # the next slot, in the digest's zone
    watermark = store.watermarks.get(JOB)
    assert watermark is not None
    assert f"{watermark:%Y-%m-%d %H:%M:%S} (UTC)" in element(shown, "dd", "watermark")
    assert 'action="/admin/mail/send"' in shown and 'name="_xsrf"' in shown
    assert 'href="/admin/mail/preview"' in shown
    assert 'href="/admin/mail">Mail</a>' in shown  # in the management UI's navigation
    assert 'id="mailer-problem"' not in shown


def test_the_preview_shows_the_subject_the_text_and_the_html_as_it_will_look(
    admin: Browser, site: MailSite, store: Store
) -> None:
    question = "Is the <b>hall</b> heated?"
    store.sms_messages.record("in", new_phone(), SMS_NUMBER, question, action="needs_person")
    watermark = store.watermarks.get(JOB)
    sent = len(site.sandbox.received)
    name = site.config.site.name
    shown = page(admin, "/admin/mail/preview")
    subject = element(shown, "dd", "subject")
    assert re.match(rf"{re.escape(escape(name))}: \d+ needs? a person", subject), subject
    text = element(shown, "pre", "text")
    assert text.startswith(escape(f"{name}: the digest")) and "Summary\n-------" in text
    assert escape(question) in text
    assert 'href="/admin/mail/preview.html"' in shown
    status, headers, body = admin.get("/admin/mail/preview.html")
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=UTF-8"
    assert headers["Content-Security-Policy"] == PREVIEW_POLICY
    assert "default-src 'none'" in PREVIEW_POLICY and "script" not in PREVIEW_POLICY
    html = body.decode()
    assert html.startswith("<!DOCTYPE html>") and f"{escape(name)}: the digest</h1>" in html
    assert "<script" not in html
    assert f"<q>{escape(question)}</q>" in html  # the member's text, escaped by the digest
    assert len(site.sandbox.received) == sent  # nothing sent, claimed or moved
    assert store.watermarks.get(JOB) == watermark


def test_send_now_sends_one_digest_and_the_history_lists_it(
    admin: Browser, site: MailSite, store: Store
) -> None:
    before = store.watermarks.get(JOB)
    assert before is not None
    site.sandbox.refuse("office@example.org")
    token = admin.xsrf("/admin/mail")
    status, headers, _ = admin.get("/admin/mail/send", {"_xsrf": token})
    assert status == 303 and headers["Location"] == "/admin/mail"
    [received] = site.sandbox.wait_for(1)
    message_id = received.message["Message-ID"]
    assert message_id.startswith("<digest-")
    assert received.rcpt_tos == ("staff@example.org",)
    shown = page(admin, "/admin/mail")
    flash = element(shown, "p", "flash")
    assert "The digest was sent by mail-mt" in flash and escape(message_id) in flash
    assert "refused 1 recipient" in flash
    assert page(admin, "/admin/mail").count('id="flash"') == 0  # told once
    rows = element(shown, "table", "history").split("<tr")
    [at] = [i for i, row in enumerate(rows) if escape(message_id) in row]
    row, refused = rows[at], rows[at + 1]
    after = store.watermarks.get(JOB)
    assert after is not None and after > before
    assert f"{before:%Y-%m-%d %H:%M:%S}<br>to {after:%Y-%m-%d %H:%M:%S}</td>" in row
    assert '<td class="outcome-sent">sent</td><td>2, 1 refused</td>' in row
    assert refused.startswith(' class="refused">')  # the server's answer, under its run
    assert "office@example.org: 550" in refused and escape("<office@example.org>") in refused
    last = element(shown, "dd", "last-run")
    assert last.startswith("sent, covering") and escape(message_id) in last
    assert store.digests.recent(JOB, 1)[0].node == "mail-mt"
    assert len(site.sandbox.received) == 1


def test_a_send_the_server_defers_or_rejects_is_told_and_moves_nothing(
    admin: Browser, site: MailSite, store: Store
) -> None:
    watermark = store.watermarks.get(JOB)
    sent = len(site.sandbox.received)
    site.sandbox.defer_all(True)
    try:
        status, _, _ = admin.get("/admin/mail/send", {"_xsrf": admin.xsrf("/admin/mail")})
    finally:
        site.sandbox.defer_all(False)
    assert status == 303
    shown = page(admin, "/admin/mail")
    assert element(shown, "p", "flash").startswith("Deferred: the SMTP server is unavailable (")
    assert "<dt>Retrying</dt>" in shown and element(shown, "dd", "last-run").startswith("deferred")
    site.sandbox.refuse("staff@example.org")  # office@ is refused already: every recipient
    status, _, _ = admin.get("/admin/mail/send", {"_xsrf": admin.xsrf("/admin/mail")})
    assert status == 303
    shown = page(admin, "/admin/mail")
    assert element(shown, "p", "flash").startswith("Rejected by the SMTP server: ")
    [rejected] = store.digests.recent(JOB, 1)
    assert rejected.outcome == "rejected" and rejected.node == "mail-mt"
    assert rejected.message_id is not None
    rows = element(shown, "table", "history").split("<tr")
    [row] = [row for row in rows if escape(rejected.message_id) in row]
    assert '<td class="outcome-rejected">rejected</td><td>2, 2 refused</td>' in row
    assert len(site.sandbox.received) == sent
    assert store.watermarks.get(JOB) == watermark


def test_with_no_mail_node_reachable_the_pages_say_so(
    config: ClusterConfig, store: Store, admin_login: tuple[str, str]
) -> None:
    nodes = {"web-lone": node("web-lone", "web"), "mail-gone": node("mail-gone", "mail")}
    lone = context(mail_config(config, free_port(), nodes), "web-lone", b"cookie", store)
    with running([link(lone)]) as lone.tree, web_server(lone) as base:
        browser = Browser(base)
        browser.sign_in(*admin_login)
        shown = page(browser, "/admin/mail")
        problem = "the link to every mail node (mail-gone) is down"
        assert problem in element(shown, "p", "mailer-problem")
        assert 'id="history"' in shown and 'id="watermark"' in shown
        assert problem in element(page(browser, "/admin/mail/preview"), "p", "mailer-problem")
        status, _, body = browser.get("/admin/mail/preview.html")
        assert status == 503 and problem in body.decode()
        token = browser.xsrf("/admin/mail")
        status, headers, _ = browser.get("/admin/mail/send", {"_xsrf": token})
        assert status == 303 and headers["Location"] == "/admin/mail"
        flash = element(page(browser, "/admin/mail"), "p", "flash")
        assert flash == f"The digest was not sent: {problem}."


def test_a_node_without_its_link_says_so(web_context: Any, admin_login: tuple[str, str]) -> None:
    with web_server(web_context) as base:
        browser = Browser(base)
        browser.sign_in(*admin_login)
        problem = element(page(browser, "/admin/mail"), "p", "mailer-problem")
        assert "the node link of web-test is not running" in problem


def test_a_node_with_both_roles_asks_its_own_mailer(
    config: ClusterConfig, store: Store, admin_login: tuple[str, str]
) -> None:
    nodes = {"hub-mt": node("hub-mt", "web", "mail")}
    store.watermarks.advance(JOB, times.now())  # nothing due: the mailer sends nothing at start
    with MailSandbox() as sandbox:
        hub = context(mail_config(config, sandbox.port, nodes), "hub-mt", b"cookie", store)
        with running([mail_role(hub)]) as hub.tree, web_server(hub) as base:
            browser = Browser(base)
            browser.sign_in(*admin_login)
            assert "on hub-mt (this node)" in element(page(browser, "/admin/mail"), "dl", "status")
            preview = page(browser, "/admin/mail/preview")
            assert element(preview, "dd", "subject").startswith(escape(config.site.name))
        assert sandbox.received == []
