"""One at a time per key, on one event loop: the password checks of one admin on a web node.

Each scrypt check costs real CPU (tens of milliseconds of a core): a :class:`Turnstile` lets
one check per username run at a time, and the others wait their turn, those of a lower
``rank`` first (in arrival order within a rank). The login throttle ranks a network the admin
signed in from lately 0, one without recent failures 1, any other 2, so that attempts queued
by an attacker do not hold the admin up. Not thread-safe: use it from its event loop's thread
only (Tornado's IOLoop)::

    turnstile = Turnstile()
    async with turnstile.turn("ada", rank=1):
        ...  # nobody else holds "ada" meanwhile
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
from collections.abc import AsyncIterator


class _Line:
    """The holder of one key and those waiting for it, by rank and arrival."""

    def __init__(self) -> None:
        self.held = False
        self.waiting: list[tuple[int, int, asyncio.Future[None]]] = []

    def pass_on(self) -> None:
        """Hand the turn to the next waiter still waiting, or leave the key free."""
        while self.waiting:
            _, _, waiter = heapq.heappop(self.waiting)
            if not waiter.done():
                waiter.set_result(None)
                return
        self.held = False


class Turnstile:
    """At most one holder per key at a time (see the module doc)."""

    def __init__(self) -> None:
        self._lines: dict[str, _Line] = {}
        self._order = itertools.count()

    def waiting(self, key: str) -> int:
        """How many wait for ``key`` now."""
        line = self._lines.get(key)
        return 0 if line is None else sum(not waiter.done() for _, _, waiter in line.waiting)

    @contextlib.asynccontextmanager
    async def turn(self, key: str, rank: int = 0) -> AsyncIterator[None]:
        """Hold ``key`` for the ``async with`` block, once those ahead (a lower ``rank``, or
        the same and earlier) have had theirs."""
        line = self._lines.setdefault(key, _Line())
        if line.held:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            heapq.heappush(line.waiting, (rank, next(self._order), waiter))
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    line.pass_on()  # the turn had come: hand it on
                raise
        line.held = True
        try:
            yield
        finally:
            line.pass_on()
            if not line.held:
                del self._lines[key]
