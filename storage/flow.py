"""Storage logic written once, run blocking or on an asyncio loop.

A *flow* is a generator that yields what it needs done, a :class:`Query` (answered with the
statement's rows, or with the storage error thrown in) or a :class:`Pause` (answered with
``None``), and returns its result. It does no I/O itself, so the same flow runs blocking on a
thread with :meth:`storage.session.Database.run`, or without a thread per request on an asyncio
loop (Tornado's, an actor's) with :meth:`storage.session.Database.run_async`::

    def reading_seats(option_id):
        rows = yield Query("SELECT ... WHERE option_id = ?", (option_id,), "signup")
        return rows[0] if rows else None

    db.run(reading_seats(option_id))  # on a thread
    await db.run_async(reading_seats(option_id))  # on a loop
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

OpClass = Literal["read", "write", "signup", "report"]
Row = dict[str, Any]
T = TypeVar("T")


@dataclass(frozen=True)
class Query:
    """Run one prepared statement under operation class ``op``; the flow gets all its rows."""

    cql: str
    params: Sequence[Any] = ()
    op: OpClass = "read"


@dataclass(frozen=True)
class Pause:
    """Wait ``seconds`` before going on (a back-off between attempts)."""

    seconds: float


Flow = Generator[Query | Pause, Any, T]
"""A generator yielding :class:`Query` and :class:`Pause` steps and returning a ``T``."""
