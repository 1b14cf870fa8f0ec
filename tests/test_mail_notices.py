"""The e-mail notices to members, against the real cluster and a real SMTP server on loopback:
a sign-up's code sent once, sent again on request, a promotion off the waitlist, the server
down then back, a refused recipient, and the SMS channel's notices left alone.

Other tests owe e-mail notices in the same keyspace: each test uses addresses of its own and
looks only at what reached them, and every test first sends what is owed. Mail node processes
on the test keyspace (tests/test_mail_nodes.py) send these notices too: run these tests apart
from them, or a node may send a notice before this test's sender does."""

from __future__ import annotations

import dataclasses
import secrets
import time
from collections.abc import Iterator
from email.message import EmailMessage

import pytest

import signups
from config.cluster import ClusterConfig
from mail import notices
from mail.sandbox import MailSandbox
from notices.sender import Sender
from signups import Client
from storage import times
from storage.events import Event, SignupOption
from storage.notices import Notice
from storage.store import Store
from tests.helpers import make_event, new_phone

WEB = Client.web("198.51.100.7")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[MailSandbox]:
    with MailSandbox() as running:
        yield running


@pytest.fixture
def sender(
    config: ClusterConfig, store: Store, sandbox: MailSandbox
) -> Iterator[Sender[EmailMessage]]:
    assert config.mail is not None
    mail = dataclasses.replace(
        config.mail,
        smtp_host=sandbox.host,
        smtp_port=sandbox.port,
        security="none",
        user=None,
        password=None,
        timeout_s=5.0,
    )
    running = notices.notifier(mail, config.site, f"mail-{secrets.token_hex(3)}")
    while running.run_pass(store):  # what other tests left owed, out of the way
        pass
    yield running
    running.close()


@pytest.fixture
def event(store: Store, short_code: str) -> tuple[Event, SignupOption]:
    return make_event(store, short_code, capacity=1)


def new_address() -> str:
    return f"m-{secrets.token_hex(4)}@example.org"


def sign_up(store: Store, option: SignupOption, contact: str) -> str:
    """A sign-up on the website; its reference code."""
    result = signups.sign_up(store, WEB, option.option_id, "Iris", contact, key=signups.new_key())
    return result.registration.ref


def mails(sandbox: MailSandbox, address: str) -> list[EmailMessage]:
    return [received.message for received in sandbox.received if address in received.rcpt_tos]


def text(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def owed(store: Store, channel: str, ref: str) -> list[Notice]:
    """The notices of today owed about ``ref``."""
    today = times.now().date()
    return [n for n in store.notices.recent(channel, 1) if n.ref == ref and n.day == today]


def test_a_sign_up_gets_its_code_once_and_again_on_request(
    store: Store,
    sandbox: MailSandbox,
    sender: Sender[EmailMessage],
    event: tuple[Event, SignupOption],
) -> None:
    the_event, option = event
    address = new_address()
    ref = sign_up(store, option, address)
    assert sender.run_pass(store) >= 1
    [mail] = mails(sandbox, address)
    assert mail["Subject"] == f"Your sign-up code for {the_event.title}"
    assert mail["To"] == address and mail["Message-ID"].startswith("<notice-code-")
    body = text(mail)
    assert ref in body and the_event.title in body and "You are signed up" in body
    assert f"/cancel?ref={ref}" in body
    assert [n.state for n in owed(store, "email", ref)] == ["sent"]

    sender.run_pass(store)
    assert len(mails(sandbox, address)) == 1

    signups.send_code_again(store, option.option_id, address)
    sender.run_pass(store)
    first, again = mails(sandbox, address)
    assert ref in text(again) and again["Message-ID"] != first["Message-ID"]


def test_a_cancellation_promotes_a_waitlisted_address_by_e_mail(
    store: Store,
    sandbox: MailSandbox,
    sender: Sender[EmailMessage],
    event: tuple[Event, SignupOption],
) -> None:
    the_event, option = event
    seated, waiting = new_address(), new_address()
    seated_ref = sign_up(store, option, seated)
    waiting_ref = sign_up(store, option, waiting)
    sender.run_pass(store)
    [code] = mails(sandbox, waiting)
    assert "on the waitlist" in text(code)

    signups.cancel(store, WEB, seated_ref, seated)
    sender.run_pass(store)
    code, promoted = mails(sandbox, waiting)
    assert promoted["Subject"] == f"A seat opened up: {the_event.title}"
    assert waiting_ref in text(promoted) and "you are now confirmed" in text(promoted)
    assert len(mails(sandbox, seated)) == 1  # its code; nothing about the cancellation
    kinds = {n.kind: n.state for n in owed(store, "email", waiting_ref)}
    assert kinds == {"code": "sent", "promoted": "sent"}


def test_an_unreachable_server_is_retried_until_it_is_back(
    store: Store,
    sandbox: MailSandbox,
    sender: Sender[EmailMessage],
    event: tuple[Event, SignupOption],
) -> None:
    _, option = event
    address = new_address()
    sandbox.stop()
    try:
        ref = sign_up(store, option, address)
        assert sender.run_pass(store) == 1  # the first refused connection ends the pass
        [notice] = owed(store, "email", ref)
        assert notice.state == "retry" and sender.counts["retry"] == 1
    finally:
        sandbox.start()
    time.sleep(2.5)  # the first back-off: 2 s, give or take a fifth
    sender.run_pass(store)
    assert len(mails(sandbox, address)) == 1
    [notice] = owed(store, "email", ref)
    assert (notice.state, notice.attempts) == ("sent", 2)


def test_a_refused_recipient_is_settled_failed(
    store: Store,
    sandbox: MailSandbox,
    sender: Sender[EmailMessage],
    event: tuple[Event, SignupOption],
) -> None:
    _, option = event
    address = new_address()
    sandbox.refuse(address)
    ref = sign_up(store, option, address)
    sender.run_pass(store)
    [notice] = owed(store, "email", ref)
    assert notice.state == "failed" and notice.attempts == 1
    assert notice.outcome is not None and address not in notice.outcome
    assert mails(sandbox, address) == [] and sender.counts["failed"] == 1


def test_a_notice_to_a_phone_is_left_to_the_sms_channel(
    store: Store,
    sandbox: MailSandbox,
    sender: Sender[EmailMessage],
    event: tuple[Event, SignupOption],
) -> None:
    _, option = event
    ref = sign_up(store, option, new_phone())
    sender.run_pass(store)
    [notice] = owed(store, "sms", ref)
    assert (notice.state, notice.claimed_by) == (None, None)
    assert owed(store, "email", ref) == []
