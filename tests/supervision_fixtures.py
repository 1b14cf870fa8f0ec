"""Helpers for the actor and supervision tests: a journal to wait on, test actors, trees.

Waiting is done on conditions with timeouts (the journal, the tree's own events), never by
sleeping a fixed time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from actors import DomainError, GatherActor, Reason
from supervision import ChildSpec, Supervisor, Tree

WAIT = 5.0
"""Seconds any single wait in these tests may take before the test fails."""


class Journal:
    """A thread-safe list of events (tuples) that tests can wait on."""

    def __init__(self) -> None:
        self._entries: list[tuple[Any, ...]] = []
        self._cond = threading.Condition()

    def add(self, *entry: Any) -> None:
        with self._cond:
            self._entries.append(entry)
            self._cond.notify_all()

    @property
    def entries(self) -> list[tuple[Any, ...]]:
        with self._cond:
            return list(self._entries)

    def count(self, *entry: Any) -> int:
        return self.entries.count(entry)

    def of(self, kind: str) -> list[Any]:
        """The second field of every entry whose first field is ``kind``, in order."""
        return [entry[1] for entry in self.entries if entry[0] == kind]

    def wait_for(
        self, predicate: Callable[[list[tuple[Any, ...]]], bool], timeout: float = WAIT
    ) -> list[tuple[Any, ...]]:
        with self._cond:
            if not self._cond.wait_for(lambda: predicate(self._entries), timeout):
                raise AssertionError(f"timed out; journal: {self._entries}")
            return list(self._entries)

    def wait_count(self, count: int, *entry: Any, timeout: float = WAIT) -> None:
        self.wait_for(lambda entries: entries.count(entry) >= count, timeout)


class Countdown:
    """Shared between the instances of one child: True the first ``n`` times it is asked."""

    def __init__(self, n: int) -> None:
        self._n = n
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            self._n -= 1
            return self._n >= 0


class Worker(GatherActor):
    """A test actor that journals its life and does what its messages say."""

    def __init__(
        self,
        journal: Journal | None = None,
        *,
        fail_start: Countdown | None = None,
        hang_stop: threading.Event | None = None,
    ) -> None:
        super().__init__()
        self.journal = journal or Journal()
        self.fail_start = fail_start
        self.hang_stop = hang_stop
        self.count = 0

    def on_start(self) -> None:
        self.journal.add("start", self.path)
        self.journal.add("start-time", self.path, time.monotonic())
        if self.fail_start is not None and self.fail_start.take():
            raise RuntimeError("failing on start, on purpose")

    def on_stop(self) -> None:
        self.journal.add("stop", self.path)
        if self.hang_stop is not None:
            self.hang_stop.wait(WAIT * 2)
            self.journal.add("stop-done", self.path)

    def on_failure(self, *_exc_info: Any) -> None:
        self.journal.add("failure", self.path)

    def on_receive(self, message: Any) -> Any:
        match message:
            case "crash":
                raise ValueError("crash on purpose")
            case "stop":
                self.stop()
            case "whoami":
                return self.actor_urn
            case "count":
                return self.count
            case ("domain", text):
                raise DomainError(text)
            case ("block", threading.Event() as event):
                self.journal.add("blocked", self.path)
                event.wait(WAIT * 2)
            case _:
                self.count += 1
                self.journal.add("got", self.path, message)
                return message
        return None


def worker(name: str, journal: Journal, **options: Any) -> ChildSpec:
    """A ``Worker`` child spec journaling into ``journal``; options go to ChildSpec."""
    kwargs = {k: options.pop(k) for k in ("fail_start", "hang_stop") if k in options}
    return ChildSpec(name, Worker, args=(journal,), kwargs=kwargs, **options)


class GiveUps:
    """Records the root's give-up instead of exiting the process."""

    def __init__(self) -> None:
        self.reasons: list[Reason] = []
        self.event = threading.Event()

    def __call__(self, reason: Reason) -> None:
        self.reasons.append(reason)
        self.event.set()


@contextmanager
def running(
    children: Sequence[ChildSpec], give_ups: GiveUps | None = None, **root_options: Any
) -> Iterator[Tree]:
    """A tree with a root supervisor over ``children``, shut down afterwards."""
    tree = Tree.start(
        Supervisor.spec("root", children, **root_options), on_give_up=give_ups or GiveUps()
    )
    try:
        yield tree
    finally:
        tree.shutdown(WAIT)


def wait_until(predicate: Callable[[], bool], timeout: float = WAIT, what: str = "") -> None:
    """Poll ``predicate`` (for state only a snapshot shows); fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.001)


def settled(tree: Tree, path: str, *, restarts: int, state: str = "running") -> None:
    """Wait until the actor at ``path`` has ``restarts`` restarts and is in ``state``."""

    def ok() -> bool:
        now = tree.snapshot(path)
        return now.restarts == restarts and now.state == state

    wait_until(ok, what=f"{path}: {state} after {restarts} restart(s)")
