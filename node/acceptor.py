"""The server side of the link: the connections other nodes and operator shells open here.

After the handshake a peer sends tells, asks and heartbeats, and a shell sends commands;
each is handed to this node's :class:`Delivery`, and each answer goes back on the same
connection. A peer silent for ``down_after_s`` is dropped (its heartbeats stopped), and so
is a peer taken out of the peer set (:meth:`Acceptor.set_peers`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Container
from typing import Any, Protocol

from node import handshake, wire
from node.errors import encode_error
from node.frames import FrameDecoder, FrameError, encode
from node.settings import READ_SIZE, LinkSettings

log = logging.getLogger("gather.link")

Reply = Callable[[bool, Any], None]


class Delivery(Protocol):
    """Where the link hands what arrives for this node's actors and its operator shell."""

    def tell(self, path: str, message: Any) -> None: ...

    def ask(self, path: str, message: Any, timeout: float, reply: Reply) -> None: ...

    def command(self, name: str, args: list[Any]) -> Any: ...


class Acceptor:
    """Authenticates and serves every connection this node accepts (loop thread only)."""

    def __init__(
        self,
        own_name: str,
        cookie: bytes,
        peers: Container[str],
        delivery: Delivery,
        settings: LinkSettings,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self._own_name = own_name
        self._cookie = cookie
        self._peers = peers
        self._delivery = delivery
        self._settings = settings
        self._loop = loop
        self._inbound: dict[asyncio.StreamWriter, str | None] = {}
        """Every accepted connection, with its peer's name once one authenticated on it."""

    def set_peers(self, peers: Container[str]) -> None:
        """Accept only ``peers`` from now on; close the connections of any other peer."""
        self._peers = peers
        for writer, peer in list(self._inbound.items()):
            if peer is not None and peer not in peers:
                log.info("closing the connection of %s: no longer a peer", peer)
                writer.close()

    async def accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one accepted connection until it ends (``asyncio.start_server``'s callback)."""
        address = writer.get_extra_info("peername")
        self._inbound[writer] = None
        try:
            peer, purpose = await asyncio.wait_for(
                handshake.server_handshake(
                    reader, writer, self._cookie, self._own_name, self._peers
                ),
                handshake.HANDSHAKE_TIMEOUT_S,
            )
            if purpose == "peer":
                if peer not in self._peers:
                    raise handshake.HandshakeError(f"{peer!r} was removed during its handshake")
                self._inbound[writer] = peer
            await self._serve(purpose, reader, writer)
        except handshake.HandshakeError as exc:
            log.warning("refused connection from %s: %s", address, exc)
        except (TimeoutError, OSError, FrameError, wire.WireError) as exc:
            log.warning("dropped connection from %s: %s: %s", address, type(exc).__name__, exc)
        except Exception:
            log.exception("dropped connection from %s after an unexpected error", address)
        finally:
            self._inbound.pop(writer, None)
            writer.close()

    def close_all(self) -> None:
        """Close every accepted connection."""
        for writer in list(self._inbound):
            writer.close()

    async def _serve(
        self, purpose: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        decoder = FrameDecoder(self._settings.max_frame)
        silent_limit = self._settings.down_after_s if purpose == "peer" else None
        while True:
            data = await asyncio.wait_for(reader.read(READ_SIZE), silent_limit)
            if not data:
                return
            for frame in decoder.feed(data):
                if purpose == "peer":
                    self._on_request(frame, writer)
                else:
                    self._on_command(frame, writer)

    def _on_request(self, frame: list[Any], writer: asyncio.StreamWriter) -> None:
        kind = frame[0]
        if kind == "tell" and len(frame) == 3 and isinstance(frame[1], str):
            self._delivery.tell(frame[1], wire.from_wire(frame[2]))
        elif kind == "ping" and len(frame) == 2:
            writer.write(encode(["pong", frame[1]]))
        elif (
            kind == "ask"
            and len(frame) == 5
            and isinstance(frame[2], str)
            and isinstance(frame[4], int | float)
            and not isinstance(frame[4], bool)
        ):
            _, ask_id, path, body, timeout = frame
            reply = self._replier(writer, "reply", ask_id)
            try:
                message = wire.from_wire(body)
            except wire.WireError as exc:
                reply(False, exc)
                return
            self._delivery.ask(path, message, float(timeout), reply)
        else:
            raise FrameError(f"unexpected {str(kind)[:20]!r} frame from a peer")

    def _on_command(self, frame: list[Any], writer: asyncio.StreamWriter) -> None:
        if frame[0] != "cmd" or len(frame) != 4 or not isinstance(frame[3], list):
            raise FrameError(f"unexpected {str(frame[0])[:20]!r} frame from a shell")
        _, command_id, name, args = frame
        reply = self._replier(writer, "result", command_id)

        def run() -> None:
            try:
                reply(True, self._delivery.command(str(name), args))
            except Exception as exc:
                reply(False, exc)

        self._loop.run_in_executor(None, run)

    def _replier(self, writer: asyncio.StreamWriter, kind: str, request_id: Any) -> Reply:
        """A thread-safe callback that sends the answer to one request."""

        def send(ok: bool, value: Any) -> None:
            try:
                body = wire.to_wire(value) if ok else encode_error(value)
                frame = encode([kind, request_id, ok, body])
            except (TypeError, ValueError, OverflowError) as exc:
                log.warning("answer to %s %r cannot be sent: %s", kind, request_id, exc)
                frame = encode([kind, request_id, False, ["UnsendableAnswer", str(exc)]])
            try:
                self._loop.call_soon_threadsafe(_write_unless_closed, writer, frame)
            except RuntimeError:  # the link has stopped (its loop closed): nobody to answer
                log.info("answer to %s %r dropped: the link has stopped", kind, request_id)

        return send


def _write_unless_closed(writer: asyncio.StreamWriter, frame: bytes) -> None:
    if not writer.is_closing():
        writer.write(frame)
