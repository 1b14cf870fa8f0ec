"""Stable names: messages reach whichever instance is behind a path; none is dropped silently."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from actors import ActorUnavailable, NoSuchActor
from supervision import BRUTAL_KILL, Backoff
from tests.helpers import WAIT, Journal, running, settled, wait_until, worker


def test_messages_after_a_restart_reach_the_new_instance() -> None:
    journal = Journal()
    with running([worker("w", journal)], intensity=5) as tree:
        ref = tree.ref("root/w")
        first = ref.ask("whoami")
        ref.tell("crash")
        ref.tell("after")
        assert ref.ask("whoami") != first
        assert ref.ask("count") == 1  # the new instance handled "after"
        assert tree.ref("root/w") is ref


def test_messages_queued_behind_a_crash_go_to_the_replacement_in_order() -> None:
    journal = Journal()
    release = threading.Event()
    with running([worker("w", journal)], intensity=5) as tree:
        ref = tree.ref("root/w")
        ref.tell(("block", release))
        journal.wait_count(1, "blocked", "root/w")
        ref.tell("crash")
        for letter in "abc":
            ref.tell(letter)
        release.set()
        assert ref.ask("count") == 3
        assert [e[2] for e in journal.entries if e[0] == "got"] == ["a", "b", "c"]
        settled(tree, "root/w", restarts=1)


def test_a_message_to_an_actor_being_restarted_waits_for_it() -> None:
    journal = Journal()
    backoff = Backoff(min=0.2, max=0.2, jitter=0.0)
    with running([worker("w", journal, backoff=backoff)]) as tree:
        tree.tell("root/w", "crash")
        journal.wait_count(1, "failure", "root/w")
        began = time.monotonic()
        tree.tell("root/w", "late", timeout=WAIT)
        waited = time.monotonic() - began
        journal.wait_count(1, "got", "root/w", "late")
        assert 0.1 < waited < WAIT
        assert tree.snapshot("root/w").restarts == 1


def test_a_message_to_an_actor_being_restarted_fails_after_the_timeout() -> None:
    journal = Journal()
    with running([worker("w", journal, backoff=Backoff(min=WAIT, max=WAIT))]) as tree:
        tree.tell("root/w", "crash")
        journal.wait_count(1, "failure", "root/w")
        began = time.monotonic()
        with pytest.raises(ActorUnavailable, match="root/w is restarting"):
            tree.tell("root/w", "late", timeout=0.1)
        with pytest.raises(ActorUnavailable):
            tree.ask("root/w", "late", timeout=0.1)
        assert time.monotonic() - began < 1.0


def test_a_stopped_actor_refuses_messages_at_once() -> None:
    with running([worker("w", Journal())]) as tree:
        tree.stop("root/w")
        began = time.monotonic()
        with pytest.raises(ActorUnavailable, match="root/w is stopped"):
            tree.tell("root/w", "x", timeout=WAIT)
        with pytest.raises(ActorUnavailable, match="root/w is stopped"):
            tree.ask("root/w", "x", timeout=WAIT)
        assert time.monotonic() - began < 1.0


def test_messages_left_in_a_stopped_actor_are_refused_not_dropped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    journal = Journal()
    release = threading.Event()
    answers: list[BaseException] = []

    def ask_in_background() -> None:
        try:
            tree.ask("root/w", "queued", timeout=WAIT)
        except ActorUnavailable as error:
            answers.append(error)

    try:
        with running([worker("w", journal, shutdown=BRUTAL_KILL)]) as tree:
            tree.tell("root/w", ("block", release))
            journal.wait_count(1, "blocked", "root/w")
            tree.tell("root/w", "told")
            asker = threading.Thread(target=ask_in_background)
            asker.start()
            wait_until(lambda: tree.snapshot("root/w").mailbox == 2, what="the ask queued")
            tree.stop("root/w")
            asker.join(WAIT)
            assert len(answers) == 1
            assert "root/w is stopped" in str(answers[0])
    finally:
        release.set()
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("1 told message(s) not handled" in r.getMessage() for r in warnings)


def test_unknown_paths_are_refused() -> None:
    with running([worker("w", Journal())]) as tree:
        with pytest.raises(NoSuchActor, match="no actor at root/nope"):
            tree.tell("root/nope", "x")
        assert tree.registry.get("root/nope") is None
        assert tree.registry.paths() == ["root", "root/w"]


def test_no_message_is_lost_or_reordered_across_many_restarts() -> None:
    journal = Journal()
    count = 2000
    with running([worker("w", journal)], intensity=100) as tree:
        ref = tree.ref("root/w")

        def send() -> None:  # a crash every 200 messages, while the stream goes on
            for i in range(count):
                if i % 200 == 100:
                    ref.tell("crash")
                ref.tell(i)

        sender = threading.Thread(target=send)
        sender.start()
        sender.join(WAIT)
        journal.wait_for(lambda entries: sum(e[0] == "got" for e in entries) >= count)
        assert [e[2] for e in journal.entries if e[0] == "got"] == list(range(count))
        settled(tree, "root/w", restarts=10)
