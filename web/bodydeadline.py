"""Closing connections whose request body is not in within the body timeout, cheaply.

Tornado's own ``body_timeout`` wraps every request's body read in ``gen.with_timeout``: a
timer and two futures per request, a measurable share of a sign-up's CPU on the hot path
(bench/web.py). :class:`BodyDeadlines` does the same job with one dict entry per request: a
request whose headers are in and whose body is not is entered with its deadline, and left
out again once its body is in (or its connection closed); a sweep on the server's IOLoop
every ``timeout / 10`` (at most 1 s) closes the connections of entries past their deadline,
without an answer, as Tornado's timeout does. Every request waits the same timeout, so the
dict, ordered by insertion, is ordered by deadline too: a sweep stops at the first entry not
yet due.

Not thread-safe: every method runs on the server's IOLoop.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable

from tornado import httputil
from tornado.ioloop import PeriodicCallback

from web.delegate import Forwarding, StartLine

log = logging.getLogger(__name__)

MAX_SWEEP_INTERVAL_S = 1.0


class BodyDeadlines:
    """The requests whose body is still coming in, and when each must be in by."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._due: dict[httputil.HTTPConnection, float] = {}
        interval_s = min(MAX_SWEEP_INTERVAL_S, timeout_s / 10)
        self._sweeper = PeriodicCallback(self.sweep, interval_s * 1000)

    def start(self) -> None:
        """Start sweeping (on the IOLoop of the calling thread)."""
        self._sweeper.start()

    def stop(self) -> None:
        """Stop sweeping."""
        self._sweeper.stop()

    def watch(
        self, delegate: httputil.HTTPMessageDelegate, connection: httputil.HTTPConnection
    ) -> httputil.HTTPMessageDelegate:
        """``delegate``, its request's body given :attr:`timeout_s` to arrive."""
        return _Watched(self, delegate, connection)

    def sweep(self) -> None:
        """Close the connections whose body is overdue."""
        now = time.monotonic()
        while self._due:
            connection, deadline = next(iter(self._due.items()))
            if deadline > now:
                return
            del self._due[connection]
            stream = getattr(connection, "stream", None)  # None: detached (refused unread)
            if stream is not None:
                log.info("request body not in within %g s: connection closed", self.timeout_s)
                stream.close()

    def expect(self, connection: httputil.HTTPConnection) -> None:
        """The headers of a request on ``connection`` are in: its body is due."""
        self._due[connection] = time.monotonic() + self.timeout_s

    def arrived(self, connection: httputil.HTTPConnection) -> None:
        """The body is in, or the connection closed: nothing is due."""
        self._due.pop(connection, None)


class _Watched(Forwarding):
    def __init__(
        self,
        deadlines: BodyDeadlines,
        inner: httputil.HTTPMessageDelegate,
        connection: httputil.HTTPConnection,
    ) -> None:
        super().__init__(inner, connection)
        self._deadlines = deadlines

    def headers_received(
        self, start_line: StartLine, headers: httputil.HTTPHeaders
    ) -> Awaitable[None] | None:
        self._deadlines.expect(self.connection)
        return super().headers_received(start_line, headers)

    def finish(self) -> None:
        self._deadlines.arrived(self.connection)
        super().finish()

    def on_connection_close(self) -> None:
        self._deadlines.arrived(self.connection)
        super().on_connection_close()
