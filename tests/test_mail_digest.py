"""The digest against the real Cassandra cluster and a real SMTP server on loopback.

Each test gives its mailer a job name of its own (its watermark, claims and history), so
that tests do not see each other's periods; sign-ups and texts are seeded just after the
test's watermark, and the period ends just after them.
"""

from __future__ import annotations

import secrets
import threading
import time as clock
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest

import signups
from config.cluster import ClusterConfig
from mail.mailer import Mailer, RunResult
from mail.period import Period
from mail.sandbox import MailSandbox
from signups import Client
from storage import times
from storage.store import Store
from tests import helpers
from tests.helpers import make_event, new_phone

RECIPIENTS = ("staff@example.org", "pastor@example.org")


@pytest.fixture
def sandbox() -> Iterator[MailSandbox]:
    with MailSandbox() as server:
        yield server


def mail_config(config: ClusterConfig, port: int, send_empty: bool = True) -> ClusterConfig:
    """``config`` with a mail section for the loopback server on ``port`` (tests.helpers)."""
    return helpers.mail_config(config, port, RECIPIENTS, send_empty)


def new_job() -> str:
    return f"digest-test-{secrets.token_hex(4)}"


def mailer(config: ClusterConfig, job: str, node: str = "mail-a") -> Mailer:
    return Mailer(config, node, job=job, claim_ttl_s=2, backoff_s=(0.2, 0.5))


def parts(message: EmailMessage) -> tuple[str, str]:
    """The plain-text and HTML parts of a received digest."""
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    return str(text.get_content()), str(html.get_content())


def seed(store: Store, short_code: str) -> dict[str, object]:
    """Sign-ups on three channels and texts of every kind, just now; what the digest must
    show."""
    event, option = make_event(store, short_code, capacity=3)
    phones = [new_phone() for _ in range(4)]
    for channel, phone in zip(("kiosk", "web", "sms", "web"), phones, strict=True):
        client = {
            "kiosk": Client.kiosk("kiosk-1"),
            "web": Client.web("127.0.0.1"),
            "sms": Client.sms(phone),
        }[channel]
        signups.sign_up(store, client, option.option_id, "Member", phone, 1)
    member, stranger = new_phone(), new_phone()
    messages = store.sms_messages
    messages.record("in", member, "+15550100100", f"JOIN {short_code}", action="signed_up")
    messages.record("in", member, "+15550100100", "STATUS", action="status")
    messages.record("in", stranger, "+15550100100", "Is there parking?", action="needs_person")
    messages.record("in", stranger, "+15550100100", "STOP", action="opted_out")
    messages.record("out", "+15550100100", member, "You're confirmed", action="reply")
    return {"event": event, "option": option, "member": member, "stranger": stranger}


def test_a_seeded_periods_digest_has_exactly_its_texts_and_sign_ups(
    config: ClusterConfig, store: Store, sandbox: MailSandbox, short_code: str
) -> None:
    job = new_job()
    store.watermarks.advance(job, times.now() - timedelta(milliseconds=5))
    seeded = seed(store, short_code)
    result = mailer(mail_config(config, sandbox.port), job).send_now(store)
    assert result.outcome == "sent", result
    [received] = sandbox.wait_for(1)
    assert sorted(received.rcpt_tos) == sorted(RECIPIENTS)
    message = received.message
    assert message["Message-ID"] == result.message_id
    assert message["Date"]
    assert message["Subject"] == f"{config.site.name}: 1 needs a person, 4 texts, 4 sign-ups"
    text, html = parts(message)
    event = seeded["event"]
    for part in (text, html):
        assert "Texts received: 4 from 2 numbers (1 needs a person); texts sent: 1" in part
        assert "Sign-ups: 4 (1 kiosk, 2 web, 1 sms)" in part
        assert "Options that filled up: 1; opt-outs: 1" in part
        assert "Is there parking?" in part
        assert str(seeded["stranger"]) in part and str(seeded["member"]) in part
        assert f"Event {short_code}" in part
        assert "0 of 3 seats left" in part and "waitlist 1" in part
        assert "1 of them waitlisted" in part
        assert "/admin/sms/attention" in part
        assert f"/admin/events/{event.event_id}/registrations" in part  # type: ignore[attr-defined]
    assert text.index("Texts that need a person") < text.index("Texts by sender")
    assert len(message.as_bytes()) < 100_000
    assert store.watermarks.get(job) == result.period.end if result.period else False
    [run] = store.digests.recent(job)
    assert run.outcome == "sent" and run.message_id == result.message_id and not run.refused


def test_two_mailers_send_one_digest_per_period(
    config: ClusterConfig, store: Store, sandbox: MailSandbox
) -> None:
    job = new_job()
    store.watermarks.advance(job, times.now() - timedelta(days=1, hours=2))
    cluster = mail_config(config, sandbox.port)
    mailers = [mailer(cluster, job, node) for node in ("mail-a", "mail-b", "mail-c")]
    results: list[RunResult] = []
    start = threading.Barrier(len(mailers))

    def run(one: Mailer) -> None:
        start.wait()
        results.append(one.check(store))

    threads = [threading.Thread(target=run, args=(one,)) for one in mailers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcomes = sorted(result.outcome for result in results)
    assert outcomes.count("sent") == 1, outcomes
    assert set(outcomes) <= {"sent", "claimed_elsewhere", "not_due"}, outcomes
    sandbox.wait_for(1)
    for one in mailers:  # and later checks of the same period find it sent
        assert one.check(store).outcome == "not_due"
    clock.sleep(0.5)
    assert len(sandbox.received) == 1


def test_smtp_down_then_up_sends_once_and_keeps_the_watermark_meanwhile(
    config: ClusterConfig, store: Store, sandbox: MailSandbox
) -> None:
    job = new_job()
    before = times.now() - timedelta(days=1, hours=2)
    store.watermarks.advance(job, before)
    one = mailer(mail_config(config, sandbox.port), job)
    sandbox.stop()
    assert one.check(store).outcome == "deferred"
    assert store.watermarks.get(job) == before
    assert one.check(store).outcome == "backing_off"
    sandbox.defer_all(True)
    sandbox.start()
    clock.sleep(0.7)
    assert one.check(store).outcome == "deferred"  # up, but answering 4xx
    assert store.watermarks.get(job) == before
    sandbox.defer_all(False)
    deadline = clock.monotonic() + 10
    while (result := one.check(store)).outcome != "sent":
        assert clock.monotonic() < deadline, result
        clock.sleep(0.1)
    assert len(sandbox.wait_for(1)) == 1
    assert store.watermarks.get(job) == result.period.end if result.period else False
    assert one.check(store).outcome == "not_due"


def test_three_missed_periods_give_one_catch_up_digest(
    config: ClusterConfig, store: Store, sandbox: MailSandbox
) -> None:
    job = new_job()
    cluster = mail_config(config, sandbox.port)
    assert cluster.mail is not None
    slot = datetime.combine(datetime.now(UTC).date(), cluster.mail.send_at, tzinfo=UTC)
    if slot > datetime.now(UTC):
        slot -= timedelta(days=1)
    store.watermarks.advance(job, slot - timedelta(days=3) + timedelta(minutes=1))
    one = mailer(cluster, job)
    result = one.check(store)
    assert result.outcome == "sent" and result.period is not None
    assert result.period.catch_up and result.period.missed == 3
    [received] = sandbox.wait_for(1)
    assert "(catch-up, 3 days)" in received.message["Subject"]
    text, _ = parts(received.message)
    assert "a catch-up, covering 3 days missed" in text
    assert one.check(store).outcome == "not_due"
    assert [run.catch_up for run in store.digests.recent(job)] == [True]


def test_a_refused_recipient_is_reported_while_the_others_receive_it(
    config: ClusterConfig, store: Store, sandbox: MailSandbox
) -> None:
    job = new_job()
    store.watermarks.advance(job, times.now() - timedelta(days=1, hours=2))
    sandbox.refuse("pastor@example.org")
    result = mailer(mail_config(config, sandbox.port), job).check(store)
    assert result.outcome == "sent" and result.refused == 1
    [received] = sandbox.wait_for(1)
    assert received.rcpt_tos == ("staff@example.org",)
    [run] = store.digests.recent(job)
    assert (
        list(run.refused) == ["pastor@example.org"] and "550" in run.refused["pastor@example.org"]
    )


def test_a_crash_after_acceptance_resends_with_the_same_message_id(
    config: ClusterConfig, store: Store, sandbox: MailSandbox
) -> None:
    job = new_job()
    store.watermarks.advance(job, times.now() - timedelta(days=1, hours=2))
    cluster = mail_config(config, sandbox.port)
    crashing = mailer(cluster, job, "mail-a")
    advance = store.watermarks.advance

    def die(job: str, at: datetime, note: str = "") -> None:
        raise RuntimeError("killed between the server's acceptance and the watermark")

    store.watermarks.advance = die  # type: ignore[method-assign]
    try:
        with pytest.raises(RuntimeError):
            crashing.check(store)
    finally:
        store.watermarks.advance = advance  # type: ignore[method-assign]
    first = sandbox.wait_for(1)[0].message["Message-ID"]
    result = mailer(cluster, job, "mail-b").check(store)  # the claim was released by the crash
    assert result.outcome == "sent"
    second = sandbox.wait_for(2)[1].message["Message-ID"]
    assert first == second == result.message_id
    assert mailer(cluster, job, "mail-c").check(store).outcome == "not_due"


def test_an_empty_period_sends_a_short_note_or_nothing(
    config: ClusterConfig, store: Store, sandbox: MailSandbox
) -> None:
    for send_empty, expected in ((True, "sent"), (False, "empty")):
        job = new_job()
        store.watermarks.advance(job, times.now() - timedelta(milliseconds=5))
        one = mailer(mail_config(config, sandbox.port, send_empty=send_empty), job)
        result = one.send_now(store)  # from the watermark to now: nothing happened in it
        assert result.outcome == expected, result
        assert result.period is not None and store.watermarks.get(job) == result.period.end
        assert [run.outcome for run in store.digests.recent(job)] == [expected]
    [received] = sandbox.wait_for(1)
    assert received.message["Subject"] == f"{config.site.name}: nothing new"
    text, html = parts(received.message)
    assert "No texts and no sign-ups in this period." in text
    assert "No texts and no sign-ups in this period." in html


def test_the_period_key_is_its_start() -> None:
    start = datetime(2026, 12, 1, 7, tzinfo=UTC)
    period = Period(start=start, end=start + timedelta(days=1), catch_up=False, missed=1)
    assert period.key == "2026-12-01T07:00:00.000+00:00"
