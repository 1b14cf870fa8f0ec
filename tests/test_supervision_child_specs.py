"""What a supervisor keeps of a child that ended, after cases of OTP's supervisor_SUITE.

A permanent or transient child that is not restarted stays listed, stopped, with its name
taken, until it is restarted or deleted (``delete_child``); a temporary child, and any child
of a simple_one_for_one supervisor, is deleted as soon as it ends. In OTP's cases
``which_children`` is the snapshot's children and ``start_child`` of a spec is ``add_child``.
"""

from __future__ import annotations

import time

import pytest

from actors import ActorUnavailable, InvalidOperation, NoSuchActor
from supervision import BRUTAL_KILL, Backoff, Strategy, Supervisor, Tree
from tests.helpers import WAIT, Countdown, Journal, deleted, running, settled, worker

ALREADY_STARTED = r"already exists$"
"""OTP's ``{error, {already_started, Pid}}``: the name is taken by a running child."""

ALREADY_PRESENT = r"already exists \(stopped: restart or delete it\)"
"""OTP's ``{error, already_present}``: the name is taken by a stopped child."""


def names(tree: Tree, path: str = "root") -> list[str]:
    """The children listed under ``path``, as OTP's which_children."""
    return [child.name for child in tree.snapshot(path).children]


def end(tree: Tree, path: str, how: str) -> None:
    """End the child at ``path``: by itself (normal), by a crash, or by its supervisor."""
    if how == "normal":
        tree.tell(path, "stop")
    elif how == "abnormal":
        tree.tell(path, "crash")
    else:
        tree.stop(path)


@pytest.mark.parametrize("added", [True, False], ids=["added", "static"])
def test_transient_normal(added: bool) -> None:
    journal = Journal()
    spec = worker("child1", journal, restart="transient")
    with running([] if added else [spec]) as tree:
        if added:
            tree.add_child("root", spec)
        tree.tell("root/child1", "stop")
        settled(tree, "root/child1", restarts=0, state="stopped")
        assert names(tree) == ["child1"]
        with pytest.raises(ActorUnavailable, match="root/child1 is stopped"):
            tree.tell("root/child1", "hello")
        tree.restart("root/child1")  # as OTP's transient_shutdown: restart_child starts it
        assert tree.ask("root/child1", "hello") == "hello"
        tree.stop("root/child1")
        settled(tree, "root/child1", restarts=1, state="stopped")
        assert names(tree) == ["child1"]


def temporary_is_deleted(added: bool, how: str) -> None:
    """A temporary child that ended ``how`` leaves the tree; its name is free again."""
    journal = Journal()
    spec = worker("child1", journal, restart="temporary")
    with running([] if added else [spec]) as tree:
        if added:
            tree.add_child("root", spec)
        ref = tree.ref("root/child1")
        end(tree, "root/child1", how)
        deleted(tree, "root/child1")
        assert names(tree) == []
        with pytest.raises(NoSuchActor):
            tree.tell("root/child1", "hello")
        with pytest.raises(NoSuchActor):
            tree.restart("root/child1")
        with pytest.raises(ActorUnavailable, match="is stopped"):
            ref.tell("hello")  # a ref kept from before the deletion
        assert tree.add_child("root", spec) == "root/child1"
        assert tree.ask("root/child1", "hello") == "hello"


@pytest.mark.parametrize("added", [True, False], ids=["added", "static"])
def test_temporary_normal(added: bool) -> None:
    temporary_is_deleted(added, "normal")


@pytest.mark.parametrize("added", [True, False], ids=["added", "static"])
def test_temporary_abnormal(added: bool) -> None:
    temporary_is_deleted(added, "abnormal")


@pytest.mark.parametrize("added", [True, False], ids=["added", "static"])
def test_temporary_shutdown(added: bool) -> None:
    temporary_is_deleted(added, "supervisor")


def outcome(restart: str, how: str) -> str:
    """What OTP does with a child of ``restart`` type that ended ``how``."""
    if restart == "temporary":
        return "deleted"
    if how == "supervisor" or (restart == "transient" and how == "normal"):
        return "kept"
    return "restarted"


@pytest.mark.parametrize("how", ["normal", "abnormal", "supervisor"])
@pytest.mark.parametrize("strategy", ["one_for_all", "one_for_one", "rest_for_one"])
def test_do_not_save_child_specs_for_temporary_children(strategy: str, how: str) -> None:
    """OTP also kills the child from outside (``exit(Pid, kill)``); in Gather only a child's
    supervisor can kill it, which is the ``supervisor`` case."""
    journal = Journal()
    with running([], strategy=strategy, intensity=5) as tree:
        for name, restart in [
            ("child1", "permanent"),
            ("child2", "transient"),
            ("child3", "temporary"),
        ]:
            spec = worker(name, journal, restart=restart)
            path = tree.add_child("root", spec)
            end(tree, path, how)
            expected = outcome(restart, how)
            if expected == "deleted":
                deleted(tree, path)
                assert tree.add_child("root", spec) == path
            elif expected == "kept":
                settled(tree, path, restarts=0, state="stopped")
                with pytest.raises(InvalidOperation, match=ALREADY_PRESENT):
                    tree.add_child("root", spec)
                tree.restart(path)
                settled(tree, path, restarts=1)
            else:
                settled(tree, path, restarts=1)
                with pytest.raises(InvalidOperation, match=ALREADY_STARTED):
                    tree.add_child("root", spec)
        assert names(tree) == ["child1", "child2", "child3"]


def test_hanging_restart_loop() -> None:
    journal = Journal()
    fail = Countdown(0)
    backoff = Backoff(min=0.05, max=0.05, jitter=0.0)
    spec = worker("child1", journal, fail_start=fail, shutdown=BRUTAL_KILL, backoff=backoff)
    with running([], intensity=8, period=10) as tree:
        path = tree.add_child("root", spec)
        fail.reset(10**6)
        tree.crash(path)  # every start fails from now on: it restarts for ever, backing off
        journal.wait_count(3, "start", path)
        with pytest.raises(InvalidOperation, match=ALREADY_STARTED):
            tree.add_child("root", spec)  # OTP: already_present (it has no pid while restarting)
        with pytest.raises(InvalidOperation, match="root/child1 is restarting"):
            tree.delete_child(path)
        assert tree.snapshot(path).state == "restarting"

        tree.stop(path)  # stops the loop
        assert tree.snapshot(path).state == "stopped"
        starts = journal.count("start", path)
        time.sleep(4 * backoff.max)  # no restart is still due
        assert journal.count("start", path) == starts
        assert tree.snapshot(path).state == "stopped"

        fail.reset(0)
        tree.restart(path)
        assert tree.ask(path, "hello") == "hello"

        fail.reset(10**6)
        tree.crash(path)
        journal.wait_count(starts + 3, "start", path)
        ref = tree.ref(path)
        began = time.monotonic()
        assert tree.shutdown(WAIT) == "shutdown"  # the loop does not hold the supervisor up
        assert time.monotonic() - began < 1.0
        assert ref.state == "stopped"


def test_hanging_restart_loop_simple() -> None:
    journal = Journal()
    fail = Countdown(0)
    backoff = Backoff(min=0.05, max=0.05, jitter=0.0)
    template = worker("child", journal, fail_start=fail, shutdown=BRUTAL_KILL, backoff=backoff)
    spec = Supervisor.spec("conns", [template], strategy=Strategy.SIMPLE_ONE_FOR_ONE)
    with running([spec]) as tree:
        path = tree.start_child("root/conns")
        fail.reset(10**6)
        tree.crash(path)
        journal.wait_count(3, "start", path)
        with pytest.raises(InvalidOperation, match="simple_one_for_one"):
            tree.delete_child(path)
        assert tree.snapshot(path).state == "restarting"

        tree.stop(path)  # stops the loop, and the child leaves
        deleted(tree, path)
        assert names(tree, "root/conns") == []

        fail.reset(0)
        assert tree.ask(tree.start_child("root/conns"), "hello") == "hello"


def test_child_adm() -> None:
    journal = Journal()
    spec = worker("child1", journal)
    with running([spec]) as tree:
        with pytest.raises(InvalidOperation, match=ALREADY_STARTED):
            tree.add_child("root", spec)
        with pytest.raises(NoSuchActor):
            tree.stop("root/hej")
        tree.stop("root/child1")
        tree.stop("root/child1")  # stopping a stopped child is fine
        assert tree.snapshot("root/child1").state == "stopped"
        assert names(tree) == ["child1"]

        tree.restart("root/child1")
        assert tree.snapshot("root/child1").state == "running"
        with pytest.raises(InvalidOperation, match="root/child1 is running: stop it first"):
            tree.delete_child("root/child1")  # OTP's {error, running}
        with pytest.raises(NoSuchActor):
            tree.delete_child("root/hej")
        with pytest.raises(InvalidOperation, match="cannot delete the root"):
            tree.delete_child("root")

        tree.stop("root/child1")
        tree.delete_child("root/child1")
        assert names(tree) == []
        with pytest.raises(NoSuchActor):
            tree.restart("root/child1")
        with pytest.raises(NoSuchActor):
            tree.tell("root/child1", "hello")

        assert tree.add_child("root", spec) == "root/child1"
        assert tree.ask("root/child1", "hello") == "hello"


def test_child_adm_simple() -> None:
    journal = Journal()
    template = worker("conn", journal)
    spec = Supervisor.spec("conns", [template], strategy=Strategy.SIMPLE_ONE_FOR_ONE)
    with running([spec]) as tree:
        first = tree.start_child("root/conns")
        with pytest.raises(InvalidOperation, match="simple_one_for_one"):
            tree.delete_child(first)
        tree.stop(first)  # a child of a simple_one_for_one leaves when it stops
        deleted(tree, first)
        assert names(tree, "root/conns") == []


@pytest.mark.parametrize("strategy", ["one_for_all", "rest_for_one"])
def test_a_stopped_child_starts_again_with_its_group(strategy: str) -> None:
    journal = Journal()
    children = [worker("crashes", journal), worker("stopped", journal)]
    with running(children, strategy=strategy, intensity=5) as tree:
        tree.stop("root/stopped")
        tree.tell("root/crashes", "crash")  # as OTP, the group restart starts every member
        settled(tree, "root/stopped", restarts=1)


def test_a_deleted_child_of_the_specs_comes_back_when_its_supervisor_restarts() -> None:
    journal = Journal()
    sub = Supervisor.spec(
        "sub", [worker("kept", journal), worker("once", journal, restart="temporary")]
    )
    with running([sub], intensity=5) as tree:
        tree.stop("root/sub/kept")
        tree.delete_child("root/sub/kept")
        tree.tell("root/sub/once", "stop")
        deleted(tree, "root/sub/once")
        assert names(tree, "root/sub") == []
        tree.crash("root/sub")  # a supervisor starts again from its specs, as OTP's init/1
        settled(tree, "root/sub", restarts=1)
        assert names(tree, "root/sub") == ["kept", "once"]
        assert {i.state for i in tree.snapshot("root/sub").walk()} == {"running"}


def test_a_child_added_to_a_supervisor_is_gone_after_that_supervisor_restarts() -> None:
    journal = Journal()
    with running([Supervisor.spec("sub", [])], intensity=5) as tree:
        path = tree.add_child("root/sub", worker("extra", journal))
        tree.stop(path)
        assert names(tree, "root/sub") == ["extra"]
        tree.crash("root/sub")
        settled(tree, "root/sub", restarts=1)
        assert names(tree, "root/sub") == []
        with pytest.raises(NoSuchActor):
            tree.ref(path)
