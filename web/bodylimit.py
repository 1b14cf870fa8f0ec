"""Refusing a request body the server will not read, with a message, before reading it.

Tornado's own limit (``max_body_size``) answers a bare ``400 Bad Request`` with no text, and
cannot know a chunked body's size until it has read it. This application wrapper looks at the
headers as soon as they arrive: a declared ``Content-Length`` over the limit of the handler the
path leads to (its ``max_body``: a form's 64 KiB unless it takes uploads) is answered ``413``,
a chunked body ``411 Length Required`` (browsers and API clients send a length for forms,
uploads and JSON), each with a short page (or, under ``/api/``, a JSON error like the API's
others); then it closes the connection without reading the body.

``Content-Length`` is read as RFC 9110 section 8.6 says: a list of equal values (duplicated
headers, or one header ``8000000, 8000000``) is that value, and is what Tornado is then given;
any other value is refused ``400`` the same way, since the body's end cannot be known.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable

import tornado.web
from tornado import httputil
from tornado.routing import PathMatches

from web.base import MAX_FORM, MAX_REQUEST_BODY, SECURITY_HEADERS, size_text
from web.delegate import Forwarding, StartLine

_DIGITS = re.compile(r"[0-9]+")


class BodyLimitedApplication(tornado.web.Application):
    """A Tornado application that refuses oversized bodies readably (see the module doc)."""

    def start_request(
        self, server_conn: object, request_conn: httputil.HTTPConnection
    ) -> httputil.HTTPMessageDelegate:
        return _BodyLimit(self, super().start_request(server_conn, request_conn), request_conn)

    def body_limit(self, path: str) -> int:
        """The largest body the handler of ``path`` takes (its ``max_body``)."""
        for rule in self.wildcard_router.rules:
            matcher = rule.matcher
            if isinstance(matcher, PathMatches) and matcher.regex.match(path):
                return min(getattr(rule.target, "max_body", MAX_FORM), MAX_REQUEST_BODY)
        return MAX_FORM


def declared_length(headers: httputil.HTTPHeaders) -> int:
    """The body length the headers declare (0 when they declare none), left in them as one
    value; ValueError when ``Content-Length`` is not one length (RFC 9110 section 8.6)."""
    fields = headers.get_list("Content-Length")
    if not fields:
        return 0
    values = {value.strip(" \t") for field in fields for value in field.split(",")}
    length = values.pop()
    if values or not _DIGITS.fullmatch(length):  # ASCII digits only: isdigit takes "²"
        raise ValueError("The Content-Length header must be one number of bytes.")
    headers["Content-Length"] = length  # the one value, as Tornado reads it
    return int(length) if len(length) <= 18 else MAX_REQUEST_BODY + 1  # int() of 5,000 digits


class _BodyLimit(Forwarding):
    def __init__(
        self,
        application: BodyLimitedApplication,
        inner: httputil.HTTPMessageDelegate,
        connection: httputil.HTTPConnection,
    ) -> None:
        super().__init__(inner, connection)
        self._application = application

    def headers_received(
        self, start_line: StartLine, headers: httputil.HTTPHeaders
    ) -> Awaitable[None] | None:
        path = start_line.path if isinstance(start_line, httputil.RequestStartLine) else ""
        path = path.partition("?")[0]
        refusal = self._refusal(path, headers)
        if refusal is None:
            return super().headers_received(start_line, headers)
        self._refuse(*refusal, as_json=path.startswith("/api/"))
        return None

    def _refusal(self, path: str, headers: httputil.HTTPHeaders) -> tuple[int, str, str] | None:
        """(status, reason, message) of the answer to a request refused unread, or None."""
        try:
            declared = declared_length(headers)
        except ValueError as exc:
            return 400, "Bad Request", str(exc)
        # the routes are only searched for a large body: the hot path stays cheap
        limit = self._application.body_limit(path) if declared > MAX_FORM else MAX_FORM
        if declared > limit:
            return (
                413,
                "Payload Too Large",
                f"What was sent is too large (at most {size_text(limit)}).",
            )
        if "chunked" in headers.get("Transfer-Encoding", "").lower():
            return 411, "Length Required", "Send the body with its length (Content-Length)."
        return None

    def _refuse(self, status: int, reason: str, message: str, as_json: bool) -> None:
        if as_json:
            kind = "application/json"
            body = json.dumps({"error": {"status": status, "message": message}}).encode()
        else:
            kind = "text/html; charset=UTF-8"
            body = (
                f"<!doctype html><title>{reason}</title><h1>{reason}</h1><p>{message}</p>"
            ).encode()
        fields = {
            **SECURITY_HEADERS,
            "Content-Type": kind,
            "Content-Length": str(len(body)),
            "Connection": "close",
        }
        head = f"HTTP/1.1 {status} {reason}\r\n" + "".join(
            f"{name}: {value}\r\n" for name, value in fields.items()
        )
        head += "\r\n"
        stream = self.connection.detach()  # type: ignore[attr-defined]
        stream.write(head.encode() + body).add_done_callback(lambda _: stream.close())
