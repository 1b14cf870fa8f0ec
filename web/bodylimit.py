"""Refusing a request body the server will not read, with a message, before reading it.

Tornado's own limit (``max_body_size``) answers a bare ``400 Bad Request`` with no text, and
cannot know a chunked body's size until it has read it. This application wrapper looks at the
headers as soon as they arrive: a declared ``Content-Length`` over the limit is answered
``413``, a chunked body ``411 Length Required`` (browsers and API clients send a length for
forms, uploads and JSON), each with a short page (or, under ``/api/``, a JSON error like the
API's others); then it closes the connection without reading the body.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable

import tornado.web
from tornado import httputil

from web.base import MAX_REQUEST_BODY


class BodyLimitedApplication(tornado.web.Application):
    """A Tornado application that refuses oversized bodies readably (see the module doc)."""

    def start_request(
        self, server_conn: object, request_conn: httputil.HTTPConnection
    ) -> httputil.HTTPMessageDelegate:
        return _BodyLimit(super().start_request(server_conn, request_conn), request_conn)


class _BodyLimit(httputil.HTTPMessageDelegate):
    def __init__(
        self, inner: httputil.HTTPMessageDelegate, connection: httputil.HTTPConnection
    ) -> None:
        self._inner = inner
        self._connection = connection

    def headers_received(
        self,
        start_line: httputil.RequestStartLine | httputil.ResponseStartLine,
        headers: httputil.HTTPHeaders,
    ) -> Awaitable[None] | None:
        length = headers.get("Content-Length", "")
        if length.isdigit() and int(length) > MAX_REQUEST_BODY:
            limit = MAX_REQUEST_BODY // 2**20
            refusal = (
                413,
                "Payload Too Large",
                f"What was sent is too large (at most {limit} MiB).",
            )
        elif "chunked" in headers.get("Transfer-Encoding", "").lower():
            refusal = (411, "Length Required", "Send the body with its length (Content-Length).")
        else:
            return self._inner.headers_received(start_line, headers)
        path = start_line.path if isinstance(start_line, httputil.RequestStartLine) else ""
        self._refuse(*refusal, as_json=path.startswith("/api/"))
        return None

    def data_received(self, chunk: bytes) -> Awaitable[None] | None:
        return self._inner.data_received(chunk)

    def finish(self) -> None:
        self._inner.finish()

    def on_connection_close(self) -> None:
        self._inner.on_connection_close()

    def _refuse(self, status: int, reason: str, message: str, as_json: bool) -> None:
        if as_json:
            kind = "application/json"
            body = json.dumps({"error": {"status": status, "message": message}}).encode()
        else:
            kind = "text/html; charset=UTF-8"
            body = (
                f"<!doctype html><title>{reason}</title><h1>{reason}</h1><p>{message}</p>"
            ).encode()
        head = (
            f"HTTP/1.1 {status} {reason}\r\n"
            f"Content-Type: {kind}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        stream = self._connection.detach()  # type: ignore[attr-defined]
        stream.write(head.encode() + body).add_done_callback(lambda _: stream.close())
