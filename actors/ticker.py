"""A thread that tells an actor a message at a fixed interval: the actors' timer.

Pykka has no timers; an actor that works periodically (the kiosk's cache refreshing its
catalog, the notifiers sending owed notices, the mailer) is a :class:`TickingActor`: it
starts its :class:`Ticker` in ``on_start``, and the ticks stop when it stops or fails. The
tick is an ordinary message, handled on the actor's own thread between the others. A ticker
ends by itself when its actor is dead.
"""

from __future__ import annotations

import threading
from typing import Any

import pykka

from actors.actor import GatherActor


class Ticker:
    """Tells ``ref`` ``message`` every ``interval_s`` seconds until :meth:`stop`."""

    def __init__(
        self, ref: pykka.ActorRef[Any], message: Any, interval_s: float, name: str
    ) -> None:
        self._ref = ref
        self._message = message
        self._interval_s = interval_s
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> Ticker:
        """Start ticking; returns the ticker."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Tick no more (a tick already sent is still handled)."""
        self._stopped.set()

    def _run(self) -> None:
        while not self._stopped.wait(self._interval_s):
            try:
                self._ref.tell(self._message)
            except pykka.ActorDeadError:
                return


class TickingActor(GatherActor):
    """A :class:`~actors.actor.GatherActor` with a :class:`Ticker`: :meth:`start_ticking` in
    ``on_start``; the ticks stop when the actor stops or fails. A subclass with more to let go
    of overrides :meth:`release` (calling this one)."""

    _ticker: Ticker | None = None

    def start_ticking(self, message: Any, interval_s: float, name: str) -> None:
        """Tell this actor ``message`` every ``interval_s`` seconds, from a thread ``name``."""
        self._ticker = Ticker(self.actor_ref, message, interval_s, name).start()

    def release(self) -> None:
        """Stop the ticks (a tick already sent is still handled)."""
        if self._ticker is not None:
            self._ticker.stop()

    def on_stop(self) -> None:
        self.release()

    def on_failure(self, *_: Any) -> None:
        self.release()
