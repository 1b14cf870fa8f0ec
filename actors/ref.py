"""NamedRef: a stable name in a supervision tree, whichever instance is behind it now.

Sending is one attribute read, one ``put`` and two ``is_set()`` checks, as cheap as a Pykka
``ActorRef.tell``. When the instance is dead (crashed, being restarted), the sender waits
for the replacement up to its timeout, then gets ``ActorUnavailable``; messages that reached
an instance as it ended are handed to the replacement, or refused if there will be none.
"""

from __future__ import annotations

import threading
import time
from enum import StrEnum
from typing import Any

import pykka
from pykka import ThreadingFuture
from pykka.messages import ProxyCall

from actors.errors import ActorUnavailable, AskTimeout, InvalidOperation
from actors.lifecycle import RUNTIME_METHODS, Envelope, Instance
from actors.monitor import Monitor, Notify, noproc
from actors.reasons import Failure

DEFAULT_TIMEOUT = 5.0
"""Seconds a sender waits for an actor being restarted, and an ask waits for its answer."""


class State(StrEnum):
    """Where a name is in its life, as introspection shows it."""

    STARTING = "starting"
    RUNNING = "running"
    RESTARTING = "restarting"
    STOPPED = "stopped"


class NamedRef:
    """The actor at one path of a tree (``"root/web/server"``), across its restarts.

    Its supervisor owns ``state``, ``starts``, ``last_failure`` and ``children``; anyone
    may read them (introspection does) and anyone may send. Each new instance is put behind
    the name as it is launched (:meth:`install`); the supervisor closes the name when the
    actor stays stopped (:meth:`close`); an instance that ends with messages in its inbox
    passes them on (:meth:`rescue`).
    """

    __slots__ = (
        "_cond",
        "actor",
        "children",
        "handled_before",
        "kind",
        "last_failure",
        "path",
        "starts",
        "state",
    )

    def __init__(self, path: str, kind: str) -> None:
        self.path = path
        self.kind = kind
        self.state = State.STARTING
        self.actor: Instance | None = None
        self.starts = 0
        self.last_failure: Failure | None = None
        self.handled_before = 0
        self.children: list[NamedRef] = []
        self._cond = threading.Condition(threading.Lock())

    def __repr__(self) -> str:
        return f"<NamedRef {self.path} {self.state}>"

    @property
    def restarts(self) -> int:
        """How many times its supervisor started it again (after a failure or by hand)."""
        return max(self.starts - 1, 0)

    @property
    def name(self) -> str:
        """The last part of the path."""
        return self.path.rpartition("/")[2]

    def tell(self, message: Any, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Send ``message``; wait up to ``timeout`` if the actor is being restarted.

        Raises:
            ActorUnavailable: the actor is stopped, or did not come back in time.
        """
        actor = self.actor
        if actor is None or actor.actor_stopped.is_set():
            actor, _ = self._await_actor(timeout)
        actor.actor_inbox.put(Envelope(message))
        if actor.actor_stopped.is_set():
            self.rescue(actor)

    def ask(self, message: Any, *, timeout: float = DEFAULT_TIMEOUT) -> Any:
        """Send ``message`` and return the answer, waiting at most ``timeout`` in all.

        Raises:
            DomainError: the actor refused the request (the actor goes on).
            ActorCrashed: the actor crashed handling it (and is being restarted).
            ActorUnavailable: the actor is stopped, or did not come back in time.
            AskTimeout: no answer in time.
        """
        future: ThreadingFuture[Any] = ThreadingFuture()
        timeout = self.send_ask(message, future, timeout=timeout)
        try:
            return future.get(timeout=timeout)
        except pykka.Timeout:
            msg = f"{self.path} did not answer within {timeout:.3g}s"
            raise AskTimeout(msg) from None

    def send_ask(
        self, message: Any, reply_to: pykka.Future[Any], *, timeout: float = DEFAULT_TIMEOUT
    ) -> float:
        """Send ``message`` with ``reply_to`` for its answer, without waiting for the answer.

        Waits (up to ``timeout``) only while the actor is being restarted, and returns what
        is left of ``timeout``. The answer, or the error an ask would raise, is set on
        ``reply_to`` (a Pykka future whose ``set``/``set_exception`` may call back).
        """
        actor = self.actor
        if actor is None or actor.actor_stopped.is_set():
            actor, timeout = self._await_actor(timeout)
        actor.actor_inbox.put(Envelope(message, reply_to=reply_to))
        if actor.actor_stopped.is_set():
            self.rescue(actor)
        return timeout

    def call(
        self, method: str, /, *args: Any, timeout: float = DEFAULT_TIMEOUT, **kwargs: Any
    ) -> Any:
        """Call the actor's method ``method`` in the actor's thread and return its result
        (:class:`InvalidOperation` for a lifecycle method, which only the runtime calls)."""
        if method in RUNTIME_METHODS:
            msg = f"{method} is run by the actor runtime, not sent to {self.path}"
            raise InvalidOperation(msg)
        return self.ask(ProxyCall(attr_path=(method,), args=args, kwargs=kwargs), timeout=timeout)

    def monitor(self, notify: Notify) -> Monitor:
        """Call ``notify(Down)`` once when the current instance ends (at once if it has)."""
        actor = self.actor
        if actor is None:
            return noproc(self.path, notify)
        return actor.add_watcher(notify)

    def _await_actor(self, timeout: float) -> tuple[Instance, float]:
        """Wait for a live instance; return it with what is left of ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                actor = self.actor
                if actor is not None and not actor.actor_stopped.is_set():
                    return actor, max(deadline - time.monotonic(), 0.0)
                if self.state is State.STOPPED:
                    msg = f"{self.path} is stopped"
                    raise ActorUnavailable(msg)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    msg = f"{self.path} is {self.state}: not running again within {timeout:.3g}s"
                    raise ActorUnavailable(msg)
                self._cond.wait(remaining)

    # What supervisors and ending instances use.

    def install(self, actor: Instance) -> None:
        """Put ``actor`` behind this name; it first gets what its predecessor left unhandled."""
        with self._cond:
            previous = self.actor
            if previous is not None:
                previous.hand_over(actor.actor_inbox)
                self.handled_before += previous.handled
            self.actor = actor
            self._cond.notify_all()

    def rescue(self, actor: Instance) -> None:
        """Messages reached ``actor`` as it ended: pass them on, or refuse them if stopped."""
        with self._cond:
            if self.state is State.STOPPED:
                actor.refuse_pending(f"{self.path} is stopped")
            elif self.actor is not None and self.actor is not actor:
                actor.hand_over(self.actor.actor_inbox)

    def close(self) -> None:
        """Stopped for good (until restarted by hand): senders fail, queued messages are refused."""
        with self._cond:
            self.state = State.STOPPED
            actor = self.actor
            if actor is not None and actor.actor_stopped.is_set():
                actor.refuse_pending(f"{self.path} is stopped")
            self._cond.notify_all()
