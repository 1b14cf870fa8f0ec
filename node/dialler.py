"""The client side of the link: dial a peer, prove the cookie, send heartbeats, read the
answers, and redial with backoff (0.1 s doubling to 2 s, with jitter) whenever it ends.

A peer is up from its handshake until its connection ends: reset or closed (noticed at once)
or silent for ``down_after_s`` (its heartbeat answers stopped).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
from collections.abc import Callable
from typing import Any

from node import handshake, wire
from node.errors import LinkError, decode_error, describe
from node.frames import FrameDecoder, FrameError, encode
from node.outbound import Outbound, resolver
from node.peers import PeerState
from node.settings import READ_SIZE, LinkSettings

log = logging.getLogger("gather.link")

Announce = Callable[[PeerState, bool, str], None]


class Dialler:
    """Keeps this node's connections to its peers, one :meth:`keep_connected` task each."""

    def __init__(
        self, own_name: str, cookie: bytes, settings: LinkSettings, announce: Announce
    ) -> None:
        self._own_name = own_name
        self._cookie = cookie
        self._settings = settings
        self._announce = announce

    async def keep_connected(self, outbound: Outbound) -> None:
        """Dial ``outbound``'s peer, serve the connection, redial; until cancelled."""
        delay = 0.1
        state = outbound.state
        while True:
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(
                        state.host, state.port, ssl=self._settings.client_tls, limit=READ_SIZE
                    ),
                    handshake.HANDSHAKE_TIMEOUT_S,
                )
            except (TimeoutError, OSError) as exc:
                state.last_error = f"connect: {exc or 'timeout'}"
            else:
                if await self._connection(outbound, reader, writer):
                    delay = 0.1
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2, 2.0)

    async def _connection(
        self, outbound: Outbound, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Authenticate and serve one connection until it ends; True if the peer got in."""
        state = outbound.state
        reason = "closed"
        authenticated = False
        try:
            await asyncio.wait_for(
                handshake.client_handshake(
                    reader, writer, self._cookie, self._own_name, state.name
                ),
                handshake.HANDSHAKE_TIMEOUT_S,
            )
            authenticated = True
            state.connects += 1
            outbound.connected(writer)
            self._announce(state, True, "connected")
            reason = await self._read_answers(outbound, reader, writer)
        except handshake.HandshakeError as exc:
            reason = describe(exc)
            log.warning("node %s refused: %s", state.name, exc)
        except (TimeoutError, OSError, FrameError) as exc:
            reason = describe(exc)
        except Exception as exc:
            reason = describe(exc)
            log.exception("link to node %s failed; redialling", state.name)
        finally:
            state.last_error = reason
            outbound.disconnected(reason)
            writer.close()
            self._announce(state, False, reason)
        return authenticated

    async def _read_answers(
        self, outbound: Outbound, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> str:
        decoder = FrameDecoder(self._settings.max_frame)
        heartbeat = asyncio.get_running_loop().create_task(self._heartbeat(outbound, writer))
        try:
            while True:
                data = await reader.read(READ_SIZE)
                if not data:
                    return "connection closed by peer"
                for frame in decoder.feed(data):
                    _on_answer(outbound, frame)
        finally:
            heartbeat.cancel()

    async def _heartbeat(self, outbound: Outbound, writer: asyncio.StreamWriter) -> None:
        settings = self._settings
        for seq in itertools.count():
            if outbound.silent_for() > settings.down_after_s:
                log.warning("node %s missed its heartbeats", outbound.state.name)
                writer.transport.abort()
                return
            outbound.pinged(seq)
            writer.write(encode(["ping", seq]))
            await asyncio.sleep(settings.heartbeat_s)


def _on_answer(outbound: Outbound, frame: list[Any]) -> None:
    kind = frame[0]
    if kind == "reply" and len(frame) == 4 and isinstance(frame[1], int):
        future = outbound.awaiting(frame[1])
        if future is None:
            return
        ok = bool(frame[2])
        try:
            value = wire.from_wire(frame[3]) if ok else decode_error(frame[3])
        except wire.WireError as exc:
            future.set_exception(LinkError(f"answer from {outbound.state.name}: {exc}"))
        else:
            resolver(future)(ok, value)
    elif kind == "pong" and len(frame) == 2 and isinstance(frame[1], int):
        outbound.ponged(frame[1])
    else:
        raise FrameError(f"unexpected {str(kind)[:20]!r} frame from a server")
