"""The node link: authenticated msgpack frames over TCP between the nodes of a Gather cluster.

Every node listens on its port from cluster.yaml and dials every other node; it sends its own
tells, asks, broadcasts and heartbeats on the connection it dialled, and answers asks and
heartbeats on the connections it accepted. All socket work runs on one uvloop event loop
(libuv: about half the cost per read and write of asyncio's own loop) in the link's own
thread; the public methods are thread-safe and cheap: a tell appends bytes to the
peer's outbox and wakes the loop only when no flush is already scheduled.

A peer is *up* while the connection this node dialled to it is authenticated and its
heartbeat answers arrive. A connection reset (a killed process) is noticed at once; a silent
peer (a frozen host) after ``down_after_s``; so a node learns that a peer is gone within
``down_after_s + heartbeat_s`` (3 s with the defaults). It then redials with backoff (0.1 s
doubling to 2 s, with jitter) and announces the peer up again as soon as it answers.

Frames after the handshake (see node/handshake.py):

    ["tell", path, message]            ["ask", id, path, message, timeout_s]
    ["reply", id, ok, value]           ["ping", seq]   ["pong", seq]
    ["cmd", id, name, args]  (shell)   ["result", id, ok, value]
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import logging
import random
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import uvloop

from node import handshake, wire
from node.frames import DEFAULT_MAX_FRAME, FrameDecoder, FrameError, encode

log = logging.getLogger("gather.link")

HANDSHAKE_TIMEOUT_S = 5.0
HANDSHAKE_MAX_FRAME = 1024
MAX_OUTBOX_BYTES = 64 * 2**20
READ_SIZE = 256 * 1024


class LinkError(RuntimeError):
    """A message could not be sent to, or answered by, another node."""


class PeerUnavailable(LinkError):
    """The target node is not connected (down, or never seen); nothing was sent."""


class RemoteError(LinkError):
    """The remote actor answered an ask with an error (its type and message are kept)."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type
        self.message = message


class Delivery(Protocol):
    """Where the link hands what arrives for this node's actors and its operator shell."""

    def tell(self, path: str, message: Any) -> None: ...

    def ask(
        self, path: str, message: Any, timeout: float, reply: Callable[[bool, Any], None]
    ) -> None: ...

    def command(self, name: str, args: list[Any]) -> Any: ...


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
        return {
            "name": self.name,
            "address": f"{self.host}:{self.port}",
            "state": "up" if self.up else "down",
            "since": self.since,
            "connects": self.connects,
            "rtt_ms": self.rtt_ms,
            "last_error": "" if self.up else self.last_error,
        }


@dataclass(frozen=True)
class LinkSettings:
    """Tunables of the link (cluster.yaml's ``link`` section)."""

    heartbeat_s: float = 0.5
    down_after_s: float = 2.5
    max_frame: int = DEFAULT_MAX_FRAME
    server_tls: ssl.SSLContext | None = None
    client_tls: ssl.SSLContext | None = None


class _Outbound:
    """The connection this node dialled to one peer, and everything waiting to go on it."""

    def __init__(self, link: NodeLink, state: PeerState) -> None:
        self.link = link
        self.state = state
        self.writer: asyncio.StreamWriter | None = None
        self.outbox: list[bytes] = []
        self.outbox_bytes = 0
        self.flush_scheduled = False
        self.lock = threading.Lock()
        self.pending: dict[int, concurrent.futures.Future[Any]] = {}
        self.last_pong = 0.0
        self.ping_sent: dict[int, float] = {}

    def send(
        self, frame: bytes, awaiting: tuple[int, concurrent.futures.Future[Any]] | None = None
    ) -> None:
        """Queue ``frame`` (thread-safe), registering an ask's future for its answer.

        Raises :class:`PeerUnavailable` when down, :class:`LinkError` when the peer has more
        than ``MAX_OUTBOX_BYTES`` unread.
        """
        with self.lock:
            writer = self.writer
            if writer is None:
                raise PeerUnavailable(f"node {self.state.name} is not connected")
            backlog = self.outbox_bytes + writer.transport.get_write_buffer_size()
            if backlog > MAX_OUTBOX_BYTES:
                raise LinkError(f"node {self.state.name} is not keeping up: {backlog} bytes queued")
            if awaiting is not None:
                self.pending[awaiting[0]] = awaiting[1]
            self.outbox.append(frame)
            self.outbox_bytes += len(frame)
            if self.flush_scheduled:
                return
            self.flush_scheduled = True
        self.link._loop.call_soon_threadsafe(self.flush)

    def flush(self) -> None:
        with self.lock:
            data, self.outbox, self.outbox_bytes = self.outbox, [], 0
            self.flush_scheduled = False
            writer = self.writer
        if writer is not None and data:
            writer.write(b"".join(data))

    def connected(self, writer: asyncio.StreamWriter) -> None:
        with self.lock:
            self.writer = writer
        self.last_pong = time.monotonic()

    def disconnected(self, reason: str) -> None:
        with self.lock:
            self.writer = None
            self.outbox, self.outbox_bytes = [], 0
            pending, self.pending = self.pending, {}
        for future in list(pending.values()):
            if not future.done():
                future.set_exception(
                    PeerUnavailable(f"node {self.state.name} went down before answering: {reason}")
                )


class NodeLink:
    """This node's end of the node link."""

    def __init__(
        self,
        name: str,
        host: str,
        port: int,
        peers: dict[str, tuple[str, int]],
        cookie: bytes,
        delivery: Delivery,
        settings: LinkSettings | None = None,
    ) -> None:
        self.name = name
        self.host = host
        self.port = port
        self._cookie = cookie
        self._delivery = delivery
        self.settings = settings or LinkSettings()
        self._peers = {
            peer: _Outbound(self, PeerState(peer, h, p))
            for peer, (h, p) in peers.items()
            if peer != name
        }
        self._ask_ids = itertools.count(1)
        self._subscribers: list[Callable[[NodeEvent], None]] = []
        self._loop = uvloop.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=f"link-{name}", daemon=True)
        self._server: asyncio.AbstractServer | None = None
        self._started = threading.Event()
        self._start_error: BaseException | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._inbound: set[asyncio.StreamWriter] = set()

    # -- life cycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Listen, start dialling the peers; return once listening (raise if the port is taken)."""
        self._thread.start()
        self._started.wait()
        if self._start_error is not None:
            raise LinkError(
                f"cannot listen on {self.host}:{self.port}: {self._start_error}"
            ) from self._start_error

    def stop(self) -> None:
        """Close every connection and stop the loop thread."""
        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._server = self._loop.run_until_complete(
                asyncio.start_server(
                    self._accept,
                    self.host,
                    self.port,
                    ssl=self.settings.server_tls,
                    reuse_address=True,
                    limit=READ_SIZE,
                )
            )
        except OSError as exc:
            self._start_error = exc
            self._loop.close()
            self._started.set()
            return
        for outbound in self._peers.values():
            self._spawn(self._dial_forever(outbound))
        self._started.set()
        self._loop.run_forever()
        self._loop.close()

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for writer in list(self._inbound):
            writer.close()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _spawn(self, coroutine: Any) -> None:
        task = self._loop.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- sending ----------------------------------------------------------------------------

    def tell(self, node: str, path: str, message: Any) -> None:
        """Deliver ``message`` to the actor at ``path`` on ``node``, without waiting."""
        if node == self.name:
            self._delivery.tell(path, message)
            return
        self._outbound(node).send(encode(["tell", path, wire.to_wire(message)]))

    def ask(self, node: str, path: str, message: Any, timeout: float = 5.0) -> Any:
        """Send ``message`` to ``path`` on ``node`` and wait for the answer."""
        future = self.ask_future(node, path, message, timeout)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise

    def ask_future(
        self, node: str, path: str, message: Any, timeout: float = 5.0
    ) -> concurrent.futures.Future[Any]:
        """Like :meth:`ask`, returning a future; its ``result(timeout)`` raises on failure."""
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        if node == self.name:
            self._delivery.ask(path, message, timeout, _resolver(future))
            return future
        outbound = self._outbound(node)
        ask_id = next(self._ask_ids)
        frame = encode(["ask", ask_id, path, wire.to_wire(message), timeout])
        outbound.send(frame, (ask_id, future))
        future.add_done_callback(lambda _: outbound.pending.pop(ask_id, None))
        return future

    def broadcast(self, path: str, message: Any) -> list[str]:
        """Tell ``message`` to ``path`` on this node and every up peer; return who got it."""
        frame = encode(["tell", path, wire.to_wire(message)])
        reached = [self.name]
        self._delivery.tell(path, message)
        for name, outbound in self._peers.items():
            try:
                outbound.send(frame)
                reached.append(name)
            except LinkError as exc:
                log.warning("broadcast to %s on %s not sent: %s", path, name, exc)
        return reached

    def resolve(self, address: str) -> tuple[str, str]:
        """Split ``node/path`` into (node, path); a bare path names an actor of this node."""
        node, _, path = address.partition("/")
        if path and (node == self.name or node in self._peers):
            return node, path
        return self.name, address

    def _outbound(self, node: str) -> _Outbound:
        try:
            return self._peers[node]
        except KeyError:
            raise PeerUnavailable(f"no node named {node!r} in cluster.yaml") from None

    # -- peers and events -------------------------------------------------------------------

    def peers(self) -> list[PeerState]:
        """The link state of every peer, in cluster.yaml's order."""
        return [outbound.state for outbound in self._peers.values()]

    def is_up(self, node: str) -> bool:
        return node == self.name or self._outbound(node).state.up

    def subscribe(self, callback: Callable[[NodeEvent], None]) -> Callable[[], None]:
        """Call ``callback`` (on the link's thread) for every node up/down event."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback)

    def _announce(self, outbound: _Outbound, up: bool, reason: str) -> None:
        state = outbound.state
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

    # -- dialling ---------------------------------------------------------------------------

    async def _dial_forever(self, outbound: _Outbound) -> None:
        delay = 0.1
        state = outbound.state
        while True:
            reason = "closed"
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(
                        state.host, state.port, ssl=self.settings.client_tls, limit=READ_SIZE
                    ),
                    HANDSHAKE_TIMEOUT_S,
                )
            except (TimeoutError, OSError) as exc:
                state.last_error = f"connect: {exc or 'timeout'}"
            else:
                try:
                    await client_handshake(reader, writer, self._cookie, self.name, state.name)
                    state.connects += 1
                    delay = 0.1
                    outbound.connected(writer)
                    self._announce(outbound, True, "connected")
                    reason = await self._run_outbound(outbound, reader, writer)
                except (TimeoutError, OSError, FrameError, handshake.HandshakeError) as exc:
                    reason = f"{type(exc).__name__}: {exc}"
                    state.last_error = reason
                    if isinstance(exc, handshake.HandshakeError):
                        log.warning("node %s refused: %s", state.name, exc)
                except Exception as exc:
                    reason = f"{type(exc).__name__}: {exc}"
                    state.last_error = reason
                    log.exception("link to node %s failed; redialling", state.name)
                finally:
                    outbound.disconnected(reason)
                    writer.close()
                    self._announce(outbound, False, reason)
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2, 2.0)

    async def _run_outbound(
        self, outbound: _Outbound, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> str:
        decoder = FrameDecoder(self.settings.max_frame)
        heartbeat = self._loop.create_task(self._heartbeat(outbound, writer))
        try:
            while True:
                data = await reader.read(READ_SIZE)
                if not data:
                    return "connection closed by peer"
                for frame in decoder.feed(data):
                    self._on_answer(outbound, frame)
        finally:
            heartbeat.cancel()

    async def _heartbeat(self, outbound: _Outbound, writer: asyncio.StreamWriter) -> None:
        settings = self.settings
        for seq in itertools.count():
            if time.monotonic() - outbound.last_pong > settings.down_after_s:
                log.warning("node %s missed its heartbeats", outbound.state.name)
                writer.transport.abort()
                return
            outbound.ping_sent = {seq: time.monotonic()}
            writer.write(encode(["ping", seq]))
            await asyncio.sleep(settings.heartbeat_s)

    def _on_answer(self, outbound: _Outbound, frame: list[Any]) -> None:
        kind = frame[0]
        if kind == "reply" and len(frame) == 4 and isinstance(frame[1], int):
            future = outbound.pending.pop(frame[1], None)
            if future is None or future.done():
                return
            try:
                value = _decode_value(bool(frame[2]), frame[3])
            except wire.WireError as exc:
                future.set_exception(LinkError(f"answer from {outbound.state.name}: {exc}"))
            else:
                _resolver(future)(bool(frame[2]), value)
        elif kind == "pong" and len(frame) == 2:
            now = time.monotonic()
            outbound.last_pong = now
            sent = outbound.ping_sent.get(frame[1])
            if sent is not None:
                outbound.state.rtt_ms = (now - sent) * 1000
        else:
            raise FrameError(f"unexpected {str(kind)[:20]!r} frame from a server")

    # -- accepting --------------------------------------------------------------------------

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        address = writer.get_extra_info("peername")
        self._inbound.add(writer)
        try:
            decoder = FrameDecoder(HANDSHAKE_MAX_FRAME)
            peer, purpose = await asyncio.wait_for(
                self._server_handshake(reader, writer, decoder), HANDSHAKE_TIMEOUT_S
            )
            decoder.max_frame = self.settings.max_frame
            await self._serve(peer, purpose, reader, writer, decoder)
        except (TimeoutError, OSError, FrameError, wire.WireError) as exc:
            log.warning("dropped connection from %s: %s: %s", address, type(exc).__name__, exc)
        except Exception:
            log.exception("dropped connection from %s after an unexpected error", address)
        except handshake.HandshakeError as exc:
            log.warning("refused connection from %s: %s", address, exc)
        finally:
            self._inbound.discard(writer)
            writer.close()

    async def _server_handshake(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, decoder: FrameDecoder
    ) -> tuple[str, str]:
        peer, purpose, client_nonce = handshake.parse_hello(await _read_frame(reader, decoder))
        if purpose == "peer" and peer not in self._peers:
            raise handshake.HandshakeError(f"{peer!r} is not a node of cluster.yaml")
        nonce = handshake.new_nonce()
        mine = handshake.proof(self._cookie, "server", nonce, client_nonce, self.name, peer)
        writer.write(encode(["challenge", self.name, nonce, mine]))
        frame = await _read_frame(reader, decoder)
        if frame[0] != "proof" or len(frame) != 2:
            raise handshake.HandshakeError("expected the client's proof")
        handshake.check(
            handshake.proof(self._cookie, "client", client_nonce, nonce, peer, self.name),
            frame[1],
        )
        writer.write(encode(["welcome"]))
        return peer, purpose

    async def _serve(
        self,
        peer: str,
        purpose: str,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        decoder: FrameDecoder,
    ) -> None:
        silent_limit = self.settings.down_after_s if purpose == "peer" else None
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

    def _replier(
        self, writer: asyncio.StreamWriter, kind: str, request_id: Any
    ) -> Callable[[bool, Any], None]:
        """A thread-safe callback that sends the answer to one request."""

        def send(ok: bool, value: Any) -> None:
            try:
                frame = encode([kind, request_id, ok, wire.to_wire(value) if ok else _error(value)])
            except (TypeError, ValueError, OverflowError) as exc:
                log.warning("answer to %s %r cannot be sent: %s", kind, request_id, exc)
                frame = encode([kind, request_id, False, ["UnsendableAnswer", str(exc)]])
            self._loop.call_soon_threadsafe(_write_unless_closed, writer, frame)

        return send


def _error(error: Any) -> list[str]:
    return [type(error).__name__, str(error)]


def _write_unless_closed(writer: asyncio.StreamWriter, frame: bytes) -> None:
    if not writer.is_closing():
        writer.write(frame)


def _decode_value(ok: bool, body: Any) -> Any:
    if ok:
        return wire.from_wire(body)
    error_type, message = body if isinstance(body, list) and len(body) == 2 else ("Error", body)
    return RemoteError(str(error_type), str(message))


def _resolver(future: concurrent.futures.Future[Any]) -> Callable[[bool, Any], None]:
    def resolve(ok: bool, value: Any) -> None:
        if future.done():
            return
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value if isinstance(value, BaseException) else LinkError(value))

    return resolve


async def _read_frame(reader: asyncio.StreamReader, decoder: FrameDecoder) -> list[Any]:
    while True:
        data = await reader.read(4096)
        if not data:
            raise ConnectionResetError("connection closed during the handshake")
        frames = decoder.feed(data)
        if frames:
            if len(frames) > 1 or decoder.pending:
                raise handshake.HandshakeError("spoke out of turn during the handshake")
            return frames[0]


async def client_handshake(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    cookie: bytes,
    own_name: str,
    expected: str | None,
    purpose: str = "peer",
) -> str:
    """Prove the cookie to a server and check its proof; return the server's name."""
    decoder = FrameDecoder(HANDSHAKE_MAX_FRAME)
    nonce = handshake.new_nonce()
    writer.write(encode(["hello", handshake.PROTOCOL, own_name, purpose, nonce]))
    name, server_nonce, server_proof = handshake.parse_challenge(await _read_frame(reader, decoder))
    if expected is not None and name != expected:
        raise handshake.HandshakeError(f"expected node {expected}, reached {name}")
    handshake.check(
        handshake.proof(cookie, "server", server_nonce, nonce, name, own_name), server_proof
    )
    mine = handshake.proof(cookie, "client", nonce, server_nonce, own_name, name)
    writer.write(encode(["proof", mine]))
    if (await _read_frame(reader, decoder))[0] != "welcome":
        raise handshake.HandshakeError("no welcome after the proof")
    return name
