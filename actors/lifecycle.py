"""The life of one actor instance, as its name and its supervisor drive it.

This is the interface between ``actors`` and ``supervision``: ``GatherActor`` implements
:class:`Instance`, and ``NamedRef``, supervisors, the tree and introspection use an instance
only through it. So the modules depend in one direction (``actor`` on ``registry``, ``ref``
and this module; ``ref`` on this module), with no import cycle.

1. A supervisor makes the instance from its ``ChildSpec``, in the supervisor's thread, and
   calls ``GatherActor.launch(named, registry, on_exit)``: its name installs it (handing it
   what its predecessor left unhandled) and its own thread runs ``on_start``.
2. :meth:`Instance.wait_started` tells the supervisor when ``on_start`` has finished, or that
   the instance ended first.
3. It ends once, with a reason (docs/supervision.md): it stopped itself (``normal``), it
   crashed, its supervisor stopped it (:meth:`Instance.request_stop`, ``shutdown``) or ended
   it at once (:meth:`Instance.kill`). Then ``exit_reason`` is set, its watchers get
   ``Down``, ``on_exit(reason)`` runs (in the thread that ended it) and
   :meth:`Instance.wait_ended` returns True.
4. Messages it did not handle are moved to its replacement (:meth:`Instance.hand_over`) or
   refused (:meth:`Instance.refuse_pending`), by its name.
"""

from __future__ import annotations

import queue
import threading
from typing import Any, Protocol, TypeAlias

from pykka._envelope import Envelope  # the inbox's item type (Pykka is pinned at 4.5.0)

from actors.monitor import Monitor, Notify
from actors.reasons import KILLED, Reason

__all__ = ["RUNTIME_METHODS", "Envelope", "Inbox", "Instance"]

RUNTIME_METHODS = frozenset(
    {
        "launch",
        "wait_started",
        "wait_ended",
        "request_stop",
        "kill",
        "add_watcher",
        "hand_over",
        "refuse_pending",
    }
)
"""The lifecycle's methods: the runtime calls them from outside the actor, never through its
mailbox (``NamedRef.call`` refuses them: ``wait_ended`` called in the actor's own thread
would wait for itself)."""

Inbox: TypeAlias = queue.Queue[Envelope[Any]]
"""A ``ThreadingActor``'s inbox."""


class Instance(Protocol):
    """One instance behind a name, from its launch to its end."""

    @property
    def actor_inbox(self) -> Inbox:
        """Messages waiting (Pykka's inbox)."""

    @property
    def actor_stopped(self) -> threading.Event:
        """Set once the instance handles no further message (Pykka's flag)."""

    @property
    def exit_reason(self) -> Reason | None:
        """Why it ended; None while it has not."""

    @property
    def started_at(self) -> float | None:
        """``time.monotonic()`` when ``on_start`` finished; None before."""

    @property
    def handled(self) -> int:
        """Messages this instance handled."""

    def wait_started(self, timeout: float | None) -> bool:
        """Wait until ``on_start`` has finished or the instance has ended; False on timeout."""

    def wait_ended(self, timeout: float | None) -> bool:
        """Wait until the instance has ended (its ``on_exit`` done); False on timeout."""

    def request_stop(self) -> None:
        """Stop after the messages already queued, with ``on_stop``; the reason is a shutdown."""

    def kill(self, reason: Reason = KILLED) -> None:
        """End now, without ``on_stop``, with ``reason``."""

    def add_watcher(self, notify: Notify) -> Monitor:
        """Call ``notify(Down)`` once when this instance ends (at once if it has)."""

    def hand_over(self, inbox: Inbox) -> None:
        """Move the messages this ended instance did not handle to ``inbox``, in order."""

    def refuse_pending(self, why: str) -> None:
        """Refuse the messages this ended instance did not handle: asks fail, tells are counted."""
