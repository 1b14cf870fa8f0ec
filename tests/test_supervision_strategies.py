"""Strategies, restart types, start and stop order, shutdowns, nesting, dynamic children."""

from __future__ import annotations

import queue
import threading
import time

import pytest

from actors import KILLED, ActorUnavailable, Down, InvalidOperation, NoSuchActor
from supervision import BRUTAL_KILL, ChildSpec, Strategy, Supervisor, Tree
from tests.helpers import WAIT, Journal, deleted, running, settled, worker


def three(journal: Journal) -> list[ChildSpec]:
    return [worker(name, journal) for name in "abc"]


def urns(tree: Tree, names: str = "abc") -> dict[str, str]:
    return {name: tree.ask(f"root/{name}", "whoami") for name in names}


@pytest.mark.parametrize(
    ("strategy", "restarted"),
    [("one_for_one", "b"), ("one_for_all", "abc"), ("rest_for_one", "bc")],
)
def test_a_failure_restarts_what_the_strategy_says(strategy: str, restarted: str) -> None:
    journal = Journal()
    with running(three(journal), strategy=strategy, intensity=5) as tree:
        before = urns(tree)
        tree.tell("root/b", "crash")
        settled(tree, "root/b", restarts=1)
        for name in "abc":
            settled(tree, f"root/{name}", restarts=int(name in restarted))
        after = urns(tree)
        assert {n for n in "abc" if after[n] != before[n]} == set(restarted)
        # the others were stopped in reverse order, then all started in order
        stopped = [p for kind, p, *_ in journal.entries if kind == "stop"]
        assert stopped == [f"root/{n}" for n in reversed(restarted) if n != "b"]
        starts = journal.of("start")[3:]
        assert starts == [f"root/{n}" for n in restarted]


def test_a_temporary_sibling_is_not_restarted_with_the_group() -> None:
    journal = Journal()
    children = [worker("a", journal), worker("t", journal, restart="temporary")]
    with running(children, strategy="one_for_all", intensity=5) as tree:
        tree.tell("root/a", "crash")
        settled(tree, "root/a", restarts=1)
        deleted(tree, "root/t")  # stopped with the group, and deleted as temporary
        assert [i.path for i in tree.snapshot().children] == ["root/a"]


def ended_as(tree: Tree, path: str, expected: str) -> None:
    """Wait for ``path`` to be running again (one restart), stopped, or deleted."""
    if expected == "deleted":
        deleted(tree, path)
    else:
        settled(tree, path, restarts=int(expected == "running"), state=expected)


@pytest.mark.parametrize(
    ("restart", "after_crash", "after_normal_exit"),
    [
        ("permanent", "running", "running"),
        ("transient", "running", "stopped"),
        ("temporary", "deleted", "deleted"),
    ],
)
def test_restart_types(restart: str, after_crash: str, after_normal_exit: str) -> None:
    journal = Journal()
    children = [
        worker("crashes", journal, restart=restart),
        worker("quits", journal, restart=restart),
    ]
    with running(children, intensity=5) as tree:
        tree.tell("root/crashes", "crash")
        tree.tell("root/quits", "stop")
        ended_as(tree, "root/crashes", after_crash)
        ended_as(tree, "root/quits", after_normal_exit)


def test_children_start_in_order_and_stop_in_reverse_order_across_nesting() -> None:
    journal = Journal()
    children = [
        worker("a", journal),
        Supervisor.spec("sub", [worker("x", journal), worker("y", journal)]),
        worker("c", journal),
    ]
    with running(children) as tree:
        assert journal.of("start") == ["root/a", "root/sub/x", "root/sub/y", "root/c"]
        assert [i.path for i in tree.snapshot().walk()] == [
            "root",
            "root/a",
            "root/sub",
            "root/sub/x",
            "root/sub/y",
            "root/c",
        ]
    assert journal.of("stop") == ["root/c", "root/sub/y", "root/sub/x", "root/a"]
    assert {i.state for i in tree.snapshot().walk()} == {"stopped"}


def test_a_nested_supervisor_restarts_its_own_children_only() -> None:
    journal = Journal()
    children = [
        worker("a", journal),
        Supervisor.spec(
            "sub", [worker("x", journal), worker("y", journal)], strategy="one_for_all"
        ),
    ]
    with running(children) as tree:
        tree.tell("root/sub/x", "crash")
        settled(tree, "root/sub/x", restarts=1)
        settled(tree, "root/sub/y", restarts=1)
        assert tree.snapshot("root/sub").restarts == 0
        assert tree.snapshot("root/a").restarts == 0


def test_shutdown_with_a_timeout_waits_for_on_stop_then_kills() -> None:
    journal = Journal()
    hang = threading.Event()
    try:
        with running([worker("slow", journal, hang_stop=hang, shutdown=0.2)]) as tree:
            downs: queue.Queue[Down] = queue.Queue()
            tree.monitor("root/slow", downs.put)
            began = time.monotonic()
            tree.stop("root/slow")
            took = time.monotonic() - began
            assert 0.2 <= took < 2.0
            assert journal.of("stop") == ["root/slow"]  # on_stop ran (and hung)
            assert downs.get(timeout=WAIT).reason == KILLED
            assert tree.snapshot("root/slow").state == "stopped"
    finally:
        hang.set()


def test_brutal_kill_does_not_wait_and_skips_on_stop() -> None:
    journal = Journal()
    hang = threading.Event()
    release = threading.Event()
    try:
        spec = worker("brute", journal, hang_stop=hang, shutdown=BRUTAL_KILL)
        with running([spec]) as tree:
            tree.tell("root/brute", ("block", release))  # busy in a handler that never ends
            journal.wait_count(1, "blocked", "root/brute")
            began = time.monotonic()
            tree.stop("root/brute")
            assert time.monotonic() - began < 1.0
            assert tree.snapshot("root/brute").state == "stopped"
            release.set()
            tree.restart("root/brute")
            assert tree.ask("root/brute", "count") == 0
        assert journal.of("stop") == []  # neither instance ran on_stop
    finally:
        hang.set()
        release.set()


def test_simple_one_for_one_runs_dynamic_children_of_one_kind() -> None:
    journal = Journal()
    template = worker("conn", journal, restart="transient")
    spec = Supervisor.spec("conns", [template], strategy=Strategy.SIMPLE_ONE_FOR_ONE, intensity=5)
    with running([spec]) as tree:
        assert tree.snapshot("root/conns").children == ()
        first = tree.start_child("root/conns")
        named = tree.start_child("root/conns", name="alice")
        assert (first, named) == ("root/conns/conn-1", "root/conns/alice")
        tree.tell(first, "crash")
        settled(tree, first, restarts=1)
        assert tree.snapshot(named).restarts == 0
        tree.tell(named, "stop")  # a normal exit of a transient child: it leaves the tree
        journal.wait_count(1, "stop", named)
        deleted(tree, named)
        with pytest.raises(NoSuchActor):
            tree.snapshot(named)
        assert [i.path for i in tree.snapshot("root/conns").children] == [first]
        with pytest.raises(InvalidOperation):
            tree.add_child("root/conns", worker("other", journal))
        kept = tree.ref(first)
        tree.crash("root/conns")  # a restarted simple_one_for_one starts with no children
        settled(tree, "root/conns", restarts=1)
        assert tree.snapshot("root/conns").children == ()
        with pytest.raises(NoSuchActor):
            tree.ref(first)
        with pytest.raises(ActorUnavailable, match="is stopped"):
            kept.tell("hello")


def test_add_child_to_a_static_supervisor() -> None:
    journal = Journal()
    with running([worker("a", journal)]) as tree:
        assert tree.add_child("root", worker("b", journal)) == "root/b"
        assert tree.ask("root/b", 7) == 7
        with pytest.raises(InvalidOperation, match="already exists"):
            tree.add_child("root", worker("b", journal))
        assert [i.path for i in tree.snapshot().children] == ["root/a", "root/b"]
