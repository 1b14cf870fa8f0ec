"""Monitors: a down notice with the reason, once, also when the target had already ended."""

from __future__ import annotations

import queue
from typing import Any

from actors import KILLED, NOPROC, NORMAL, SHUTDOWN, Down, Failure, GatherActor
from supervision import BRUTAL_KILL, ChildSpec
from tests.helpers import WAIT, Journal, running, settled, worker


class Watcher(GatherActor):
    """Monitors ``target`` from its own thread and keeps the down notices it gets."""

    def __init__(self, target: str) -> None:
        super().__init__()
        self.target = target
        self.downs: list[Down] = []

    def on_start(self) -> None:
        self.monitor(self.target)

    def on_receive(self, message: Any) -> Any:
        if isinstance(message, Down):
            self.downs.append(message)
        return list(self.downs)


def test_a_monitor_gets_the_failure() -> None:
    with running([worker("w", Journal())], intensity=5) as tree:
        downs: queue.Queue[Down] = queue.Queue()
        monitor = tree.monitor("root/w", downs.put)
        tree.tell("root/w", "crash")
        down = downs.get(timeout=WAIT)
        assert down.path == "root/w" and down.monitor == monitor.id
        assert isinstance(down.reason, Failure) and down.reason.type == "ValueError"
        settled(tree, "root/w", restarts=1)
        tree.tell("root/w", "crash")  # a monitor watches one instance: it fired already
        settled(tree, "root/w", restarts=2)
        assert downs.empty()


def test_monitoring_an_actor_that_already_ended_gets_the_notice_at_once() -> None:
    with running([worker("w", Journal())]) as tree:
        tree.stop("root/w")
        downs: queue.Queue[Down] = queue.Queue()
        tree.monitor("root/w", downs.put)
        assert downs.get_nowait().reason == SHUTDOWN
        monitor = tree.monitor("root/never", downs.put)
        assert downs.get_nowait() == Down("root/never", NOPROC, monitor.id)


def test_an_actor_monitors_another_and_gets_down_messages() -> None:
    journal = Journal()
    children = [worker("target", journal), ChildSpec("watcher", Watcher, args=("root/target",))]
    with running(children, intensity=5) as tree:
        tree.tell("root/target", "crash")
        settled(tree, "root/target", restarts=1)
        downs = tree.ask("root/watcher", "list")
        assert [(d.path, d.reason.type) for d in downs] == [("root/target", "ValueError")]


def test_a_cancelled_monitor_sends_nothing() -> None:
    with running([worker("w", Journal())], intensity=5) as tree:
        downs: queue.Queue[Down] = queue.Queue()
        tree.monitor("root/w", downs.put).cancel()
        tree.tell("root/w", "crash")
        settled(tree, "root/w", restarts=1)
        assert downs.empty()


def test_down_reasons_for_normal_exit_shutdown_and_kill() -> None:
    journal = Journal()
    children = [
        worker("quits", journal, restart="transient"),
        worker("stopped", journal),
        worker("killed", journal, shutdown=BRUTAL_KILL),
    ]
    with running(children) as tree:
        downs: queue.Queue[Down] = queue.Queue()
        for name in ("quits", "stopped", "killed"):
            tree.monitor(f"root/{name}", downs.put)
        tree.tell("root/quits", "stop")
        tree.stop("root/stopped")
        tree.stop("root/killed")
        got = {down.path: down.reason for down in (downs.get(timeout=WAIT) for _ in range(3))}
        assert got == {"root/quits": NORMAL, "root/stopped": SHUTDOWN, "root/killed": KILLED}
