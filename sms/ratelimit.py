"""A limit on how many texts one number may send in a period, per sms node.

A sliding window of the times of each number's last texts, in memory: a number over the limit
has its texts stored but not answered (so a loop between two auto-responders, or someone
flooding the number, costs no sign-ups and no replies). Memory is bounded: numbers quiet for a
whole period are forgotten. With several sms nodes behind a load balancer the limit applies per
node, which is what it is for (a flood arrives over minutes, at every node alike).

Thread-safe.
"""

from __future__ import annotations

import threading
import time
from collections import deque


class RateLimit:
    """At most ``limit`` texts per number in any ``period_s`` seconds."""

    def __init__(self, limit: int, period_s: float) -> None:
        self._limit = limit
        self._period_s = period_s
        self._lock = threading.Lock()
        self._seen: dict[str, deque[float]] = {}
        self._swept_at = time.monotonic()

    def allow(self, number: str, now: float | None = None) -> bool:
        """Count a text from ``number``: whether it is within the limit."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if now - self._swept_at > self._period_s:
                self._sweep(now)
            times = self._seen.setdefault(number, deque())
            while times and now - times[0] >= self._period_s:
                times.popleft()
            if len(times) >= self._limit:
                return False
            times.append(now)
            return True

    def _sweep(self, now: float) -> None:
        self._seen = {n: t for n, t in self._seen.items() if t and now - t[-1] < self._period_s}
        self._swept_at = now
