"""Tree: a running supervision tree, its names, and what an operator can do to it.

The root supervisor has no parent to fail to: when it gives up, the tree calls its
``on_give_up`` hook, which by default ends the process with status 1 so that the service
manager starts the node again. ``run_root`` runs a tree in a node's main thread until
SIGTERM or SIGINT (then stops it in order) or until the root gives up; given ``on_hangup``,
it calls that on each SIGHUP (a node reloads its cluster.yaml).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
from collections.abc import Callable, Iterable
from typing import Any

from pykka.messages import ProxyCall

from actors.actor import GatherActor
from actors.errors import InvalidOperation
from actors.monitor import Monitor, Notify
from actors.reasons import Failure, Reason, is_abnormal
from actors.ref import DEFAULT_TIMEOUT, NamedRef, State
from actors.registry import Registry
from supervision.introspection import ActorInfo, snapshot
from supervision.spec import ChildSpec

logger = logging.getLogger("gather.supervision")

OPERATION_TIMEOUT = 30.0
"""Seconds an operation (restart, stop, start a child) may take, shutdowns included."""


def exit_process(reason: Reason) -> None:
    """The default give-up hook: log, flush, and end the process with status 1."""
    logger.critical("the root supervisor gave up (%s): exiting with status 1", reason)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(1)


class Tree:
    """A supervision tree started from the root supervisor's spec (``Supervisor.spec``)."""

    def __init__(self, spec: ChildSpec, on_give_up: Callable[[Reason], None]) -> None:
        if spec.kind != "supervisor":
            msg = f"the root must be a supervisor, not {spec.actor.__name__}"
            raise TypeError(msg)
        self.registry = Registry()
        self.root: NamedRef = self.registry.ensure(spec.name, spec.kind)
        self._on_give_up = on_give_up
        self._actor: GatherActor = spec.actor(*spec.args, **spec.kwargs)

    @classmethod
    def start(cls, spec: ChildSpec, *, on_give_up: Callable[[Reason], None] = exit_process) -> Tree:
        """Start the root supervisor and, in order, the whole tree below it."""
        tree = cls(spec, on_give_up)
        actor = tree._actor
        actor.launch(tree.root, tree.registry, tree._root_exited)
        actor.wait_started(None)
        if actor.exit_reason is None:
            tree.root.state = State.RUNNING
        return tree

    def _root_exited(self, reason: Reason) -> None:
        if isinstance(reason, Failure):
            self.root.last_failure = reason
        for path in self.registry.paths():
            ref = self.registry.get(path)
            if ref is not None:
                ref.close()
        if is_abnormal(reason):
            self._on_give_up(reason)

    # Sending.

    def ref(self, path: str) -> NamedRef:
        """The name at ``path`` (raises ``NoSuchActor``)."""
        return self.registry.ref(path)

    def tell(self, path: str, message: Any, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Send ``message`` to the actor at ``path`` (see ``NamedRef.tell``)."""
        self.registry.ref(path).tell(message, timeout=timeout)

    def ask(self, path: str, message: Any, *, timeout: float = DEFAULT_TIMEOUT) -> Any:
        """Ask the actor at ``path`` (see ``NamedRef.ask``)."""
        return self.registry.ref(path).ask(message, timeout=timeout)

    def monitor(self, path: str, notify: Notify) -> Monitor:
        """Call ``notify(Down)`` when the actor at ``path`` ends (at once if it has)."""
        return self.registry.monitor(path, notify)

    # Introspection.

    def snapshot(self, path: str | None = None) -> ActorInfo:
        """The tree (or the subtree at ``path``) as plain data."""
        return snapshot(self.root if path is None else self.registry.ref(path))

    # Operations.

    def restart(self, path: str, *, timeout: float = OPERATION_TIMEOUT) -> None:
        """Stop the actor at ``path`` (by its shutdown) and start it again."""
        parent, name = self._parent(path, "restart")
        parent.call("restart_child", name, timeout=timeout)

    def stop(self, path: str, *, timeout: float = OPERATION_TIMEOUT) -> None:
        """Stop the actor at ``path`` (by its shutdown); it stays stopped until ``restart`` or
        ``delete_child`` (a temporary child, or one of a simple_one_for_one, is deleted)."""
        if path == self.root.path:
            self.shutdown(timeout)
            return
        parent, name = self._parent(path, "stop")
        parent.call("terminate_child", name, timeout=timeout)

    def delete_child(self, path: str, *, timeout: float = OPERATION_TIMEOUT) -> None:
        """Delete the stopped child at ``path``: its spec and its name (``InvalidOperation`` if
        it is running or restarting)."""
        parent, name = self._parent(path, "delete")
        parent.call("delete_child", name, timeout=timeout)

    def crash(self, path: str, reason: str = "crash injected by the operator") -> None:
        """Make the actor at ``path`` fail (``InjectedCrash``) when it reaches this message."""
        self.registry.ref(path).tell(
            ProxyCall(attr_path=("inject_crash",), args=(reason,), kwargs={})
        )

    def start_child(
        self,
        path: str,
        *args: Any,
        name: str | None = None,
        timeout: float = OPERATION_TIMEOUT,
        **kwargs: Any,
    ) -> str:
        """Start a dynamic child of the simple_one_for_one supervisor at ``path``; its path."""
        return self.registry.ref(path).call(
            "start_child", *args, name=name, timeout=timeout, **kwargs
        )

    def add_child(self, path: str, spec: ChildSpec, *, timeout: float = OPERATION_TIMEOUT) -> str:
        """Add ``spec`` to the supervisor at ``path`` and start it; the new child's path."""
        return self.registry.ref(path).call("add_child", spec, timeout=timeout)

    def shutdown(self, timeout: float | None = None) -> Reason | None:
        """Stop the whole tree in order (children before parents, each in reverse order).

        Returns:
            the root's exit reason, or None if it had not ended within ``timeout``.
        """
        if self._actor.exit_reason is None:
            self._actor.request_stop()
        return self.wait(timeout)

    def wait(self, timeout: float | None = None) -> Reason | None:
        """Wait for the root to end; its exit reason, or None on timeout."""
        self._actor.wait_ended(timeout)
        return self._actor.exit_reason

    def _parent(self, path: str, operation: str) -> tuple[NamedRef, str]:
        self.registry.ref(path)
        parent_path, _, name = path.rpartition("/")
        if not parent_path:
            msg = f"cannot {operation} the root {path}"
            raise InvalidOperation(msg)
        return self.registry.ref(parent_path), name


def run_root(
    spec: ChildSpec,
    *,
    on_give_up: Callable[[Reason], None] = exit_process,
    signals: Iterable[signal.Signals] = (signal.SIGTERM, signal.SIGINT),
    poll: float = 0.1,
    on_started: Callable[[Tree], None] | None = None,
    on_hangup: Callable[[], None] | None = None,
) -> Reason | None:
    """Run a tree in the main thread until a signal (then shut it down) or the root ends.

    ``on_started(tree)`` runs once the whole tree has started. When the root gives up,
    ``on_give_up`` runs (by default the process exits with 1). ``on_hangup()`` runs in the
    main thread, not in the signal handler, after each SIGHUP (several SIGHUPs arriving
    together run it once; one during start-up runs it once the tree has started); its errors
    are logged and the tree goes on.

    Returns:
        the root's exit reason after an orderly shutdown.
    """
    requested: list[int] = []
    hangups: list[int] = []
    handlers: dict[int, Callable[[int, Any], None]] = {
        sig: lambda signum, _frame: requested.append(signum) for sig in signals
    }
    if on_hangup is not None:
        handlers[signal.SIGHUP] = lambda signum, _frame: hangups.append(signum)
    previous = {sig: signal.signal(sig, handler) for sig, handler in handlers.items()}
    try:
        tree = Tree.start(spec, on_give_up=on_give_up)
        if on_started is not None:
            on_started(tree)
        while not requested and tree.wait(poll) is None:
            if hangups and on_hangup is not None:
                hangups.clear()
                try:
                    on_hangup()
                except Exception:
                    logger.exception("handling SIGHUP failed; the tree goes on")
        if requested:
            logger.info("signal %s: stopping the tree", signal.Signals(requested[0]).name)
        return tree.shutdown()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
