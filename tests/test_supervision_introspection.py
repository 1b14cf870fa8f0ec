"""Introspection (the tree as plain data) and the operator's operations on paths."""

from __future__ import annotations

import threading
import time

import msgpack
import pytest

from actors import Failure, InvalidOperation, NoSuchActor
from supervision import ActorInfo, Backoff, Supervisor
from tests.helpers import (
    WAIT,
    GiveUps,
    Journal,
    last_failure,
    running,
    settled,
    wait_until,
    worker,
)


def test_the_tree_as_data_has_every_field() -> None:
    journal = Journal()
    release = threading.Event()
    children = [worker("w", journal), Supervisor.spec("sub", [worker("x", journal)])]
    try:
        with running(children, intensity=5) as tree:
            tree.ask("root/w", "one")
            tree.tell("root/w", "crash")
            settled(tree, "root/w", restarts=1)
            tree.ask("root/w", "two")
            tree.tell("root/sub/x", ("block", release))
            journal.wait_count(1, "blocked", "root/sub/x")
            for i in range(5):
                tree.tell("root/sub/x", i)

            info = tree.snapshot()
            assert [i.path for i in info.walk()] == ["root", "root/w", "root/sub", "root/sub/x"]
            assert [(i.kind, i.state) for i in info.walk()] == [
                ("supervisor", "running"),
                ("worker", "running"),
                ("supervisor", "running"),
                ("worker", "running"),
            ]
            w = tree.snapshot("root/w")
            assert (w.name, w.restarts, w.handled, w.mailbox) == ("w", 1, 2, 0)
            failure = last_failure(tree, "root/w")
            assert (failure.type, failure.message) == ("ValueError", "crash on purpose")
            assert abs(failure.time - time.time()) < WAIT
            assert 0 < w.uptime < WAIT
            x = tree.snapshot("root/sub/x")
            assert (x.mailbox, x.handled, x.restarts, x.last_failure) == (5, 0, 0, None)
            release.set()
            wait_until(lambda: tree.snapshot("root/sub/x").handled == 6, what="x to catch up")
            assert tree.snapshot("root/sub/x").mailbox == 0
    finally:
        release.set()


def test_the_tree_as_data_goes_through_msgpack() -> None:
    with running([worker("w", Journal())], intensity=5) as tree:
        tree.tell("root/w", "crash")
        settled(tree, "root/w", restarts=1)
        info = tree.snapshot()
        packed = msgpack.packb(info.to_dict())
        assert ActorInfo.from_dict(msgpack.unpackb(packed)) == info


def test_states_while_restarting_with_a_backoff_and_after_a_stop() -> None:
    journal = Journal()
    children = [worker("db", journal, backoff=Backoff(min=WAIT, max=WAIT)), worker("w", journal)]
    with running(children) as tree:
        tree.tell("root/db", "crash")
        settled(tree, "root/db", restarts=0, state="restarting")
        assert tree.snapshot("root/db").uptime == 0.0
        tree.stop("root/w")
        w = tree.snapshot("root/w")
        assert (w.state, w.uptime, w.mailbox) == ("stopped", 0.0, 0)


def test_operations_restart_stop_crash_and_send_by_path() -> None:
    journal = Journal()
    sub = Supervisor.spec("sub", [worker("x", journal), worker("y", journal)])
    with running([worker("w", journal), sub], intensity=5) as tree:
        first = tree.ask("root/w", "whoami")
        tree.tell("root/w", "sent")  # send PATH MESSAGE
        journal.wait_count(1, "got", "root/w", "sent")

        tree.restart("root/w")
        assert tree.ask("root/w", "whoami") != first
        after = tree.snapshot("root/w")
        assert (after.restarts, after.handled) == (1, 3)  # 3 asks and tells; not the stop
        assert after.last_failure is None  # a restart by hand is no failure

        tree.crash("root/w")
        settled(tree, "root/w", restarts=2)
        assert last_failure(tree, "root/w").type == "InjectedCrash"

        tree.stop("root/w")
        assert tree.snapshot("root/w").state == "stopped"
        tree.restart("root/w")
        assert tree.snapshot("root/w").state == "running"

        tree.stop("root/sub")  # a supervisor: its whole subtree
        assert {i.state for i in tree.snapshot("root/sub").walk()} == {"stopped"}
        tree.restart("root/sub")  # a supervisor: its whole subtree, in order
        assert journal.of("start")[-2:] == ["root/sub/x", "root/sub/y"]
        restarts = [tree.snapshot(p).restarts for p in ("root/sub", "root/sub/x", "root/sub/y")]
        assert restarts == [1, 1, 1]
        assert {i.state for i in tree.snapshot("root/sub").walk()} == {"running"}

        with pytest.raises(InvalidOperation, match="cannot restart the root"):
            tree.restart("root")
        with pytest.raises(NoSuchActor):
            tree.stop("root/nope")
        tree.stop("root")
        assert tree.wait(0) == "shutdown"


def test_crashing_the_root_makes_it_give_up() -> None:
    give_ups = GiveUps()
    with running([worker("w", Journal())], give_ups) as tree:
        tree.crash("root")
        assert give_ups.event.wait(WAIT)
        (reason,) = give_ups.reasons
        assert isinstance(reason, Failure) and reason.type == "InjectedCrash"
