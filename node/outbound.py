"""The connection this node dialled to one peer: the frames waiting to go on it, the asks
waiting for their answers, and its heartbeat bookkeeping.

Any thread may send; the bytes are written by the link's event loop, which is woken only
when no flush is already scheduled, so a burst of tells costs one wake-up.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Callable
from typing import Any

from node.errors import LinkError, PeerUnavailable
from node.peers import PeerState

MAX_OUTBOX_BYTES = 64 * 2**20
"""Bytes a peer may have unread (queued here and in the socket) before sends are refused."""

AnswerFuture = concurrent.futures.Future[Any]


class Outbound:
    """The dialled connection to one peer (``state.name``) and everything waiting on it."""

    def __init__(self, state: PeerState, loop: asyncio.AbstractEventLoop) -> None:
        self.state = state
        self._loop = loop
        self._writer: asyncio.StreamWriter | None = None
        self._outbox: list[bytes] = []
        self._outbox_bytes = 0
        self._flush_scheduled = False
        self._lock = threading.Lock()
        self._pending: dict[int, AnswerFuture] = {}
        self._last_pong = 0.0
        self._ping_sent: dict[int, float] = {}

    def send(self, frame: bytes, awaiting: tuple[int, AnswerFuture] | None = None) -> None:
        """Queue ``frame`` (thread-safe), registering an ask's future for its answer.

        Raises :class:`PeerUnavailable` when down, :class:`LinkError` when the peer has more
        than ``MAX_OUTBOX_BYTES`` unread.
        """
        with self._lock:
            writer = self._writer
            if writer is None:
                raise PeerUnavailable(f"node {self.state.name} is not connected")
            backlog = self._outbox_bytes + writer.transport.get_write_buffer_size()
            if backlog > MAX_OUTBOX_BYTES:
                raise LinkError(f"node {self.state.name} is not keeping up: {backlog} bytes queued")
            if awaiting is not None:
                self._pending[awaiting[0]] = awaiting[1]
            self._outbox.append(frame)
            self._outbox_bytes += len(frame)
            if self._flush_scheduled:
                return
            self._flush_scheduled = True
        self._loop.call_soon_threadsafe(self._flush)

    def _flush(self) -> None:
        with self._lock:
            data, self._outbox, self._outbox_bytes = self._outbox, [], 0
            self._flush_scheduled = False
            writer = self._writer
        if writer is not None and data:
            writer.write(b"".join(data))

    def awaiting(self, ask_id: int) -> AnswerFuture | None:
        """Take the future of ask ``ask_id`` for its answer; None if nobody waits any more."""
        future = self._pending.pop(ask_id, None)
        return None if future is None or future.done() else future

    def forget(self, ask_id: int) -> None:
        """Stop waiting for the answer to ask ``ask_id`` (it was answered or given up)."""
        self._pending.pop(ask_id, None)

    def connected(self, writer: asyncio.StreamWriter) -> None:
        """The handshake succeeded: frames go on ``writer`` from now on."""
        with self._lock:
            self._writer = writer
        self._last_pong = time.monotonic()

    def disconnected(self, reason: str) -> None:
        """The connection ended: drop what was queued and fail every ask still waiting."""
        with self._lock:
            self._writer = None
            self._outbox, self._outbox_bytes = [], 0
            pending, self._pending = self._pending, {}
        for future in list(pending.values()):
            if not future.done():
                future.set_exception(
                    PeerUnavailable(f"node {self.state.name} went down before answering: {reason}")
                )

    def silent_for(self) -> float:
        """Seconds since the last heartbeat answer (or since connecting)."""
        return time.monotonic() - self._last_pong

    def pinged(self, seq: int) -> None:
        """Heartbeat ``seq`` is being sent now."""
        self._ping_sent = {seq: time.monotonic()}

    def ponged(self, seq: int) -> None:
        """The answer to heartbeat ``seq`` arrived: the peer is alive; measure the round trip."""
        now = time.monotonic()
        self._last_pong = now
        sent = self._ping_sent.get(seq)
        if sent is not None:
            self.state.rtt_ms = (now - sent) * 1000


def resolver(future: AnswerFuture) -> Callable[[bool, Any], None]:
    """A reply callback that completes ``future`` with a value (ok) or an error."""

    def resolve(ok: bool, value: Any) -> None:
        if future.done():
            return
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value if isinstance(value, BaseException) else LinkError(value))

    return resolve
