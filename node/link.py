"""The node link: authenticated msgpack frames over TCP between the nodes of a Gather cluster.

Every node listens on its port from cluster.yaml and dials every other node; it sends its own
tells, asks, broadcasts and heartbeats on the connection it dialled (node/dialler.py), and
answers asks and heartbeats on the connections it accepted (node/acceptor.py). All socket
work runs on one uvloop event loop (libuv: about half the cost per read and write of
asyncio's own loop) in the link's own thread; the public methods are thread-safe and cheap:
a tell appends bytes to the peer's outbox (node/outbound.py) and wakes the loop only when no
flush is already scheduled.

A peer is *up* while the connection this node dialled to it is authenticated and its
heartbeat answers arrive. A connection reset (a killed process) is noticed at once; a silent
peer (a frozen host) after ``down_after_s``; so a node learns that a peer is gone within
``down_after_s + heartbeat_s`` (3 s with the defaults). It then redials with backoff and
announces the peer up again as soon as it answers.

The peer set can change while the link runs (:meth:`NodeLink.set_peers`, for a reload of
cluster.yaml): a new peer is dialled, a removed one is disconnected and refused from then on,
and one whose address changed is redialled at the new one.

Frames after the handshake (see node/handshake.py; errors in answers: node/errors.py):

    ["tell", path, message]            ["ask", id, path, message, timeout_s]
    ["reply", id, ok, value]           ["ping", seq]   ["pong", seq]
    ["cmd", id, name, args]  (shell)   ["result", id, ok, value]
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any

import uvloop

from node import wire
from node.acceptor import Acceptor, Delivery
from node.dialler import Dialler
from node.errors import LinkError, PeerUnavailable, RemoteError
from node.frames import encode
from node.outbound import Outbound, resolver
from node.peers import Announcer, NodeEvent, PeerState
from node.settings import READ_SIZE, LinkSettings

SET_PEERS_TIMEOUT_S = 10.0
"""How long :meth:`NodeLink.set_peers` waits for the loop to apply a new peer set."""

__all__ = [
    "Delivery",
    "LinkError",
    "LinkSettings",
    "NodeEvent",
    "NodeLink",
    "PeerState",
    "PeerUnavailable",
    "RemoteError",
]

log = logging.getLogger("gather.link")


class NodeLink:
    """This node's end of the node link.

    ``_peers`` (name -> :class:`Outbound`, in cluster.yaml's order) is only ever replaced,
    on the loop, never changed in place: any thread may read or iterate the dict it got.
    """

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
        self._delivery = delivery
        self.settings = settings or LinkSettings()
        self._loop = uvloop.new_event_loop()
        self._peers = {
            peer: self._new_outbound(peer, address)
            for peer, address in peers.items()
            if peer != name
        }
        self._diallers: dict[str, asyncio.Task[None]] = {}
        self._ask_ids = itertools.count(1)
        self._announcer = Announcer()
        self._dialler = Dialler(name, cookie, self.settings, self._announcer.announce)
        self._acceptor = Acceptor(name, cookie, self._peers, delivery, self.settings, self._loop)
        self._thread = threading.Thread(target=self._run, name=f"link-{name}", daemon=True)
        self._server: asyncio.AbstractServer | None = None
        self._started = threading.Event()
        self._start_error: BaseException | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

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
                    self._acceptor.accept,
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
            self._dial(outbound)
        self._started.set()
        self._loop.run_forever()
        self._loop.close()

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        self._acceptor.close_all()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = self._loop.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _new_outbound(self, peer: str, address: tuple[str, int]) -> Outbound:
        return Outbound(PeerState(peer, *address), self._loop)

    def _dial(self, outbound: Outbound) -> None:
        """Keep ``outbound``'s peer connected from now on (loop thread)."""
        self._diallers[outbound.state.name] = self._spawn(self._dialler.keep_connected(outbound))

    # -- changing the peers -----------------------------------------------------------------

    def set_peers(self, peers: dict[str, tuple[str, int]]) -> None:
        """Make ``peers`` (name -> (host, port); this node's own entry is ignored) the peer
        set: dial the new ones, disconnect and refuse the removed ones, redial the ones whose
        address changed. Thread-safe, but not from the link's own thread (a node event
        subscriber): it returns once the loop has applied the change.

        Raises :class:`LinkError` when the link is not running.
        """
        wanted = {peer: address for peer, address in peers.items() if peer != self.name}
        if threading.current_thread() is self._thread:
            raise LinkError("set_peers waits for the link's loop: call it from another thread")
        if not self._thread.is_alive():
            raise LinkError("the node link is not running")
        try:
            applying = asyncio.run_coroutine_threadsafe(self._set_peers(wanted), self._loop)
        except RuntimeError:  # the loop closed since
            raise LinkError("the node link is not running") from None
        applying.result(SET_PEERS_TIMEOUT_S)

    async def _set_peers(self, wanted: dict[str, tuple[str, int]]) -> None:
        current = self._peers
        kept = {
            peer: outbound
            for peer, outbound in current.items()
            if wanted.get(peer) == (outbound.state.host, outbound.state.port)
        }
        dropped = [peer for peer in current if peer not in kept]
        peers = {
            peer: kept.get(peer) or self._new_outbound(peer, address)
            for peer, address in wanted.items()
        }
        self._peers = peers
        self._acceptor.set_peers(peers)
        stopping = [self._diallers.pop(peer) for peer in dropped if peer in self._diallers]
        for task in stopping:
            task.cancel()
        await asyncio.gather(*stopping, return_exceptions=True)
        for peer in dropped:
            if peer not in peers:
                log.info("node %s removed from the link", peer)
        for peer, outbound in peers.items():
            if peer not in kept:
                state = outbound.state
                how = "moved, redialling" if peer in current else "added, dialling"
                log.info("node %s %s it at %s:%d", peer, how, state.host, state.port)
                self._dial(outbound)

    # -- sending ----------------------------------------------------------------------------

    def tell(self, node: str, path: str, message: Any) -> None:
        """Deliver ``message`` to the actor at ``path`` on ``node``, without waiting."""
        if node == self.name:
            self._delivery.tell(path, message)
            return
        self._outbound(node).send(encode(["tell", path, wire.to_wire(message)]))

    def ask(self, node: str, path: str, message: Any, timeout: float = 5.0) -> Any:
        """Send ``message`` to ``path`` on ``node`` and wait for the answer.

        An error answer raises: a domain error as itself (with its fields), any other error
        of the remote actor as :class:`RemoteError`.
        """
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
            self._delivery.ask(path, message, timeout, resolver(future))
            return future
        outbound = self._outbound(node)
        ask_id = next(self._ask_ids)
        frame = encode(["ask", ask_id, path, wire.to_wire(message), timeout])
        outbound.send(frame, (ask_id, future))
        future.add_done_callback(lambda _: outbound.forget(ask_id))
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

    def _outbound(self, node: str) -> Outbound:
        try:
            return self._peers[node]
        except KeyError:
            raise PeerUnavailable(f"no node named {node!r} in cluster.yaml") from None

    # -- peers and events -------------------------------------------------------------------

    def peers(self) -> list[PeerState]:
        """The link state of every peer, in cluster.yaml's order."""
        return [outbound.state for outbound in self._peers.values()]

    def is_up(self, node: str) -> bool:
        """True for this node, and for a peer while its link is up."""
        return node == self.name or self._outbound(node).state.up

    def subscribe(self, callback: Callable[[NodeEvent], None]) -> Callable[[], None]:
        """Call ``callback`` (on the link's thread) for every node up/down event."""
        return self._announcer.subscribe(callback)
