"""Monitors: a watcher is told, once, when the instance it watches ends."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

from pykka import ActorDeadError

from actors.reasons import NOPROC, Reason

logger = logging.getLogger("gather.actors")

_ids = itertools.count(1)


@dataclass(frozen=True)
class Down:
    """The monitored actor ended with ``reason`` (or had already ended, or never existed)."""

    path: str
    reason: Reason
    monitor: int


Notify: TypeAlias = Callable[[Down], None]
"""Receives the down notice; it must not block (an actor's ``actor_ref.tell`` is typical)."""


class Monitor:
    """One monitor on one actor instance; :meth:`cancel` removes it before it fires."""

    __slots__ = ("_remove", "id", "path")

    def __init__(self, path: str, remove: Callable[[int], None] | None = None) -> None:
        """``remove(id)`` takes the monitor off its instance (None: nothing is watched)."""
        self.id = next(_ids)
        self.path = path
        self._remove = remove

    def __repr__(self) -> str:
        return f"<Monitor {self.id} on {self.path}>"

    def cancel(self) -> None:
        """Stop monitoring; no down notice is sent after this returns."""
        if self._remove is not None:
            self._remove(self.id)


def deliver(notify: Notify, down: Down) -> None:
    """Send ``down``; a watcher that is gone is skipped, a failing callback is logged."""
    try:
        notify(down)
    except ActorDeadError:
        pass
    except Exception:
        logger.exception("monitor callback for %s failed", down.path)


def noproc(path: str, notify: Notify) -> Monitor:
    """Monitor something that does not exist: the down notice (``noproc``) is sent at once."""
    monitor = Monitor(path)
    deliver(notify, Down(path, NOPROC, monitor.id))
    return monitor
