"""What this node knows of its peers: the state of its link to each, and up/down events."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("gather.link")


@dataclass(frozen=True)
class NodeEvent:
    """A peer came up or went down."""

    node: str
    up: bool
    reason: str
    at: float


@dataclass
class PeerState:
    """What this node knows of its link to one peer (for the shell's ``nodes`` command)."""

    name: str
    host: str
    port: int
    up: bool = False
    since: float = field(default_factory=time.time)
    last_error: str = ""
    connects: int = 0
    rtt_ms: float | None = None

    def as_data(self) -> dict[str, Any]:
        """The state as plain data."""
        return {
            "name": self.name,
            "address": f"{self.host}:{self.port}",
            "state": "up" if self.up else "down",
            "since": self.since,
            "connects": self.connects,
            "rtt_ms": self.rtt_ms,
            "last_error": "" if self.up else self.last_error,
        }


class Announcer:
    """Records peers coming up and going down, and tells the local subscribers."""

    def __init__(self) -> None:
        self._subscribers: list[Callable[[NodeEvent], None]] = []

    def subscribe(self, callback: Callable[[NodeEvent], None]) -> Callable[[], None]:
        """Call ``callback`` for every event from now on; return what unsubscribes it."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback)

    def announce(self, state: PeerState, up: bool, reason: str) -> None:
        """Mark the peer up or down (nothing happens if it already is)."""
        if state.up == up:
            return
        state.up, state.since = up, time.time()
        if not up:
            state.last_error = reason
        log.info("node %s is %s (%s)", state.name, "UP" if up else "DOWN", reason)
        event = NodeEvent(node=state.name, up=up, reason=reason, at=state.since)
        for callback in list(self._subscribers):
            try:
                callback(event)
            except Exception:
                log.exception("node event subscriber failed")
