"""A thread that tells an actor a message at a fixed interval: the actors' timer.

Pykka has no timers; an actor that works periodically (the kiosk's cache refreshing its
catalog, the sms notifier sending owed texts) starts a :class:`Ticker` in ``on_start`` and
stops it in ``on_stop`` / ``on_failure``. The tick is an ordinary message, handled on the
actor's own thread between the others. A ticker ends by itself when its actor is dead.
"""

from __future__ import annotations

import threading
from typing import Any

import pykka


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
