"""A Tornado message delegate that hands a request on to another, for wrappers to extend."""

from __future__ import annotations

from collections.abc import Awaitable

from tornado import httputil

StartLine = httputil.RequestStartLine | httputil.ResponseStartLine


class Forwarding(httputil.HTTPMessageDelegate):
    """Passes every event of a request on ``connection`` to ``inner``; a subclass overrides
    the events it acts on and calls these to pass them on."""

    def __init__(
        self, inner: httputil.HTTPMessageDelegate, connection: httputil.HTTPConnection
    ) -> None:
        self.inner = inner
        self.connection = connection

    def headers_received(
        self, start_line: StartLine, headers: httputil.HTTPHeaders
    ) -> Awaitable[None] | None:
        return self.inner.headers_received(start_line, headers)

    def data_received(self, chunk: bytes) -> Awaitable[None] | None:
        return self.inner.data_received(chunk)

    def finish(self) -> None:
        self.inner.finish()

    def on_connection_close(self) -> None:
        self.inner.on_connection_close()
