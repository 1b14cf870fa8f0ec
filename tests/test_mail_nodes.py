"""The mail role in real node processes: two mail nodes on the real Cassandra cluster send one
digest per period between them and one reminder per confirmed member, and a mailer crashed
from the shell is restarted by its supervisor and sends the next one, once. The SMTP server is
a real one on loopback (:class:`mail.sandbox.MailSandbox`), in this process; it also takes the
e-mails the nodes' notifiers owe members of the test keyspace, which these tests leave aside.

The nodes' digest is job ``digest`` of the test keyspace, whose watermark only moves forward
and outlives each run; :func:`one_digest_due` picks the daily slot (``mail.send_at``) and
moves the watermark so that exactly one period is due when the nodes start, whatever ran
before.
"""

from __future__ import annotations

import ast
import functools
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

import signups
from mail.mailer import JOB
from mail.sandbox import MailSandbox, Received
from notices.announcer import reminder_key
from storage import times
from storage.digests import DigestRun
from storage.store import Store
from tests.helpers import (
    NodeProcesses,
    mail_cluster,
    mails_to,
    make_event,
    new_address,
    web_sign_up,
)

MAILER = "root/mail/mailer"
REMINDERS = "root/mail/reminders"
NODES = ("mail-a", "mail-b")
QUIET_S = 5.0
"""How long no further digest may come once the one due has."""
FIRST_S = 45.0
"""How long the digest due at the nodes' start may take (their next check if Cassandra was
not connected yet when they started: 30 s)."""
SETTLE_S = 0.5
"""How long after a slot the nodes may find it passed (their clocks are this machine's)."""
REMINDER_S = 120.0
"""How long an event's reminders may take: the nodes' next check (every 30 s), with the
reminders of every other test event due then too (they all start tomorrow), and the e-mails."""
LONGEST_WAIT_S = 75.0
"""The longest wait for a slot after the watermark (a minute at most, the slots being whole
minutes); a longer one means the watermark is in the future."""


def one_digest_due(store: Store) -> tuple[str, datetime]:
    """Make exactly one digest due from now on: the slot ``send_at`` ("HH:MM", UTC) and the
    watermark it is due from (the period's start).

    The slot is an hour ago, or, when an earlier run moved the watermark past that, the first
    whole minute after the watermark, waited for if it is still to come (at most a minute:
    the file run twice in a row). The watermark then moves to half a minute before the slot
    if it was older, so that the period is no catch-up.
    """
    watermark = store.watermarks.get(JOB)
    slot = (times.now() - timedelta(hours=1)).replace(second=0, microsecond=0)
    if watermark is not None and watermark >= slot:
        slot = watermark.replace(second=0, microsecond=0) + timedelta(minutes=1)
        wait = (slot - times.now()).total_seconds() + SETTLE_S
        assert wait < LONGEST_WAIT_S, f"the {JOB} watermark is in the future: {watermark}"
        time.sleep(max(0.0, wait))
    store.watermarks.advance(JOB, slot - timedelta(seconds=30), "tests/test_mail_nodes.py")
    start = store.watermarks.get(JOB)
    assert start is not None and start < slot
    return f"{slot:%H:%M}", start


@pytest.fixture(scope="module")
def sandbox() -> Iterator[MailSandbox]:
    with MailSandbox() as running:
        yield running


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory, sandbox: MailSandbox, store: Store
) -> Iterator[tuple[NodeProcesses, datetime, datetime]]:
    """Nodes ``mail-a`` and ``mail-b`` started together with one digest due; (the processes,
    the watermark it is due from, when they were started)."""
    send_at, start = one_digest_due(store)
    started = times.now()
    with mail_cluster(tmp_path_factory.mktemp("mail"), sandbox.port, send_at, NODES) as nodes:
        yield nodes, start, started


def ask(nodes: NodeProcesses, node: str, message: str) -> Any:
    """The mailer's answer to ``message`` on ``node``, asked from the shell."""
    return ast.literal_eval(nodes.output(node, f"ask {MAILER} {message}"))


def runs_since(store: Store, moment: datetime) -> list[DigestRun]:
    """The digest runs these nodes recorded after ``moment``, oldest first."""
    runs = reversed(store.digests.recent(JOB))
    return [run for run in runs if run.at > moment and run.node in NODES]


def digests(sandbox: MailSandbox) -> list[Received]:
    """The digests the sandbox took, oldest first (not the e-mails to members)."""
    return [
        mail
        for mail in sandbox.received
        if (mail.message["Message-ID"] or "").startswith(f"<{JOB}-")
    ]


def checked_nothing(nodes: NodeProcesses, node: str) -> bool:
    """Whether ``node``'s reminders actor answered a check, within the shell's time to answer
    (5 s; a check queued behind a long one answers later), having owed nothing."""
    result = nodes.shell(node, f"ask {REMINDERS} check")
    return result.returncode == 0 and ast.literal_eval(result.stdout) == 0


def wait_digests(sandbox: MailSandbox, count: int, timeout: float) -> list[Received]:
    """The digests the sandbox took, once there are ``count``."""
    NodeProcesses.wait_until(lambda: len(digests(sandbox)) >= count, f"{count} digest(s)", timeout)
    return digests(sandbox)


def no_more(nodes: NodeProcesses, sandbox: MailSandbox, count: int) -> None:
    """Both mailers check once more (an ask returns when the check is done), and no digest
    beyond ``count`` comes within :data:`QUIET_S` (a quiet period: nothing to wait on)."""
    for node in NODES:
        assert ask(nodes, node, "check") is None
    time.sleep(QUIET_S)
    assert len(digests(sandbox)) == count


def test_two_mail_nodes_started_together_send_one_digest(
    cluster: tuple[NodeProcesses, datetime, datetime], sandbox: MailSandbox, store: Store
) -> None:
    nodes, start, started = cluster
    [digest] = wait_digests(sandbox, 1, FIRST_S)
    no_more(nodes, sandbox, 1)
    [run] = runs_since(store, started)
    assert (run.outcome, run.covers_from, run.catch_up) == ("sent", start, False)
    assert digest.message["Message-ID"] == run.message_id
    assert digest.rcpt_tos == ("staff@example.org",)
    watermark = store.watermarks.get(JOB)
    assert watermark is not None and watermark == run.covers_to > start
    # The node that lost the claim ran nothing: its mailer has no last run.
    last = {node: ask(nodes, node, "status")["last"] for node in NODES}
    assert last[run.node] is not None and last[run.node]["outcome"] == "sent"
    assert [last[node] for node in NODES if node != run.node] == [None]


def test_a_mailer_crashed_from_the_shell_comes_back_and_sends_the_next_digest_once(
    cluster: tuple[NodeProcesses, datetime, datetime], sandbox: MailSandbox, store: Store
) -> None:
    nodes, _, started = cluster
    before = len(wait_digests(sandbox, 1, FIRST_S))  # the one due at the nodes' start
    restarts = int(nodes.table("mail-a", "tree")[MAILER][3])
    assert "crash injected" in nodes.output("mail-a", f"crash {MAILER}")
    nodes.wait_until(
        lambda: nodes.table("mail-a", "tree")[MAILER][3] == str(restarts + 1),
        "the mailer's restart",
    )
    row = nodes.table("mail-a", "tree")[MAILER]
    assert row[2] == "running"
    assert "InjectedCrash" in " ".join(row[7:])
    watermark = store.watermarks.get(JOB)
    assert watermark is not None
    # The next period, by hand: from the watermark to now, sent by the restarted mailer (its
    # check at start, before in its mailbox, found nothing due).
    result = ask(nodes, "mail-a", "send_now")
    assert result["outcome"] == "sent", result
    assert result["period"]["start"] == watermark.isoformat()
    received = wait_digests(sandbox, before + 1, 10)
    no_more(nodes, sandbox, before + 1)
    assert received[-1].message["Message-ID"] == result["message_id"]
    assert len({message.message["Message-ID"] for message in received}) == len(received)
    runs = runs_since(store, started)
    assert (runs[-1].message_id, runs[-1].node) == (result["message_id"], "mail-a")
    assert store.watermarks.get(JOB) == runs[-1].covers_to


def test_two_mail_nodes_remind_each_confirmed_member_once(
    cluster: tuple[NodeProcesses, datetime, datetime],
    sandbox: MailSandbox,
    store: Store,
    short_code: str,
) -> None:
    nodes, _, _ = cluster
    event, option = make_event(store, short_code, capacity=2)
    members = [new_address("r") for _ in range(3)]
    refs = [web_sign_up(store, option, member) for member in members]
    signups.cancel(store, signups.Client.web("198.51.100.7"), refs[2], members[2])
    NodeProcesses.wait_until(
        lambda: all(mails_to(sandbox, member, "Reminder:") for member in members[:2]),
        "a reminder to each confirmed member",
        REMINDER_S,
    )
    for node in NODES:  # one more check each, once it is free (a check can take a while):
        NodeProcesses.wait_until(  # nothing more is owed
            functools.partial(checked_nothing, nodes, node), f"{node}'s next check", REMINDER_S
        )
    time.sleep(QUIET_S)
    for member, ref in zip(members[:2], refs, strict=False):
        [reminder] = mails_to(sandbox, member, "Reminder:")
        assert ref in str(reminder) and event.title in reminder["Subject"]
    assert mails_to(sandbox, members[2], "Reminder:") == []
    announcement = store.announcements.get(reminder_key(event))
    assert announcement is not None and announcement.state == "done"
    assert announcement.claimed_by in NODES and announcement.owed == {"email": 2}
