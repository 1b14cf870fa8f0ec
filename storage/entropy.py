"""System random bytes for the sign-up path, drawn from the kernel a block at a time.

Every ``os.urandom`` call is a system call that lets go of the GIL, and a thread that lets go
of it waits to get it back. In a web node the IOLoop thread shares the GIL with the Cassandra
driver's I/O thread, so under load one ``urandom`` per sign-up (for its reference code) cost
the loop about 250 µs of waiting per request (a profile of bench/web.py's server).
:func:`token_bytes` hands out the bytes of one :data:`BLOCK_SIZE` block of ``os.urandom``
output after another: the same kernel randomness, one system call per few hundred codes.

Each byte of a block is handed out once, to one caller. A process forked after drawing a
block throws the block away in the child, so parent and child never hand out the same bytes.

Thread-safe: a lock guards the block (a refill, once per block, happens under it).

    >>> len(token_bytes(6))
    6
"""

from __future__ import annotations

import os
import threading

BLOCK_SIZE = 4096


class _Pool:
    """One block of system random bytes and how much of it is handed out."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._block = b""
        self._used = 0

    def take(self, count: int) -> bytes:
        if count > BLOCK_SIZE:
            return os.urandom(count)
        with self._lock:
            if self._used + count > len(self._block):
                self._block, self._used = os.urandom(BLOCK_SIZE), 0
            taken = self._block[self._used : self._used + count]
            self._used += count
            return taken

    def forget(self) -> None:
        """Drop the block (in a forked child: it is the parent's)."""
        self._lock = threading.Lock()
        self._block, self._used = b"", 0


_POOL = _Pool()
os.register_at_fork(after_in_child=_POOL.forget)


def token_bytes(count: int) -> bytes:
    """``count`` bytes of system randomness (as ``secrets.token_bytes``), unpredictable and
    never handed out twice."""
    return _POOL.take(count)
