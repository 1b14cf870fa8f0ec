"""Hardening of the website, over real sockets against a real server on the test keyspace.

Slow bodies time out and connections are capped (``web`` in cluster.yaml); Content-Length is
read as RFC 9110 says; every answer carries the security headers and personal data is never
stored by caches; the API takes any spelling of its media type and answers JSON everywhere;
the admin's events list puts upcoming events first and offers the IANA time zones.
"""

from __future__ import annotations

import dataclasses
import http.client
import io
import json
import re
import secrets
import socket
import time
import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from storage.store import Store
from tests.helpers import PNG, WAIT, make_event, wait_until
from web.app import make_app
from web.server import WebServer

STRICT_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
BODY_TIMEOUT_S = 1.0
ANSWER_WAIT_S = 10.0
"""How long a raw socket waits for the server; far over BODY_TIMEOUT_S, far under the idle
timeout, so a connection left open fails the test instead of hanging it."""
GET_CANCEL = b"GET /cancel HTTP/1.1\r\nHost: gather\r\n"


@contextmanager
def serving(context: Any, **limits: Any) -> Iterator[WebServer]:
    """A web server on the test keyspace whose ``web`` settings are changed by ``limits``."""
    config = dataclasses.replace(
        context.config, web=dataclasses.replace(context.config.web, **limits)
    )
    server = WebServer(
        make_app(dataclasses.replace(context, config=config), storage_threads=4), "127.0.0.1", 0
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def server(web_context: Any) -> Iterator[WebServer]:
    with serving(web_context, body_timeout_s=BODY_TIMEOUT_S, idle_timeout_s=60.0) as running:
        yield running


def raw(port: int, request: bytes) -> bytes:
    """Everything the server sends back on a new connection to ``request``, until it closes
    the connection (an AssertionError if it keeps it open for ANSWER_WAIT_S)."""
    answer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=ANSWER_WAIT_S) as sock:
        try:
            sock.sendall(request)
            while chunk := sock.recv(65536):
                answer += chunk
        except (ConnectionResetError, BrokenPipeError):  # closed before reading it all
            pass
        except TimeoutError:
            raise AssertionError(f"the connection is still open; got {answer!r}") from None
    return answer


def post_head(path: str, *headers: str) -> bytes:
    """A POST's request line and headers, with no body after them."""
    lines = [f"POST {path} HTTP/1.1", "Host: gather", "Content-Type: application/json", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@dataclasses.dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes


class Client:
    """HTTP/1.1 to the server with a cookie jar, from an address of its own (forwarded as by
    the reverse proxy the test node trusts on loopback)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.address = "2001:db8:" + ":".join(secrets.token_hex(2) for _ in range(2)) + "::1"

    def request(
        self, path: str, method: str = "GET", body: bytes | None = None, **headers: str
    ) -> Answer:
        sent = {"X-Forwarded-For": self.address, **headers}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=ANSWER_WAIT_S)
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            answer = Answer(response.status, response.headers, response.read())
        finally:
            connection.close()
        for cookie in answer.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            self.cookies[name] = rest.split(";")[0]
        return answer

    def post(self, path: str, fields: dict[str, str]) -> Answer:
        if "_xsrf" not in self.cookies:
            self.request("/cancel")
        body = urlencode({**fields, "_xsrf": self.cookies["_xsrf"]}).encode()
        return self.request(
            path, "POST", body, **{"Content-Type": "application/x-www-form-urlencoded"}
        )

    def json(self, path: str, data: dict[str, Any], media_type: str) -> Answer:
        return self.request(path, "POST", json.dumps(data).encode(), **{"Content-Type": media_type})

    def login(self, admin: tuple[str, str]) -> None:
        answer = self.post("/admin/login", {"username": admin[0], "password": admin[1]})
        assert answer.status == 303, answer.body


# Slow bodies and the connection cap (finding 3).


def test_a_body_sent_too_slowly_has_its_connection_closed(server: WebServer) -> None:
    request = post_head("/cancel", "Content-Length: 60000") + b"r"
    assert raw(server.port, request) == b""  # closed after BODY_TIMEOUT_S, not held open


def test_a_kept_alive_connection_whose_bodies_came_in_time_stays_open(server: WebServer) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=ANSWER_WAIT_S)
    body, headers = b"[]", {"Content-Type": "application/json"}
    for _ in range(2):  # the second after the first body's deadline: its entry is gone
        connection.request("POST", "/api/v1/signups", body, headers)
        assert connection.getresponse().read() and connection.sock is not None
        time.sleep(BODY_TIMEOUT_S * 1.5)
    connection.close()


def test_a_connection_over_the_cap_is_closed_while_the_earlier_ones_still_work(
    web_context: Any,
) -> None:
    with serving(web_context, max_connections=3) as capped:
        earlier = [http.client.HTTPConnection("127.0.0.1", capped.port) for _ in range(3)]
        for connection in earlier:  # answered: the server has counted each one
            connection.request("GET", "/cancel")
            assert connection.getresponse().read() and connection.sock is not None
        assert raw(capped.port, GET_CANCEL + b"\r\n") == b""
        for connection in earlier:  # the same connections, kept alive, are served again
            connection.request("GET", "/cancel")
            assert connection.getresponse().status == 200
        earlier.pop().close()

        def served() -> bool:
            return (
                raw(
                    capped.port,
                    b"GET /cancel HTTP/1.1\r\nHost: gather\r\nConnection: close\r\n\r\n",
                )
                != b""
            )

        wait_until(served, WAIT, "a closed connection to make room for a new one")
        for connection in earlier:
            connection.close()


# Content-Length (finding 4).


def test_a_list_of_equal_content_lengths_is_that_length_and_refused_early(
    server: WebServer,
) -> None:
    for declared in (
        ["Content-Length: 8000000, 8000000"],
        ["Content-Length: 8000000", "Content-Length: 8000000"],
        ["Content-Length: 8000000 ,8000000,8000000"],
    ):
        page = raw(server.port, post_head("/cancel", *declared))
        assert page.startswith(b"HTTP/1.1 413") and b"too large (at most 64 KiB)" in page, declared
    api = raw(server.port, post_head("/api/v1/signups", "Content-Length: 8000000, 8000000"))
    assert json.loads(api.partition(b"\r\n\r\n")[2])["error"]["status"] == 413


def test_a_content_length_that_is_not_one_number_is_a_readable_400(server: WebServer) -> None:
    for declared in ("5, 6", "5,", "+5", "0x10", "1e3", "", "5 5", "\u00b2"):
        page = raw(server.port, post_head("/cancel", f"Content-Length: {declared}"))
        assert page.startswith(b"HTTP/1.1 400"), (declared, page)
        assert b"Content-Length" in page.partition(b"\r\n\r\n")[2], (declared, page)
    unequal = ["Content-Length: 5", "Content-Length: 6"]
    api = raw(server.port, post_head("/api/v1/signups", *unequal))
    error = json.loads(api.partition(b"\r\n\r\n")[2])["error"]
    assert error["status"] == 400 and "Content-Length" in error["message"]


def test_an_equal_list_within_the_limit_is_read_as_that_length(server: WebServer) -> None:
    body = b"[]"
    declared = f"Content-Length: {len(body)}, {len(body)}"
    answer = raw(server.port, post_head("/api/v1/signups", declared, "Connection: close") + body)
    assert answer.startswith(b"HTTP/1.1 400")
    assert json.loads(answer.partition(b"\r\n\r\n")[2]) == {
        "error": {"status": 400, "message": "The body must be a JSON object."}
    }


# Static files (finding 8) and headers (finding 9).


def test_a_nul_in_a_static_path_is_not_found_with_the_security_headers(server: WebServer) -> None:
    answer = Client(server.port).request("/static/style.css%00.png")
    assert answer.status == 404 and b"There is no such file" in answer.body
    assert answer.headers["Content-Security-Policy"] == STRICT_CSP
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert "Server" not in answer.headers
    assert Client(server.port).request("/static/style.css").status == 200


def test_every_answer_has_the_security_headers_and_personal_data_is_never_stored(
    server: WebServer, store: Store, admin_login: tuple[str, str]
) -> None:
    event, option = make_event(store, "H" + secrets.token_hex(4).upper())
    image = store.assets.put(io.BytesIO(PNG), "image/png", "h.png")
    member = Client(server.port)
    signed_up = member.json(
        "/api/v1/signups",
        {"option_id": str(option.option_id), "name": "Hu", "contact": "hu@example.org"},
        "application/json",
    )
    assert signed_up.status == 201, signed_up.body
    ref = json.loads(signed_up.body)["ref"]
    admin = Client(server.port)
    admin.login(admin_login)
    admin_event = f"/admin/events/{event.event_id}"
    private = {
        "/admin/events": "html",
        admin_event: "html",
        f"{admin_event}/registrations": "html",
        f"{admin_event}/registrations.csv": "csv",
        "/admin/assets": "html",
        "/admin/kiosks": "html",
        "/admin/cluster": "html",
        f"/api/v1/events/{event.event_id}/registrations": "json",
    }
    public = {
        "/": "html",
        f"/events/{event.event_id}": "html",
        f"/registrations/{ref}": "html",
        "/cancel": "html",
        "/admin/login": "html",
        "/no/such/page": "html",
        "/api/v1/events": "json",
        "/api/v1/openapi.json": "json",
        "/static/style.css": "css",
        f"/assets/{image.asset_id}": "image",
        "/admin": "redirect",
    }
    for path, kind in (private | public).items():
        answer = (admin if path in private else member).request(path)
        where = f"{path}: {dict(answer.headers)}"
        assert answer.status in (200, 301, 404), where
        assert "Server" not in answer.headers, where
        assert answer.headers["X-Frame-Options"] == "DENY", where
        assert answer.headers["X-Content-Type-Options"] == "nosniff", where
        policy = answer.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in policy or "sandbox" in policy, where
        assert "unsafe-inline" not in policy, where
        if kind == "html":  # with the hash of the page's own <style>, if it has one
            assert re.sub(r" 'sha256-[A-Za-z0-9+/]+=*'", "", policy) == STRICT_CSP, where
        if path in private or path.startswith("/registrations/"):
            assert answer.headers["Cache-Control"] == "no-store", where
    assert "Server" not in raw(server.port, post_head("/cancel", "Content-Length: 5, 6")).decode()


# The API (finding 11).


def test_the_api_takes_its_media_type_in_any_case(server: WebServer, store: Store) -> None:
    _event, option = make_event(store, "J" + secrets.token_hex(4).upper())
    data = {"option_id": str(option.option_id), "name": "Jo", "contact": "jo@example.org"}
    answer = Client(server.port).json("/api/v1/signups", data, "Application/JSON; charset=UTF-8")
    assert answer.status == 201, answer.body
    refused = Client(server.port).json("/api/v1/signups", data, "text/plain")
    assert refused.status == 415


def test_an_unknown_api_path_is_a_json_404(server: WebServer) -> None:
    for path in ("/api/v1/nothing", "/api/v1/events/x/y", "/api/v2/events"):
        answer = Client(server.port).request(path)
        assert answer.status == 404, path
        assert answer.headers["Content-Type"].startswith("application/json"), path
        assert json.loads(answer.body)["error"]["status"] == 404, path
    assert (
        Client(server.port).request("/no/such/page").headers["Content-Type"].startswith("text/html")
    )


# The admin's events list and the event form's time zones.


def titled(store: Store, title: str, starts_in: timedelta) -> None:
    start = datetime.now(UTC) + starts_in
    event = store.events.create(
        title=title,
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        time_zone="UTC",
        short_code="L" + secrets.token_hex(4).upper(),
    )
    assert event.title == title


def section(page: str, table_id: str) -> str:
    found = re.search(rf'<table id="{table_id}".*?</table>', page, re.S)
    assert found is not None, f"no table {table_id}"
    return found.group(0)


def test_the_events_list_shows_upcoming_events_first_and_the_past_apart(
    server: WebServer, store: Store, admin_login: tuple[str, str]
) -> None:
    tag = secrets.token_hex(3)
    names = {
        "soon": timedelta(days=1),
        "later": timedelta(days=9),
        "ended": -timedelta(days=2),
        "long-ago": -timedelta(days=30),
    }
    for name, starts_in in names.items():
        titled(store, f"{name} {tag}", starts_in)
    admin = Client(server.port)
    admin.login(admin_login)
    page = admin.request("/admin/events").body.decode()
    upcoming, past = section(page, "upcoming-events"), section(page, "past-events")
    assert upcoming.index(f"soon {tag}") < upcoming.index(f"later {tag}")
    assert past.index(f"ended {tag}") < past.index(f"long-ago {tag}")  # newest first
    assert f"ended {tag}" not in upcoming and f"soon {tag}" not in past
    assert page.index('id="upcoming-events"') < page.index('id="past-events"')


def test_the_event_form_offers_the_iana_zones_and_starts_at_the_site_zone(
    server: WebServer, store: Store, admin_login: tuple[str, str], web_context: Any
) -> None:
    admin = Client(server.port)
    admin.login(admin_login)
    page = admin.request("/admin/events").body.decode()
    zones = re.search(r'<datalist id="time-zones">(.*?)</datalist>', page, re.S)
    assert zones is not None
    offered = re.findall(r'<option value="([^"]+)">', zones.group(1))
    assert offered == sorted(zoneinfo.available_timezones())
    field = re.search(r'<input id="time_zone"[^>]*>', page)
    assert field is not None and 'list="time-zones"' in field.group(0)
    assert f'value="{web_context.config.site.time_zone}"' in field.group(0)
    event, _option = make_event(store, "Z" + secrets.token_hex(4).upper())
    edited = admin.request(f"/admin/events/{event.event_id}").body.decode()
    field = re.search(r'<input id="time_zone"[^>]*>', edited)
    assert field is not None and 'value="UTC"' in field.group(0)
