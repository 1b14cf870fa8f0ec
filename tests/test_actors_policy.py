"""The one failure policy: unexpected errors crash (tell, ask, start-up), domain errors do not."""

from __future__ import annotations

import logging
import threading

import pytest

from actors import ActorCrashed, AskTimeout, DomainError, GatherActor, InvalidOperation
from supervision import ChildSpec
from tests.helpers import WAIT, Countdown, Journal, Worker, last_failure, running, settled, worker


class Validation(DomainError):
    """A domain error as later code will declare them."""


class Picky(GatherActor):
    def on_receive(self, message: object) -> object:
        if message == "invalid":
            raise Validation("party size must be at least 1")
        return "ok"


def crash_records(caplog: pytest.LogCaptureFixture, path: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage().startswith(f"{path} crashed")]


def test_ask_to_a_crashing_actor_gets_an_error_and_the_actor_is_restarted() -> None:
    journal = Journal()
    with running([worker("w", journal)], intensity=5) as tree:
        first = tree.ask("root/w", "whoami")
        with pytest.raises(ActorCrashed, match="root/w crashed") as caught:
            tree.ask("root/w", "crash")
        assert isinstance(caught.value.__cause__, ValueError)
        assert tree.ask("root/w", "whoami") != first
        settled(tree, "root/w", restarts=1)


def test_tell_that_crashes_restarts_the_actor() -> None:
    journal = Journal()
    with running([worker("w", journal)]) as tree:
        tree.tell("root/w", "crash")
        journal.wait_count(2, "start", "root/w")
        assert journal.count("failure", "root/w") == 1
        settled(tree, "root/w", restarts=1)
        assert last_failure(tree, "root/w").type == "ValueError"


def test_domain_error_goes_back_to_the_caller_without_a_crash(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="gather")
    with running([ChildSpec("p", Picky)]) as tree:
        assert tree.ask("root/p", "hello") == "ok"
        with pytest.raises(Validation, match="party size"):
            tree.ask("root/p", "invalid")
        tree.tell("root/p", "invalid")
        assert tree.ask("root/p", "anything") == "ok"
        now = tree.snapshot("root/p")
        assert (now.restarts, now.last_failure, now.handled) == (0, None, 4)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("Validation" in r.getMessage() for r in caplog.records if r.levelno == logging.INFO)


def test_runtime_domain_errors_do_not_crash_supervisors() -> None:
    with running([worker("w", Journal())]) as tree:
        with pytest.raises(InvalidOperation):
            tree.start_child("root", "x")
        assert tree.snapshot("root").restarts == 0


def test_every_crash_is_logged_once_with_path_and_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="gather")
    journal = Journal()
    with running([worker("w", journal)], intensity=5) as tree:
        tree.tell("root/w", "crash")
        journal.wait_count(2, "start", "root/w")
        with pytest.raises(ActorCrashed):
            tree.ask("root/w", "crash")
        journal.wait_count(3, "start", "root/w")
        settled(tree, "root/w", restarts=2)
    records = crash_records(caplog, "root/w")
    assert len(records) == 2
    for record in records:
        assert record.levelno == logging.ERROR
        assert record.exc_info is not None and record.exc_info[0] is ValueError
        assert "on_receive" in caplog.text  # the traceback is in the log


def test_crash_in_start_up_is_a_failure_like_any_other(caplog: pytest.LogCaptureFixture) -> None:
    journal = Journal()
    with running([worker("w", journal, fail_start=Countdown(1))], intensity=5) as tree:
        settled(tree, "root/w", restarts=1)
        assert last_failure(tree, "root/w").type == "RuntimeError"
        assert journal.of("start") == ["root/w", "root/w"]
        assert journal.count("failure", "root/w") == 1
        assert tree.ask("root/w", "hello") == "hello"
    assert len(crash_records(caplog, "root/w")) == 1
    assert "in on_start" in crash_records(caplog, "root/w")[0].getMessage()


class BadInit(GatherActor):
    def __init__(self, fail: Countdown) -> None:
        super().__init__()
        if fail.take():
            raise OSError("no such device")


def test_crash_in_the_constructor_is_a_start_up_failure(caplog: pytest.LogCaptureFixture) -> None:
    with running([ChildSpec("b", BadInit, args=(Countdown(1),))], intensity=5) as tree:
        settled(tree, "root/b", restarts=1)
        assert last_failure(tree, "root/b").type == "OSError"
    assert "root/b crashed in __init__" in caplog.text


class SlowStart(GatherActor):
    """Hangs in ``on_start`` (until released) the first ``slow`` times."""

    def __init__(self, release: threading.Event, slow: Countdown) -> None:
        super().__init__()
        self.release = release
        self.slow = slow

    def on_start(self) -> None:
        if self.slow.take():
            self.release.wait(WAIT)


def test_start_up_past_its_timeout_is_a_failure() -> None:
    release = threading.Event()
    spec = ChildSpec("s", SlowStart, args=(release, Countdown(1)), start_timeout=0.05)
    try:
        with running([spec]) as tree:
            settled(tree, "root/s", restarts=1)
            assert last_failure(tree, "root/s").type == "StartTimeout"
    finally:
        release.set()


def test_crash_in_on_stop_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    class BadStop(GatherActor):
        def on_stop(self) -> None:
            raise KeyError("lost")

    with running([ChildSpec("b", BadStop)]) as tree:
        tree.stop("root/b")
        assert tree.snapshot("root/b").state == "stopped"
    assert len(crash_records(caplog, "root/b")) == 1


def test_an_ask_to_a_hung_actor_times_out() -> None:
    release = threading.Event()
    journal = Journal()
    try:
        with running([worker("w", journal)]) as tree:
            tree.tell("root/w", ("block", release))
            with pytest.raises(AskTimeout, match="root/w did not answer"):
                tree.ask("root/w", "count", timeout=0.05)
            release.set()
            assert tree.ask("root/w", "count") == 0
    finally:
        release.set()


def test_a_gather_actor_outside_a_tree_keeps_the_policy() -> None:
    ref = Worker.start()
    with pytest.raises(ActorCrashed):
        ref.ask("crash", timeout=WAIT)
    assert ref.actor_stopped.wait(WAIT)


def test_the_lifecycle_is_not_callable_through_the_mailbox() -> None:
    with running([worker("w", Journal())]) as tree:
        ref = tree.ref("root/w")
        for method in ("wait_ended", "kill", "request_stop", "hand_over"):
            with pytest.raises(InvalidOperation, match="run by the actor runtime"):
                ref.call(method, None)
        settled(tree, "root/w", restarts=0)
