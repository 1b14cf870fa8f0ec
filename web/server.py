"""A Tornado HTTP server on its own thread and IOLoop, started and stopped from another thread.

The web actor owns one; the handler tests and the bench use it the same way::

    server = WebServer(make_app(context), "127.0.0.1", 8080)
    server.start()  # returns once listening (port 0: server.port is the one chosen)
    ...
    server.stop()

Its limits are the ``web`` settings of the app's context (cluster.yaml): a connection idle
(or still sending its headers) for ``idle_timeout_s`` is closed, so is one whose body is not
in within ``body_timeout_s``, and one accepted over ``max_connections`` open ones is closed at
once (:class:`CappedHTTPServer`), so that slow or piled-up clients cannot hold the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import threading
from abc import ABC, abstractmethod
from typing import Any

import tornado.web
import uvloop
from tornado import httputil
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop
from tornado.iostream import IOStream
from tornado.netutil import bind_sockets

from actors.actor import GatherActor
from config.cluster import WebConfig
from web.base import MAX_REQUEST_BODY
from web.bodydeadline import BodyDeadlines

START_TIMEOUT_S = 10.0

log = logging.getLogger(__name__)


class CappedHTTPServer(HTTPServer):
    """An ``HTTPServer`` that serves at most ``max_connections`` connections at once: one
    accepted over the cap is closed straight away (Tornado itself has no such limit); and
    closes a connection whose request body is not in within ``body_timeout`` seconds
    (:mod:`web.bodydeadline`, cheaper than Tornado's own ``body_timeout``, left unset)."""

    def initialize(
        self,
        *args: Any,
        max_connections: int = sys.maxsize,
        body_timeout: float | None = None,
        **kwargs: Any,
    ) -> None:
        """``HTTPServer``'s arguments, the cap and the body timeout; on the server's IOLoop."""
        super().initialize(*args, **kwargs)
        self.max_connections = max_connections
        self.open_connections = 0
        self._full = False  # logged once, until the count is well under the cap again
        self._deadlines = None if body_timeout is None else BodyDeadlines(body_timeout)
        if self._deadlines is not None:
            self._deadlines.start()

    def start_request(
        self, server_conn: object, request_conn: httputil.HTTPConnection
    ) -> httputil.HTTPMessageDelegate:
        delegate = super().start_request(server_conn, request_conn)
        if self._deadlines is None:
            return delegate
        return self._deadlines.watch(delegate, request_conn)

    def stop(self) -> None:
        if self._deadlines is not None:
            self._deadlines.stop()
        super().stop()

    def handle_stream(self, stream: IOStream, address: tuple[Any, ...]) -> None:
        if self.open_connections >= self.max_connections:
            if not self._full:
                log.warning("%d connections open: closing new ones", self.open_connections)
                self._full = True
            stream.close()
            return
        self.open_connections += 1
        super().handle_stream(stream, address)

    def on_close(self, server_conn: object) -> None:
        self.open_connections -= 1
        self._full = self._full and self.open_connections >= self.max_connections * 9 // 10
        super().on_close(server_conn)


class WebServer:
    """Serves ``app`` on ``host:port`` from a thread of its own."""

    def __init__(
        self,
        app: tornado.web.Application,
        host: str,
        port: int,
        max_body_size: int = MAX_REQUEST_BODY,
    ) -> None:
        self.app = app
        self.max_body_size = max_body_size
        self.host = host
        self.port = port
        self._loop: IOLoop | None = None
        self._server: HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def start(self) -> None:
        """Listen and serve; raise what prevented it (such as the port being in use)."""
        name = f"http:{self.port}"
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_S):
            raise TimeoutError(f"the web server on {self.host}:{self.port} did not start")
        if self._error is not None:
            raise self._error

    def stop(self) -> None:
        """Close the listening socket and open connections, then end the thread."""
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None and thread.is_alive():
            loop.add_callback(self._shutdown)
            thread.join(START_TIMEOUT_S)
        executor = self.app.settings.get("executor")
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    def _run(self) -> None:
        asyncio.set_event_loop(uvloop.new_event_loop())
        self._loop = IOLoop.current()
        try:
            limits: WebConfig = self.app.settings["context"].config.web
            self._server = CappedHTTPServer(
                self.app,
                xheaders=False,
                max_body_size=self.max_body_size,
                idle_connection_timeout=limits.idle_timeout_s,
                body_timeout=limits.body_timeout_s,
                max_connections=limits.max_connections,
            )
            sockets = bind_sockets(self.port, self.host)
            self.port = sockets[0].getsockname()[1]
            self._server.add_sockets(sockets)
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            self._loop.close(all_fds=True)
            return
        self._ready.set()
        self._loop.start()
        self._loop.close(all_fds=True)

    async def _shutdown(self) -> None:
        assert self._server is not None and self._loop is not None
        self._server.stop()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._server.close_all_connections(), 2.0)
        self._loop.stop()


class ServerActor(GatherActor, ABC):
    """An actor that owns one :class:`WebServer` while it runs: :meth:`make_server` builds it
    at start; a stop or a crash closes it (the restarted actor listens again). Answers
    ``"address"`` with the server's base URL."""

    def __init__(self) -> None:
        super().__init__()
        self.server: WebServer | None = None

    @abstractmethod
    def make_server(self) -> WebServer:
        """The server to run (not started yet)."""

    def on_start(self) -> None:
        self.server = self.make_server()
        self.server.start()
        log.info("%s listening on http://%s:%d/", self.path, self.server.host, self.server.port)

    def on_receive(self, message: Any) -> Any:
        if message == "address" and self.server is not None:
            return f"http://{self.server.host}:{self.server.port}/"
        raise ValueError(f"unexpected message {message!r}")

    def on_stop(self) -> None:
        self._close()

    def on_failure(self, *_: Any) -> None:
        self._close()

    def _close(self) -> None:
        server, self.server = self.server, None
        if server is not None:
            server.stop()
