"""GatherActor: a Pykka actor with Gather's failure policy, counters, monitors and a tree name.

Pykka on its own returns an ask's exception to the caller and keeps the actor running, but
stops the actor on a tell's exception. Gather has one rule instead (docs/supervision.md):

- an exception of the actor's ``expected_errors`` (``DomainError`` by default) goes back to
  the ask's caller and the actor goes on (from a tell, it is logged at INFO);
- any other exception, in a handler reached by tell or ask, in ``on_start`` or in
  ``on_stop``, crashes the actor: it is logged once with the actor's path and traceback, the
  ask's caller gets ``ActorCrashed``, ``on_failure`` runs, and the supervisor is told.

To do this at Pykka's own per-message cost, ``_actor_loop`` is replaced by a loop with the
same shape (one ``is_set()`` per message) plus a counter. Messages the instance did not
handle stay in its inbox, and its name hands them to the replacement (see ``NamedRef``).
Supervisors drive an instance through ``launch`` and ``actors.lifecycle.Instance``.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any, ClassVar

import pykka
from pykka import ActorRegistry
from pykka.messages import _ActorStop  # Pykka's stop request (Pykka is pinned at 4.5.0)

from actors.errors import ActorCrashed, ActorUnavailable, DomainError, InjectedCrash
from actors.lifecycle import Envelope, Inbox
from actors.monitor import Down, Monitor, Notify, deliver
from actors.reasons import KILLED, NORMAL, SHUTDOWN, Failure, Reason
from actors.ref import NamedRef
from actors.registry import Registry

logger = logging.getLogger("gather.actors")

WAKE = object()
"""Put in an inbox to wake a loop that is waiting for a message after its actor was stopped."""


class GatherActor(pykka.ThreadingActor):
    """A Pykka actor that crashes on unexpected errors and is restarted by its supervisor.

    Write it as a Pykka actor (``on_start``, ``on_receive``, ``on_stop``, ``on_failure``,
    methods called through ``NamedRef.call``); start it from a ``ChildSpec`` in a tree.
    In a tree, ``path``, ``registry`` and ``named`` (its ``NamedRef``) say where it is;
    outside one, ``registry`` and ``named`` are None. The lifecycle methods (``launch`` and
    those of ``actors.lifecycle.Instance``) are the runtime's: do not override them.
    """

    actor_inbox: Inbox
    """A ``ThreadingActor``'s inbox is a ``queue.Queue``; Pykka declares only its protocol."""

    kind: ClassVar[str] = "worker"
    """``worker`` or ``supervisor``, as introspection shows it."""

    expected_errors: ClassVar[tuple[type[Exception], ...]] = (DomainError,)
    """Exceptions returned to the caller without crashing the actor."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.path: str = type(self).__name__
        self.registry: Registry | None = None
        self.handled = 0
        self.started_at: float | None = None
        self.exit_reason: Reason | None = None
        self.named: NamedRef | None = None
        self._on_exit: Callable[[Reason], None] | None = None
        self._stop_reason: Reason = NORMAL
        self._leftover: Envelope[Any] | None = None
        self._ready = threading.Event()
        self._done = threading.Event()
        self._exit_lock = threading.Lock()
        self._monitors: dict[int, Notify] = {}

    def monitor(self, path: str) -> Monitor:
        """Watch the actor at ``path``: a ``Down`` message comes to this actor when it ends."""
        if self.registry is None:
            msg = f"{self.path} is not in a supervision tree"
            raise RuntimeError(msg)
        return self.registry.monitor(path, self.actor_ref.tell)

    def inject_crash(self, reason: str) -> None:
        """Fail on purpose (``Tree.crash``): a crash like any other."""
        raise InjectedCrash(reason)

    # The loop.

    def _start_actor_loop(self) -> None:
        threading.Thread(target=self._actor_loop, name=self.path, daemon=True).start()

    def _actor_loop(self) -> None:
        try:
            self.on_start()
        except BaseException as error:
            self._crash(error, None, " in on_start")
        else:
            self.started_at = time.monotonic()
            self._ready.set()
            self._run()
        if self.named is None:
            self.refuse_pending(f"{self.path} has ended")

    def _run(self) -> None:
        get = self.actor_inbox.get
        stopped = self.actor_stopped.is_set
        handle = self._handle_receive
        expected = self.expected_errors
        while True:
            envelope = get()
            if stopped():
                if envelope.message is not WAKE:
                    self._leftover = envelope
                break
            try:
                response = handle(envelope.message)
            except expected as error:
                self._refuse(envelope, error)
            except BaseException as error:
                self._crash(error, envelope, "")
                return
            else:
                if envelope.reply_to is not None:
                    self._answer(envelope, response)
            self.handled += 1
        self._finish(self._stop_reason)
        if self._leftover is not None and self.named is not None:
            self.named.rescue(self)

    def _answer(self, envelope: Envelope[Any], response: Any) -> None:
        """Hand ``response`` to the asker; a reply channel that fails is the asker's problem."""
        try:
            envelope.reply_to.set(response)  # type: ignore[union-attr]
        except Exception:
            logger.exception("%s: the answer could not be delivered to its asker", self.path)

    def _refuse(self, envelope: Envelope[Any], error: Exception) -> None:
        if envelope.reply_to is not None:
            envelope.reply_to.set_exception((type(error), error, error.__traceback__))
        else:
            logger.info("%s: %r from a tell (an expected error, not a crash)", self.path, error)

    def _crash(self, error: BaseException, envelope: Envelope[Any] | None, where: str) -> None:
        failure = Failure.from_exception(error)
        logger.error("%s crashed%s: %s", self.path, where, failure, exc_info=error)
        self.actor_stopped.set()
        if envelope is not None and envelope.reply_to is not None:
            crashed = ActorCrashed(f"{self.path} crashed handling the message: {failure}")
            crashed.__cause__ = error
            envelope.reply_to.set_exception((ActorCrashed, crashed, None))
        try:
            self.on_failure(type(error), error, error.__traceback__)
        except Exception:
            logger.exception("%s: on_failure failed", self.path)
        self._finish(failure)

    def _stop(self) -> None:
        """Handle Pykka's stop message: ``on_stop`` now, then the loop ends after this message."""
        self.actor_stopped.set()
        self.handled -= 1  # the loop counts every message; the stop request is not one
        try:
            self.on_stop()
        except Exception as error:
            self._stop_reason = Failure.from_exception(error)
            logger.error("%s crashed in on_stop: %s", self.path, self._stop_reason, exc_info=error)
        self.actor_inbox.put(Envelope(WAKE))

    def _finish(self, reason: Reason) -> None:
        """End this instance (once): tell its monitors, then its supervisor."""
        with self._exit_lock:
            if self.exit_reason is not None:
                return
            self.exit_reason = reason
            monitors, self._monitors = self._monitors, {}
        self.actor_stopped.set()
        ActorRegistry.unregister(self.actor_ref)
        try:
            for monitor_id, notify in monitors.items():
                deliver(notify, Down(self.path, reason, monitor_id))
            if self._on_exit is not None:
                self._on_exit(reason)
        finally:  # only now: a root's give-up hook runs before anyone waiting sees the end
            self._ready.set()
            self._done.set()

    # The lifecycle (actors.lifecycle.Instance), driven by supervisors and names.

    def launch(
        self, named: NamedRef, registry: Registry, on_exit: Callable[[Reason], None]
    ) -> None:
        """Start this instance behind ``named``; ``on_exit(reason)`` runs when it ends."""
        self.path = named.path
        self.registry = registry
        self.named = named
        self._on_exit = on_exit
        named.install(self)
        ActorRegistry.register(self.actor_ref)
        self._start_actor_loop()

    def wait_started(self, timeout: float | None) -> bool:
        """Wait until ``on_start`` has finished or the instance has ended; False on timeout."""
        return self._ready.wait(timeout)

    def wait_ended(self, timeout: float | None) -> bool:
        """Wait until the instance has ended (its ``on_exit`` done); False on timeout."""
        return self._done.wait(timeout)

    def request_stop(self) -> None:
        """Stop after the messages already queued, with ``on_stop``; the exit is a shutdown."""
        self._stop_reason = SHUTDOWN
        self.actor_inbox.put(Envelope(_ActorStop()))

    def kill(self, reason: Reason = KILLED) -> None:
        """End now, without ``on_stop``.

        Python cannot stop a thread: a handler that is running goes on to its end, but the
        instance counts as ended at once and handles no further message.
        """
        self._finish(reason)
        self.actor_inbox.put(Envelope(WAKE))

    def add_watcher(self, notify: Notify) -> Monitor:
        """Call ``notify(Down)`` once when this instance ends (at once if it has)."""
        monitor = Monitor(self.path, self._remove_watcher)
        with self._exit_lock:
            reason = self.exit_reason
            if reason is None:
                self._monitors[monitor.id] = notify
                return monitor
        deliver(notify, Down(self.path, reason, monitor.id))
        return monitor

    def _remove_watcher(self, monitor_id: int) -> None:
        with self._exit_lock:
            self._monitors.pop(monitor_id, None)

    def hand_over(self, inbox: Inbox) -> None:
        """Move the messages this ended instance did not handle to ``inbox``, in order."""
        for envelope in self._take_pending():
            inbox.put(envelope)

    def refuse_pending(self, why: str) -> None:
        """Refuse the messages this ended instance did not handle: asks fail, tells are counted."""
        dropped = 0
        for envelope in self._take_pending():
            if envelope.reply_to is None:
                dropped += 1
            else:
                envelope.reply_to.set_exception((ActorUnavailable, ActorUnavailable(why), None))
        if dropped:
            logger.warning("%s: %d told message(s) not handled: %s", self.path, dropped, why)

    def _take_pending(self) -> list[Envelope[Any]]:
        pending = [] if self._leftover is None else [self._leftover]
        self._leftover = None
        inbox = self.actor_inbox
        wakes = 0
        while True:
            try:
                envelope = inbox.get_nowait()
            except queue.Empty:
                break
            if envelope.message is WAKE:
                wakes += 1
            elif isinstance(envelope.message, _ActorStop):
                if envelope.reply_to is not None:
                    envelope.reply_to.set(None)
            else:
                pending.append(envelope)
        for _ in range(wakes):  # the ended loop may still be waiting for its wake-up
            inbox.put(Envelope(WAKE))
        return pending
