"""The e-mail notices to members, against the real cluster and a real SMTP server on loopback:
a sign-up's code sent once, sent again on request, a promotion off the waitlist, the server
down then back, a refused recipient, and the SMS channel's notices left alone.

Other tests owe e-mail notices in the same keyspace: each test uses addresses of its own and
looks only at what reached them, and every test first sends what is owed. Mail node processes
on the test keyspace (tests/test_mail_nodes.py) send these notices too: run these tests apart
from them, or a node may send a notice before this test's sender does."""

from __future__ import annotations

import time
from email.message import EmailMessage

import pytest

import signups
from mail.sandbox import MailSandbox
from notices.sender import Sender
from signups import Client
from storage import times
from storage.events import Event, SignupOption
from storage.notices import Notice
from storage.store import Store
from tests.helpers import mail_text, mails_to, make_event, new_address, new_phone, web_sign_up

WEB = Client.web("198.51.100.7")


@pytest.fixture
def event(store: Store, short_code: str) -> tuple[Event, SignupOption]:
    return make_event(store, short_code, capacity=1)


def owed(store: Store, channel: str, ref: str) -> list[Notice]:
    """The notices of today owed about ``ref``."""
    today = times.now().date()
    return [n for n in store.notices.recent(channel, 1) if n.ref == ref and n.day == today]


def test_a_sign_up_gets_its_code_once_and_again_on_request(
    store: Store,
    mail_sandbox: MailSandbox,
    email_sender: Sender[EmailMessage],
    event: tuple[Event, SignupOption],
) -> None:
    the_event, option = event
    address = new_address()
    ref = web_sign_up(store, option, address)
    assert email_sender.run_pass(store) >= 1
    [mail] = mails_to(mail_sandbox, address)
    assert mail["Subject"] == f"Your sign-up code for {the_event.title}"
    assert mail["To"] == address and mail["Message-ID"].startswith("<notice-code-")
    body = mail_text(mail)
    assert ref in body and the_event.title in body and "You are signed up" in body
    assert f"/cancel?ref={ref}" in body
    assert [n.state for n in owed(store, "email", ref)] == ["sent"]

    email_sender.run_pass(store)
    assert len(mails_to(mail_sandbox, address)) == 1

    signups.send_code_again(store, option.option_id, address)
    email_sender.run_pass(store)
    first, again = mails_to(mail_sandbox, address)
    assert ref in mail_text(again) and again["Message-ID"] != first["Message-ID"]


def test_a_cancellation_promotes_a_waitlisted_address_by_e_mail(
    store: Store,
    mail_sandbox: MailSandbox,
    email_sender: Sender[EmailMessage],
    event: tuple[Event, SignupOption],
) -> None:
    the_event, option = event
    seated, waiting = new_address(), new_address()
    seated_ref = web_sign_up(store, option, seated)
    waiting_ref = web_sign_up(store, option, waiting)
    email_sender.run_pass(store)
    [code] = mails_to(mail_sandbox, waiting)
    assert "on the waitlist" in mail_text(code)

    signups.cancel(store, WEB, seated_ref, seated)
    email_sender.run_pass(store)
    code, promoted = mails_to(mail_sandbox, waiting)
    assert promoted["Subject"] == f"A seat opened up: {the_event.title}"
    assert waiting_ref in mail_text(promoted) and "you are now confirmed" in mail_text(promoted)
    assert len(mails_to(mail_sandbox, seated)) == 1  # its code; nothing about the cancellation
    kinds = {n.kind: n.state for n in owed(store, "email", waiting_ref)}
    assert kinds == {"code": "sent", "promoted": "sent"}


def test_an_unreachable_server_is_retried_until_it_is_back(
    store: Store,
    mail_sandbox: MailSandbox,
    email_sender: Sender[EmailMessage],
    event: tuple[Event, SignupOption],
) -> None:
    _, option = event
    address = new_address()
    mail_sandbox.stop()
    try:
        ref = web_sign_up(store, option, address)
        assert email_sender.run_pass(store) == 1  # the first refused connection ends the pass
        [notice] = owed(store, "email", ref)
        assert notice.state == "retry" and email_sender.counts["retry"] == 1
    finally:
        mail_sandbox.start()
    time.sleep(2.5)  # the first back-off: 2 s, give or take a fifth
    email_sender.run_pass(store)
    assert len(mails_to(mail_sandbox, address)) == 1
    [notice] = owed(store, "email", ref)
    assert (notice.state, notice.attempts) == ("sent", 2)


def test_a_refused_recipient_is_settled_failed(
    store: Store,
    mail_sandbox: MailSandbox,
    email_sender: Sender[EmailMessage],
    event: tuple[Event, SignupOption],
) -> None:
    _, option = event
    address = new_address()
    mail_sandbox.refuse(address)
    ref = web_sign_up(store, option, address)
    email_sender.run_pass(store)
    [notice] = owed(store, "email", ref)
    assert notice.state == "failed" and notice.attempts == 1
    assert notice.outcome is not None and address not in notice.outcome
    assert mails_to(mail_sandbox, address) == [] and email_sender.counts["failed"] == 1


def test_a_notice_to_a_phone_is_left_to_the_sms_channel(
    store: Store,
    mail_sandbox: MailSandbox,
    email_sender: Sender[EmailMessage],
    event: tuple[Event, SignupOption],
) -> None:
    _, option = event
    ref = web_sign_up(store, option, new_phone())
    email_sender.run_pass(store)
    [notice] = owed(store, "sms", ref)
    assert (notice.state, notice.claimed_by) == (None, None)
    assert owed(store, "email", ref) == []
