"""The notifier's delivery of owed notices, in this process against the real cluster and the
loopback provider sandbox: once across senders, retried with back-off, the unknown outcome
counted and sent again (at least once), the provider's opt-out recorded."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from datetime import time as clock

import pytest

from config.cluster import ClusterConfig
from notices.announcer import Announcer
from sms.notifier import Notifier
from sms.providers import TwilioProvider
from sms.sandbox import ProviderSandbox
from sms.segments import fits_one
from storage import times
from storage.notices import Notice
from storage.store import Store
from tests.helpers import SMS_NUMBER, make_event, new_phone, web_sign_up


@pytest.fixture(scope="module")
def sandbox() -> Iterator[ProviderSandbox]:
    with ProviderSandbox() as running:
        yield running


def notifier(config: ClusterConfig, sandbox: ProviderSandbox, node: str) -> Notifier:
    provider = TwilioProvider(
        sandbox.twilio_account_sid, sandbox.twilio_auth_token, SMS_NUMBER, sandbox.url
    )
    return Notifier(config.site, provider, node, send_timeout_s=1.0)


def owe_reply(store: Store, number: str) -> str:
    key = f"reply:test-{secrets.token_hex(8)}"
    store.notices.owe("reply", key, number, body="Hello from the notifier tests")
    return key


def drain(sender: Notifier, store: Store) -> None:
    """Send what other tests left owed, so that a planned failure meets this test's notice."""
    while sender.run_pass(store):
        pass


def notice(store: Store, key: str) -> Notice:
    today = times.now().date()
    return next(n for n in store.notices.recent("sms", 1) if n.key == key and n.day == today)


def test_two_senders_send_a_notice_once(
    config: ClusterConfig, store: Store, sandbox: ProviderSandbox
) -> None:
    number = new_phone()
    key = owe_reply(store, number)
    senders = [notifier(config, sandbox, f"node-{n}") for n in range(2)]
    passes = [threading.Thread(target=sender.run_pass, args=(store,)) for sender in senders]
    for running in passes:
        running.start()
    for running in passes:
        running.join()
    for sender in senders:
        sender.close()
    assert [text.body for text in sandbox.texts(to=number)] == ["Hello from the notifier tests"]
    assert notice(store, key).state == "sent"
    [out] = store.sms_messages.of_number(number)
    assert (out.direction, out.action, out.to_number) == ("out", "reply", number)


def test_a_refused_send_is_retried_and_an_unknown_one_sent_again(
    config: ClusterConfig, store: Store, sandbox: ProviderSandbox
) -> None:
    sender = notifier(config, sandbox, "node-retry")
    try:
        drain(sender, store)
        number = new_phone()
        key = owe_reply(store, number)
        sandbox.fail_next(1, status=503)
        sender.run_pass(store)
        assert notice(store, key).state == "retry" and sandbox.texts(to=number) == []
        time.sleep(2.5)  # the first back-off: 2 s, give or take a fifth
        sandbox.stall_next(1, 3.0)
        sender.run_pass(store)
        assert notice(store, key).state == "retry" and sender.counts["uncertain"] == 1
        time.sleep(5.0)  # the second: 4 s, give or take a fifth (at most 4.8 s)
        sender.run_pass(store)
        assert notice(store, key).state == "sent"
        # At least once: the stalled send was taken too, so the member has it twice.
        assert len(sandbox.texts(to=number)) == 2
    finally:
        sender.close()


def test_a_send_refused_as_opted_out_records_the_opt_out(
    config: ClusterConfig, store: Store, sandbox: ProviderSandbox
) -> None:
    sender = notifier(config, sandbox, "node-optout")
    try:
        number = new_phone()
        sandbox.opt_out(number)
        key = owe_reply(store, number)
        sender.run_pass(store)
        assert notice(store, key).state == "opted_out"
        assert store.sms_optouts.is_opted_out(number)
        assert sender.counts["opted_out"] == 1
    finally:
        sender.close()


def test_a_reply_reaches_an_opted_out_number(
    config: ClusterConfig, store: Store, sandbox: ProviderSandbox
) -> None:
    """The conversation answers an opted-out number only for HELP and the opt-out's own
    confirmation: through an API, that reply is sent all the same."""
    sender = notifier(config, sandbox, "node-reply")
    try:
        number = new_phone()
        store.sms_optouts.opt_out(number, "STOP")
        key = owe_reply(store, number)
        sender.run_pass(store)
        assert notice(store, key).state == "sent" and len(sandbox.texts(to=number)) == 1
    finally:
        sender.close()


def test_reminders_and_a_cancellation_reach_phones_but_not_an_opted_out_one(
    config: ClusterConfig, store: Store, sandbox: ProviderSandbox, short_code: str
) -> None:
    sender = notifier(config, sandbox, "node-announce")
    try:
        drain(sender, store)
        event, option = make_event(store, short_code)
        phone, quiet = new_phone(), new_phone()
        ref = web_sign_up(store, option, phone)
        web_sign_up(store, option, quiet)
        store.sms_optouts.opt_out(quiet, "STOP")
        announcer = Announcer(store, "node-announce", clock(0, 0))
        assert announcer.remind_event(event, times.now()) is not None
        drain(sender, store)
        announcer.cancel(event.event_id)
        drain(sender, store)
        code, reminder, cancelled = (text.body for text in sandbox.texts(to=phone))
        assert ref in code
        assert "reminder" in reminder and f"CANCEL {ref}" in reminder and fits_one(reminder)
        assert "is cancelled" in cancelled and ref in cancelled and fits_one(cancelled)
        assert sandbox.texts(to=quiet) == []
        actions = [message.action or "" for message in store.sms_messages.of_number(phone)]
        assert sorted(actions) == ["code", "event_cancelled", "reminder"]
    finally:
        sender.close()
