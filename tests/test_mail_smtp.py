"""Sending e-mail (mail.smtp) to a real SMTP server on loopback (mail.sandbox): the message
as it arrives, refused recipients, the two families of errors (a server that defers, is down,
never answers, refuses a login, offers no STARTTLS), and the sandbox itself. No Cassandra
needed."""

from __future__ import annotations

import dataclasses
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session

from mail import smtp
from mail.sandbox import MailSandbox
from tests.helpers import free_port

SENDER = "gather@example.org"
STAFF = ("ana@example.org", "ben@example.org", "cy@example.org")
PASSWORD = "not-to-be-shown-4f1c"
DATE = datetime(2025, 1, 31, 6, 0, 5, tzinfo=UTC)


@pytest.fixture
def sandbox() -> Iterator[MailSandbox]:
    with MailSandbox() as running:
        yield running


def settings(port: int, **changes: Any) -> smtp.SmtpSettings:
    """Plain SMTP to 127.0.0.1:``port`` without a login, with ``changes``."""
    plain = smtp.SmtpSettings(
        host="127.0.0.1", port=port, security="none", user=None, password=None, timeout_s=5.0
    )
    return dataclasses.replace(plain, **changes)


def digest(html: str | None = "<p>3 sign-ups today.</p>") -> EmailMessage:
    return smtp.new_message(
        sender=SENDER,
        recipients=STAFF,
        subject="Gather: today",
        text="3 sign-ups today.",
        html=html,
        message_id=smtp.message_id("digest", "2025-01-31T06:00:00.000+00:00", "example.org"),
        date=DATE,
    )


# --- the message ---


def test_a_message_arrives_with_both_parts_its_date_and_its_message_id(
    sandbox: MailSandbox,
) -> None:
    delivery = smtp.send(settings(sandbox.port), digest(), STAFF)

    assert delivery == smtp.Delivery(accepted=STAFF, refused={})
    [received] = sandbox.wait_for(1)
    assert received.mail_from == SENDER
    assert received.rcpt_tos == STAFF
    message = received.message
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in message.iter_parts()] == [
        "text/plain",
        "text/html",
    ]
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None and html is not None
    assert plain.get_content() == "3 sign-ups today.\n"
    assert html.get_content() == "<p>3 sign-ups today.</p>\n"
    assert message["Message-ID"] == "<digest-2025-01-31T06-00-00.000-00-00@example.org>"
    assert message["Date"] == "Fri, 31 Jan 2025 06:00:05 +0000"
    assert message["Date"].datetime == DATE
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["From"] == SENDER
    assert message["To"] == ", ".join(STAFF)
    assert message["Subject"] == "Gather: today"


def test_a_message_without_html_is_plain_text() -> None:
    message = digest(html=None)
    assert message.get_content_type() == "text/plain"
    assert message.get_content() == "3 sign-ups today.\n"


def test_a_message_needs_an_aware_date() -> None:
    with pytest.raises(ValueError, match="time zone"):
        smtp.new_message(
            sender=SENDER,
            recipients=STAFF,
            subject="s",
            text="t",
            html=None,
            message_id="<a@b>",
            date=datetime(2025, 1, 31, 6, 0),
        )


def test_message_id_keeps_a_safe_key_and_replaces_the_rest() -> None:
    assert smtp.message_id("digest", "2025-01-31_a.b", "example.org") == (
        "<digest-2025-01-31_a.b@example.org>"
    )
    assert smtp.message_id("digest", "a b<c>@d:e+f\nñ", "example.org") == (
        "<digest-a-b-c--d-e-f--@example.org>"
    )
    key = "2025-01-31T06:00:00.000+00:00"
    assert smtp.message_id("digest", key, "x.org") == smtp.message_id("digest", key, "x.org")


# --- refused recipients ---


def test_a_refused_recipient_is_in_refused_and_the_others_receive_it(
    sandbox: MailSandbox,
) -> None:
    sandbox.refuse(STAFF[1])

    delivery = smtp.send(settings(sandbox.port), digest(), STAFF)

    assert delivery.accepted == (STAFF[0], STAFF[2])
    assert delivery.refused == {STAFF[1]: f"550 5.1.1 <{STAFF[1]}>: mailbox unavailable"}
    [received] = sandbox.wait_for(1)
    assert received.rcpt_tos == (STAFF[0], STAFF[2])


def test_every_recipient_refused_is_rejected_with_their_answers(sandbox: MailSandbox) -> None:
    for address in STAFF:
        sandbox.refuse(address)

    with pytest.raises(smtp.MailRejected) as caught:
        smtp.send(settings(sandbox.port), digest(), STAFF)

    assert caught.value.refused == {
        address: f"550 5.1.1 <{address}>: mailbox unavailable" for address in STAFF
    }
    assert caught.value.reason == "the server refused all 3 recipients (550)"
    shown = f"{caught.value} {caught.value!r} {caught.value.__cause__!r}"
    assert not any(address in shown for address in STAFF), shown
    assert sandbox.received == []


class _Busy:
    """A handler whose every mailbox is busy (450 to each RCPT TO)."""

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        return f"450 4.2.1 <{address}>: mailbox busy"


def test_every_recipient_deferred_is_unavailable() -> None:
    controller = Controller(_Busy(), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        with pytest.raises(smtp.MailUnavailable) as caught:
            smtp.send(settings(controller.port), digest(), STAFF)
    finally:
        controller.stop()
    assert caught.value.reason == "the server refused all 3 recipients (450)"


# --- the server unavailable ---


def test_a_server_that_defers_is_unavailable_until_it_takes_mail_again(
    sandbox: MailSandbox,
) -> None:
    sandbox.defer_all(True)
    with pytest.raises(smtp.MailUnavailable) as caught:
        smtp.send(settings(sandbox.port), digest(), STAFF)
    assert "MAIL FROM with 451 4.3.0 try again later" in caught.value.reason
    assert sandbox.received == []

    sandbox.defer_all(False)
    assert smtp.send(settings(sandbox.port), digest(), STAFF).accepted == STAFF
    sandbox.wait_for(1)


def test_a_stopped_server_is_unavailable_at_once_and_works_again_on_the_same_port(
    sandbox: MailSandbox,
) -> None:
    port = sandbox.port
    sandbox.stop()

    started = time.monotonic()
    with pytest.raises(smtp.MailUnavailable) as caught:
        smtp.send(settings(port), digest(), STAFF)
    assert time.monotonic() - started < 1.0
    assert f"cannot reach 127.0.0.1:{port}" in caught.value.reason

    sandbox.start()
    assert sandbox.port == port
    assert smtp.send(settings(port), digest(), STAFF).accepted == STAFF
    sandbox.wait_for(1)


def test_a_server_that_never_answers_is_unavailable_after_the_timeout() -> None:
    with socket.socket() as silent:  # the kernel accepts connections; nobody answers them
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        started = time.monotonic()
        with pytest.raises(smtp.MailUnavailable) as caught:
            smtp.send(settings(silent.getsockname()[1], timeout_s=1.0), digest(), STAFF)
        waited = time.monotonic() - started
    assert 0.9 <= waited < 3.0, waited
    assert "timed out" in caught.value.reason


# --- logging in and TLS ---


def test_no_login_is_tried_without_a_user(sandbox: MailSandbox) -> None:
    # The sandbox offers no AUTH: a login would fail the send.
    assert smtp.send(settings(sandbox.port), digest(), STAFF).accepted == STAFF

    with pytest.raises(smtp.MailRejected) as caught:
        smtp.send(settings(sandbox.port, user="gather", password=PASSWORD), digest(), STAFF)
    assert "AUTH extension not supported" in caught.value.reason
    assert len(sandbox.wait_for(1)) == 1


def _refuse_login(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: object
) -> AuthResult:
    return AuthResult(success=False, handled=False)


def test_a_refused_login_is_rejected_without_showing_the_password() -> None:
    controller = Controller(
        object(),
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=_refuse_login,
        auth_require_tls=False,
    )
    controller.start()
    login = settings(controller.port, user="gather", password=PASSWORD)
    try:
        with pytest.raises(smtp.MailRejected) as caught:
            smtp.send(login, digest(), STAFF)
    finally:
        controller.stop()
    assert "the login with 535" in caught.value.reason
    assert PASSWORD not in f"{caught.value} {caught.value!r} {caught.value.__cause__!r}"
    assert PASSWORD not in repr(login)


def test_starttls_without_starttls_offered_is_rejected(sandbox: MailSandbox) -> None:
    with pytest.raises(smtp.MailRejected) as caught:
        smtp.send(settings(sandbox.port, security="starttls"), digest(), STAFF)
    assert "STARTTLS extension not supported" in caught.value.reason
    assert sandbox.received == []


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="security"):
        settings(25, security="tls")
    with pytest.raises(ValueError, match="password"):
        settings(25, user="gather")
    with pytest.raises(ValueError, match="recipient"):
        smtp.send(settings(25), digest(), [])


# --- the sandbox ---


@pytest.mark.parametrize("host", ["0.0.0.0", "localhost", "::1", "192.168.1.10"])
def test_the_sandbox_listens_on_loopback_only(host: str) -> None:
    with pytest.raises(ValueError, match=r"127\.0\.0\.0/8"):
        MailSandbox(host=host)


def test_the_sandbox_writes_what_it_takes_to_its_folder(tmp_path: Path) -> None:
    folder = tmp_path / "var" / "mail"
    with MailSandbox(folder=folder) as sandbox:
        smtp.send(settings(sandbox.port), digest(), STAFF)
        [received] = sandbox.wait_for(1)

    [written] = folder.iterdir()
    assert written.name.endswith("-1.eml")
    assert written.name.startswith(f"{received.at:%Y%m%dT%H%M%SZ}")
    assert written.read_bytes() == received.content
    assert b"Message-ID: <digest-" in received.content


def test_wait_for_names_how_many_came(sandbox: MailSandbox) -> None:
    smtp.send(settings(sandbox.port), digest(), STAFF)
    with pytest.raises(TimeoutError, match=r"1 of 2 messages came within 0\.2 s"):
        sandbox.wait_for(2, timeout=0.2)
