"""Telling an event's registrants (notices.announcer), against the real cluster and a real SMTP
server on loopback: reminders the day before, once however many nodes try, to confirmed
members only; a new time or place; a cancellation that survives the event's deletion; an
announcement left half-done by a dead node finished (or voided) by another.

Other tests share the keyspace: each test looks only at its own event's notices, and owes
reminders with :meth:`~notices.announcer.Announcer.remind_event` for its own event alone."""

from __future__ import annotations

import dataclasses
import json
import threading
from datetime import time, timedelta
from email.message import EmailMessage
from uuid import uuid4

import pytest

import signups
from config.cluster import ClusterConfig
from mail.sandbox import MailSandbox
from notices.announcer import Announcer, reminder_due
from notices.sender import Sender
from signups import Client
from sms import replies
from sms.segments import fits_one
from storage import times
from storage.announcements import Announcement
from storage.errors import Conflict
from storage.events import Event, SignupOption
from storage.snapshots import snapshot, unpack
from storage.store import Store
from tests.helpers import (
    announced,
    mails_to,
    make_event,
    new_address,
    new_phone,
    send_all,
    web_sign_up,
)

WEB = Client.web("198.51.100.9")
MIDNIGHT = time(0, 0)
"""Reminders owed from midnight (UTC) the day before: every test event starts tomorrow."""


@pytest.fixture
def event(store: Store, short_code: str) -> tuple[Event, SignupOption]:
    return make_event(store, short_code, capacity=2)


def test_reminders_are_owed_once_to_confirmed_members_however_many_nodes_try(
    store: Store,
    mail_sandbox: MailSandbox,
    email_sender: Sender[EmailMessage],
    event: tuple[Event, SignupOption],
) -> None:
    the_event, option = event
    seated, phone, gone, waiting = new_address("a"), new_phone(), new_address("a"), new_address("a")
    refs = {contact: web_sign_up(store, option, contact) for contact in (seated, phone)}
    signups.cancel(store, WEB, refs.pop(phone), phone)
    refs[gone] = web_sign_up(store, option, gone)  # the seat the phone gave up
    refs[waiting] = web_sign_up(store, option, waiting)  # waitlisted: no reminder
    send_all(email_sender, store)  # the codes
    signups.cancel(store, WEB, refs[gone], gone)  # promotes the waitlisted one

    nodes = [Announcer(store, f"node-{n}", MIDNIGHT) for n in range(4)]
    results: list[Announcement | None] = []
    now = times.now()
    threads = [
        threading.Thread(target=lambda a=a: results.append(a.remind_event(the_event, now)))
        for a in nodes
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    [done] = [result for result in results if result is not None]
    assert done.state == "done" and done.owed == {"email": 2}
    assert all(a.remind_event(the_event, times.now()) is None for a in nodes)
    reminders = announced(store, done)
    assert sorted(n.ref or "" for n in reminders) == sorted([refs[seated], refs[waiting]])

    send_all(email_sender, store)
    [mail] = mails_to(mail_sandbox, seated, "Reminder:")
    assert refs[seated] in str(mail) and the_event.title in mail["Subject"]
    assert len(mails_to(mail_sandbox, waiting, "Reminder:")) == 1  # promoted, so confirmed
    assert mails_to(mail_sandbox, gone, "Reminder:") == []


def test_a_reminder_is_due_the_day_before_until_the_start() -> None:
    start = times.now().replace(hour=12, minute=0, second=0, microsecond=0) + timedelta(days=2)
    event = Event(
        event_id=uuid4(),
        title="Choir",
        description="",
        icon_asset=None,
        background_asset=None,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        time_zone="America/New_York",
        location="",
        short_code="CHOIR",
        is_open=True,
        created_at=start - timedelta(days=10),
        updated_at=start - timedelta(days=10),
    )
    eve = start - timedelta(days=1)  # 07:00 New York the day before (12:00 UTC)
    assert not reminder_due(event, eve - timedelta(hours=7, minutes=1), MIDNIGHT)
    assert reminder_due(event, eve - timedelta(hours=6, minutes=59), MIDNIGHT)
    assert reminder_due(event, start - timedelta(seconds=1), MIDNIGHT)
    assert not reminder_due(event, start, MIDNIGHT)
    assert not reminder_due(dataclasses.replace(event, cancelled_at=eve), eve, MIDNIGHT)
    created_that_day = dataclasses.replace(event, created_at=start - timedelta(hours=1))
    assert not reminder_due(created_that_day, start - timedelta(minutes=30), MIDNIGHT)


def test_a_new_time_tells_every_registrant_once(
    store: Store,
    mail_sandbox: MailSandbox,
    email_sender: Sender[EmailMessage],
    event: tuple[Event, SignupOption],
) -> None:
    the_event, option = event
    seated, phone, waiting, gone = new_address("a"), new_phone(), new_address("a"), new_address("a")
    refs = {c: web_sign_up(store, option, c) for c in (seated, phone, waiting, gone)}
    signups.cancel(store, WEB, refs[gone], gone)
    send_all(email_sender, store)
    announcer = Announcer(store, "staff-node")

    renamed, none = announcer.change(the_event.event_id, title=the_event.title + " (renamed)")
    assert none is None and renamed.title.endswith("(renamed)")
    later = the_event.starts_at + timedelta(hours=2)
    moved, announcement = announcer.change(
        the_event.event_id, starts_at=later, ends_at=later + timedelta(hours=2)
    )
    assert announcement is not None and announcement.owed == {"email": 2, "sms": 1}
    assert moved.starts_at == later
    assert announcer.change(the_event.event_id, starts_at=later)[1] is None  # the same again
    assert sorted(n.kind for n in announced(store, announcement)) == ["changed"] * 3

    send_all(email_sender, store)
    send_all(email_sender, store)
    for contact in (seated, waiting):
        [mail] = mails_to(mail_sandbox, contact, "Changed:")
        assert refs[contact] in str(mail) and "has changed: it is now on" in str(mail)
    assert mails_to(mail_sandbox, gone, "Changed:") == []
    [text] = [n for n in announced(store, announcement) if n.channel == "sms"]
    assert text.contact == phone and text.body is not None  # its snapshot, sent by sms


def test_a_change_changed_again_before_it_went_out_tells_only_the_latest(
    store: Store,
    mail_sandbox: MailSandbox,
    email_sender: Sender[EmailMessage],
    event: tuple[Event, SignupOption],
) -> None:
    the_event, option = event
    member = new_address("a")
    web_sign_up(store, option, member)
    send_all(email_sender, store)
    announcer = Announcer(store, "staff-node")
    first = announcer.change(the_event.event_id, location="The old hall")[1]
    second = announcer.change(the_event.event_id, location="The new hall")[1]
    assert first is not None and second is not None and first.key != second.key

    send_all(email_sender, store)
    [mail] = mails_to(mail_sandbox, member, "Changed:")
    assert "The new hall" in str(mail) and "The old hall" not in str(mail)
    [superseded] = announced(store, first)
    assert (superseded.state, superseded.outcome) == (
        "skipped",
        "the event was changed again since",
    )


def test_a_cancelled_event_tells_its_registrants_even_once_deleted(
    store: Store,
    mail_sandbox: MailSandbox,
    email_sender: Sender[EmailMessage],
    event: tuple[Event, SignupOption],
) -> None:
    the_event, option = event
    seated, waiting = new_address("a"), new_address("a")
    refs = {c: web_sign_up(store, option, c) for c in (seated, new_address("a"), waiting)}
    send_all(email_sender, store)
    announcer = Announcer(store, "staff-node")

    cancelled, announcement = announcer.cancel(the_event.event_id)
    assert cancelled.cancelled and not cancelled.is_open
    assert announcement is not None and announcement.owed == {"email": 3}
    assert announcer.cancel(the_event.event_id)[1] is None
    with pytest.raises(Conflict, match="cancelled"):
        store.events.set_open(the_event.event_id, True)
    assert store.events.options(the_event.event_id)[0].seats.is_open is False
    with pytest.raises(Conflict, match="cancelled"):  # no seat may open up on it now
        store.events.update_option(the_event.event_id, option.option_id, capacity=10)
    with pytest.raises(Conflict, match="cancelled"):
        store.events.add_option(the_event.event_id, "More", 10)
    store.events.delete(the_event.event_id)  # purges the ledger before anything is sent

    send_all(email_sender, store)
    for contact in (seated, waiting):
        [mail] = mails_to(mail_sandbox, contact, "Cancelled:")
        assert refs[contact] in str(mail) and "is cancelled" in str(mail)
    assert {n.state for n in announced(store, announcement)} == {"sent"}


def test_an_announcement_a_dead_node_left_is_finished_or_voided(
    store: Store, event: tuple[Event, SignupOption], short_code: str
) -> None:
    the_event, option = event
    refs = [web_sign_up(store, option, new_address("a")) for _ in range(2)]
    long_ago = times.now() - timedelta(minutes=5)
    dead = store.announcements.claim("cancelled", the_event, "", "dead-node", long_ago)
    assert dead is not None
    store.events.cancel(the_event.event_id, dead.owed_at)  # it died right after this
    other, _ = make_event(store, short_code[:-1] + "Z")
    third, third_option = make_event(store, short_code[:-1] + "Y")
    web_sign_up(store, third_option, new_address("a"))
    lost = store.announcements.claim("cancelled", third, "", "dead-node", long_ago)
    assert lost is not None  # it died before cancelling
    moved = dataclasses.replace(other, starts_at=other.starts_at + timedelta(hours=1))
    never = store.announcements.claim("changed", moved, "x", "dead-node", long_ago)
    assert never is not None  # it died before the change was made

    live = Announcer(store, "live-node")
    finished = {a.key: a for a in live.sweep(times.now())}
    assert finished[dead.key].state == "done" and finished[dead.key].owed == {"email": 2}
    assert finished[never.key].state == "void" and "did not apply" in finished[never.key].detail
    assert sorted(n.ref or "" for n in announced(store, finished[dead.key])) == sorted(refs)
    assert {a.key for a in live.sweep(times.now())}.isdisjoint(finished)
    assert finished[lost.key].state == "void"  # staff press Cancel again: it is told now
    again = live.cancel(third.event_id)[1]
    assert again is not None and again.key == lost.key and again.owed == {"email": 1}


def test_a_snapshot_reads_with_a_field_more_or_less(
    store: Store, event: tuple[Event, SignupOption]
) -> None:
    the_event, option = event
    registration = store.registrations.get(web_sign_up(store, option, new_address("a")))
    body = json.loads(snapshot(registration, the_event))
    body["event"]["retired_field"] = 1
    del body["event"]["cancelled_at"]  # a field added since: its default
    kept, shown = unpack(json.dumps(body))
    assert (kept.ref, kept.idempotency_key, kept.node) == (registration.ref, "", "")
    assert shown.starts_at == the_event.starts_at and shown.cancelled_at is None


def test_each_notice_has_words_that_fit_one_text(
    config: ClusterConfig, store: Store, event: tuple[Event, SignupOption]
) -> None:
    the_event, option = event
    ref = web_sign_up(store, option, new_phone())
    registration = store.registrations.get(ref)
    long = dataclasses.replace(the_event, title="A" * 90, location="Hall " * 20)
    for words in (replies.reminder_notice, replies.changed_notice, replies.cancelled_notice):
        for shown in (the_event, long):
            text = words(registration, shown, config.site)
            assert ref in text and fits_one(text), text


def test_an_event_that_is_over_cannot_be_cancelled(store: Store, short_code: str) -> None:
    start = times.now() - timedelta(days=2)
    over = store.events.create(
        title="Over",
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        time_zone="UTC",
        short_code=short_code,
    )
    with pytest.raises(Conflict, match="over"):
        Announcer(store, "staff-node").cancel(over.event_id)
    assert not store.events.get(over.event_id).cancelled
