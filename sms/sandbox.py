"""A loopback stand-in for the SMS providers' REST APIs, and the providers' webhook requests.

Tests and ``make run`` cannot reach Twilio or Telnyx, so :class:`ProviderSandbox` serves both
send APIs on 127.0.0.1 (a Tornado server on a thread of its own, :class:`web.server.WebServer`)
as they are documented: the auth header checked (401), the required fields and an E.164 "to"
(400), opted-out recipients refused (Twilio 21610, Telnyx 40300), each error in the provider's
shape, and a text taken answered with the provider's body and recorded::

    with ProviderSandbox() as sandbox:
        provider = TwilioProvider(sandbox.twilio_account_sid, sandbox.twilio_auth_token,
                                  "+15550001111", api_url=sandbox.url)
        ...  # provider.send(...)
        [text] = sandbox.wait_for_texts(1, to="+15550002222")

Tests steer it: :meth:`~ProviderSandbox.opt_out` a number, :meth:`~ProviderSandbox.fail_next`
(5xx answers), :meth:`~ProviderSandbox.stall_next` (an answer held past the client's timeout,
the text taken all the same). :func:`twilio_webhook_request` and :func:`telnyx_webhook_request`
build what each provider posts to our webhook for an inbound text, signed.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import re
import secrets
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import formatdate
from http import HTTPStatus
from types import SimpleNamespace, TracebackType
from typing import Any, ClassVar
from urllib.parse import urlencode

import phonenumbers
import tornado.web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from tornado.ioloop import IOLoop
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from config.cluster import WebConfig
from sms import segments
from web.server import WebServer

LOOPBACK = "127.0.0.1"
"""The only address the sandbox listens on."""

_E164 = re.compile(r"\+[1-9]\d{6,14}")
_LIMITS = WebConfig(idle_timeout_s=60.0, body_timeout_s=20.0, max_connections=100)


@dataclass(frozen=True)
class SandboxText:
    """A text the sandbox took, as a provider would have sent it."""

    provider: str
    """``"twilio"`` or ``"telnyx"``."""
    to: str
    sender: str
    """The "from" number."""
    body: str
    provider_id: str
    """The id the sandbox answered with (Twilio's SM... sid, a Telnyx UUID)."""
    at: float
    """Unix time it was taken."""


class _Ledger:
    """The sandbox's state, shared by the test's thread and the server's: the texts taken,
    the opted-out numbers and the troubles planned for the next sends."""

    def __init__(self, on_text: Callable[[SandboxText], None] | None) -> None:
        self._on_text = on_text
        self._changed = threading.Condition()
        self._texts: list[SandboxText] = []
        self._opted_out: set[str] = set()
        self._failures: deque[int] = deque()
        self._stalls: deque[float] = deque()
        self._held: set[tuple[IOLoop, asyncio.Future[None]]] = set()

    def opt_out(self, number: str) -> None:
        with self._changed:
            self._opted_out.add(number)

    def is_opted_out(self, number: str) -> bool:
        with self._changed:
            return number in self._opted_out

    def plan(self, failures: list[int], stalls: list[float]) -> None:
        with self._changed:
            self._failures.extend(failures)
            self._stalls.extend(stalls)

    def take_failure(self) -> int | None:
        """The status the next send fails with, if one is planned."""
        with self._changed:
            return self._failures.popleft() if self._failures else None

    def take_stall(self) -> float:
        """How long the next send's answer is held (0: not at all)."""
        with self._changed:
            return self._stalls.popleft() if self._stalls else 0.0

    def record(self, text: SandboxText) -> None:
        with self._changed:
            self._texts.append(text)
            self._changed.notify_all()
        if self._on_text is not None:
            self._on_text(text)

    def texts(self, to: str | None) -> list[SandboxText]:
        with self._changed:
            return [text for text in self._texts if to is None or text.to == to]

    def wait_for_texts(self, count: int, to: str | None, timeout: float) -> list[SandboxText]:
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.texts(to)) >= count, timeout):
                raise TimeoutError(f"{len(self.texts(to))} of {count} texts in {timeout} s")
            return self.texts(to)

    async def hold(self, seconds: float) -> None:
        """Wait ``seconds`` on the server's loop, or until :meth:`release`."""
        waiter = asyncio.get_running_loop().create_future()
        held = (IOLoop.current(), waiter)
        with self._changed:
            self._held.add(held)
        try:
            await asyncio.wait({waiter}, timeout=seconds)
        finally:
            with self._changed:
                self._held.discard(held)

    def release(self) -> None:
        """End every hold now (the answers go out)."""
        with self._changed:
            held = list(self._held)
        for loop, waiter in held:
            loop.add_callback(_settle, waiter)

    def clear(self) -> None:
        with self._changed:
            self._texts.clear()
            self._opted_out.clear()
            self._failures.clear()
            self._stalls.clear()
        self.release()


def _settle(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class _MessagesHandler(tornado.web.RequestHandler, ABC):
    """A provider's "send a message" endpoint: the checks both make, in the order of a real
    service (an outage first, then auth, then the request), the answers in the provider's
    shape (:meth:`refuse`, :meth:`accepted`)."""

    provider: ClassVar[str]
    opt_out_status: ClassVar[int]

    def initialize(self, ledger: _Ledger, credentials: str) -> None:
        self.ledger = ledger
        self.credentials = credentials

    async def post(self, *path: str) -> None:
        failure = self.ledger.take_failure()
        if failure is not None:
            return self.refuse(failure, "unavailable")
        if not self.authorized(path):
            return self.refuse(401, "unauthorized")
        message = self.message()
        if message is None:
            return self.refuse(400, "unreadable")
        for name, value in message.items():
            if not value:
                return self.refuse(400, "missing", field=name)
        to, sender, body = message["to"], message["from"], message["text"]
        if not _E164.fullmatch(to):
            return self.refuse(400, "invalid_to", to=to)
        if self.ledger.is_opted_out(to):
            return self.refuse(self.opt_out_status, "opted_out", to=to, sender=sender)
        text = SandboxText(self.provider, to, sender, body, self.new_id(), time.time())
        self.ledger.record(text)
        stall = self.ledger.take_stall()
        if stall:
            await self.ledger.hold(stall)
        self.answer(*self.accepted(text))

    def answer(self, status: int, document: dict[str, Any]) -> None:
        """Finish with ``document`` as JSON."""
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(document))

    @abstractmethod
    def authorized(self, path: tuple[str, ...]) -> bool:
        """Whether the request carries the provider's credentials (``path``: the URL's
        groups)."""

    @abstractmethod
    def message(self) -> dict[str, str] | None:
        """The request's "to", "from" and "text" (empty when missing), None if unreadable."""

    @abstractmethod
    def new_id(self) -> str:
        """A fresh message id of the provider's form."""

    @abstractmethod
    def refuse(self, status: int, kind: str, **facts: str) -> None:
        """Finish with ``status`` and the provider's error for the ``kind`` of refusal:
        unavailable (a planned failure), unauthorized, unreadable, missing (``field``),
        invalid_to (``to``) or opted_out (``to``, ``sender``)."""

    @abstractmethod
    def accepted(self, text: SandboxText) -> tuple[int, dict[str, Any]]:
        """The provider's answer (status, JSON document) to a text taken."""


class _TwilioMessages(_MessagesHandler):
    """``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``, Basic auth."""

    provider = "twilio"
    opt_out_status = 400
    _MISSING: ClassVar[dict[str, tuple[int, str]]] = {
        "to": (21604, "A 'To' phone number is required."),
        "from": (21603, "A 'From' phone number is required."),
        "text": (21602, "Message body is required."),
    }

    def authorized(self, path: tuple[str, ...]) -> bool:
        account_sid = self.credentials.partition(":")[0]
        expected = "Basic " + base64.b64encode(self.credentials.encode()).decode("ascii")
        given = self.request.headers.get("Authorization", "")
        return path == (account_sid,) and hmac.compare_digest(given.encode(), expected.encode())

    def message(self) -> dict[str, str]:
        return {
            "to": self.get_body_argument("To", ""),
            "from": self.get_body_argument("From", ""),
            "text": self.get_body_argument("Body", ""),
        }

    def new_id(self) -> str:
        return "SM" + secrets.token_hex(16)

    def refuse(self, status: int, kind: str, **facts: str) -> None:
        match kind:
            case "unauthorized":
                code, message = 20003, "Authenticate"
            case "missing":
                code, message = self._MISSING[facts["field"]]
            case "invalid_to":
                code, message = 21211, f"The 'To' number {facts['to']} is not a valid phone number."
            case "opted_out":
                code, message = 21610, "Attempt to send to unsubscribed recipient"
            case _:  # unavailable: Twilio's 20xxx codes follow the status (20429, 20503)
                code, message = 20000 + status, HTTPStatus(status).phrase
        self.answer(
            status,
            {
                "code": code,
                "message": message,
                "more_info": f"https://www.twilio.com/docs/errors/{code}",
                "status": status,
            },
        )

    def accepted(self, text: SandboxText) -> tuple[int, dict[str, Any]]:
        account_sid = self.credentials.partition(":")[0]
        now = formatdate(text.at, usegmt=True)
        uri = f"/2010-04-01/Accounts/{account_sid}/Messages/{text.provider_id}"
        return 201, {
            "account_sid": account_sid,
            "api_version": "2010-04-01",
            "body": text.body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": text.sender,
            "messaging_service_sid": None,
            "num_media": "0",
            "num_segments": str(segments.segments(text.body)),
            "price": None,
            "price_unit": "USD",
            "sid": text.provider_id,
            "status": "queued",
            "subresource_uris": {"media": f"{uri}/Media.json"},
            "to": text.to,
            "uri": f"{uri}.json",
        }


class _TelnyxMessages(_MessagesHandler):
    """``POST /v2/messages``, Bearer API key, a JSON body."""

    provider = "telnyx"
    opt_out_status = 409  # Telnyx's documented status for 40300
    _ERRORS: ClassVar[dict[str, tuple[str, str, str]]] = {
        "unauthorized": (
            "10009",
            "Authentication failed",
            "The required authentication headers were either invalid or not included in the"
            " request.",
        ),
        "unreadable": (
            "10015",
            "Bad Request",
            "The request failed because it was not well-formed.",
        ),
        "missing": ("10004", "Missing required parameter", "A required parameter was missing."),
        "invalid_to": (
            "40310",
            "Invalid 'to' address",
            "The 'to' address should be a single valid number.",
        ),
        "opted_out": (
            "40300",
            "Blocked due to STOP message",
            "Messages cannot be sent from {sender} to {to} due to an existing block rule.",
        ),
        "busy": (
            "10011",
            "Too many requests",
            "You have exceeded the maximum number of allowed requests.",
        ),
        "unavailable": ("10007", "Unexpected error", "An unexpected error occured."),
    }

    def authorized(self, path: tuple[str, ...]) -> bool:
        given = self.request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {self.credentials}".encode())

    def message(self) -> dict[str, str] | None:
        try:
            document = json.loads(self.request.body)
        except ValueError:
            return None
        if not isinstance(document, dict):
            return None
        return {name: str(document.get(name) or "") for name in ("to", "from", "text")}

    def new_id(self) -> str:
        return str(uuid.uuid4())

    def refuse(self, status: int, kind: str, **facts: str) -> None:
        if kind == "unavailable" and status == 429:
            kind = "busy"
        code, title, detail = self._ERRORS[kind]
        error: dict[str, Any] = {"code": code, "title": title, "detail": detail.format(**facts)}
        if "field" in facts:
            error["source"] = {"pointer": f"/{facts['field']}"}
        self.answer(status, {"errors": [error]})

    def accepted(self, text: SandboxText) -> tuple[int, dict[str, Any]]:
        return 200, {
            "data": {
                "record_type": "message",
                "direction": "outbound",
                "id": text.provider_id,
                "type": "SMS",
                "from": {"phone_number": text.sender, "carrier": "Telnyx", "line_type": "VoIP"},
                "to": [
                    {"phone_number": text.to, "status": "queued", "carrier": "", "line_type": ""}
                ],
                "text": text.body,
                "encoding": segments.encoding(text.body),
                "parts": segments.segments(text.body),
                "media": [],
                "errors": [],
                "received_at": _iso(text.at),
                "sent_at": None,
                "completed_at": None,
            }
        }


class ProviderSandbox:
    """Both providers' send APIs on 127.0.0.1 (see the module doc); a context manager that
    starts and stops it. Credentials not given are made up (read them off the attributes)."""

    def __init__(
        self,
        host: str = LOOPBACK,
        port: int = 0,
        *,
        twilio_account_sid: str | None = None,
        twilio_auth_token: str | None = None,
        telnyx_api_key: str | None = None,
        on_text: Callable[[SandboxText], None] | None = None,
    ) -> None:
        """Raises ``ValueError`` for a ``host`` other than 127.0.0.1. ``on_text`` is called
        with each text taken (on the server's thread)."""
        if host != LOOPBACK:
            raise ValueError(f"the SMS sandbox listens on {LOOPBACK} only, not {host!r}")
        self.twilio_account_sid = twilio_account_sid or "AC" + secrets.token_hex(16)
        self.twilio_auth_token = twilio_auth_token or secrets.token_hex(16)
        self.telnyx_api_key = telnyx_api_key or "KEY" + secrets.token_hex(16)
        self._ledger = _Ledger(on_text)
        twilio = {
            "ledger": self._ledger,
            "credentials": f"{self.twilio_account_sid}:{self.twilio_auth_token}",
        }
        telnyx = {"ledger": self._ledger, "credentials": self.telnyx_api_key}
        app = tornado.web.Application(
            [
                (r"/2010-04-01/Accounts/([^/]+)/Messages\.json", _TwilioMessages, twilio),
                (r"/v2/messages", _TelnyxMessages, telnyx),
            ],
            # WebServer takes its limits from the app's context, as a node's web server does.
            context=SimpleNamespace(config=SimpleNamespace(web=_LIMITS)),
        )
        self._server = WebServer(app, host, port)
        self._started = False

    @property
    def url(self) -> str:
        """The base URL of both APIs (the providers' ``api_url``), once started."""
        if not self._started:
            raise RuntimeError("the SMS sandbox is not started")
        return f"http://{LOOPBACK}:{self._server.port}"

    def start(self) -> None:
        """Listen (port 0: one is chosen) and serve, from a thread of its own."""
        self._server.start()
        self._started = True

    def stop(self) -> None:
        """Answer every held request, then stop serving."""
        self._ledger.release()
        self._server.stop()
        self._started = False

    def __enter__(self) -> ProviderSandbox:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def opt_out(self, number: str) -> None:
        """Refuse every later send to ``number`` with the provider's opt-out error."""
        self._ledger.opt_out(number)

    def fail_next(self, n: int, status: int = 503) -> None:
        """Answer the next ``n`` sends (either provider) with ``status`` (429 or a 5xx, in
        the provider's error shape) and take nothing."""
        if not 400 <= HTTPStatus(status) <= 599:  # HTTPStatus: ValueError for an unknown one
            raise ValueError(f"not an error status: {status}")
        self._ledger.plan([status] * n, [])

    def stall_next(self, n: int, seconds: float) -> None:
        """Take the next ``n`` texts but hold each answer ``seconds`` (longer than the
        client's timeout, the send is uncertain)."""
        self._ledger.plan([], [seconds] * n)

    def texts(self, to: str | None = None) -> list[SandboxText]:
        """The texts taken so far (to ``to`` only, if given), in order."""
        return self._ledger.texts(to)

    def wait_for_texts(
        self, count: int, to: str | None = None, timeout: float = 10.0
    ) -> list[SandboxText]:
        """The texts taken (to ``to``), once there are at least ``count``; raises
        ``TimeoutError`` if there are not within ``timeout`` seconds."""
        return self._ledger.wait_for_texts(count, to, timeout)

    def clear(self) -> None:
        """Forget the texts, opt-outs and planned troubles; answer held requests now."""
        self._ledger.clear()


def _iso(at: float) -> str:
    """``at`` (Unix time) as Telnyx writes times: ISO 8601 UTC, milliseconds."""
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds")


def _country(number: str) -> str:
    """The ISO region of ``number``, as Twilio gives it (empty when unknown)."""
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(number)) or ""
    except phonenumbers.NumberParseException:
        return ""


def twilio_webhook_request(
    url: str,
    auth_token: str,
    sender: str,
    to: str,
    body: str,
    message_sid: str | None = None,
    *,
    account_sid: str | None = None,
) -> tuple[bytes, dict[str, str]]:
    """What Twilio posts to the webhook at ``url`` for a text ``body`` from ``sender`` to
    ``to``: the form-encoded body (Twilio's fields for an inbound SMS) and the headers,
    signed with ``auth_token``."""
    message_sid = message_sid or "SM" + secrets.token_hex(16)
    fields = {
        "ToCountry": _country(to),
        "ToState": "",
        "SmsMessageSid": message_sid,
        "NumMedia": "0",
        "ToCity": "",
        "FromZip": "",
        "SmsSid": message_sid,
        "FromState": "",
        "SmsStatus": "received",
        "FromCity": "",
        "Body": body,
        "FromCountry": _country(sender),
        "To": to,
        "ToZip": "",
        "NumSegments": str(segments.segments(body)),
        "MessageSid": message_sid,
        "AccountSid": account_sid or "AC" + secrets.token_hex(16),
        "From": sender,
        "ApiVersion": "2010-04-01",
    }
    signature = RequestValidator(auth_token).compute_signature(url, fields)
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": signature,
    }
    return urlencode(fields).encode("ascii"), headers


def telnyx_webhook_request(
    url: str,
    private_key: Ed25519PrivateKey,
    sender: str,
    to: str,
    text: str,
    message_id: str | None = None,
    timestamp: int | None = None,
    *,
    event_type: str = "message.received",
) -> tuple[bytes, dict[str, str]]:
    """What Telnyx posts to the webhook at ``url`` for a text from ``sender`` to ``to``: the
    JSON event (``message.received`` unless ``event_type`` says otherwise) and the headers,
    signed with ``private_key`` at ``timestamp`` (Unix seconds, now by default).

    Lone surrogates in ``text`` (``surrogateescape``) go as their raw bytes: invalid UTF-8.
    """
    timestamp = int(time.time()) if timestamp is None else timestamp
    event = {
        "data": {
            "event_type": event_type,
            "id": str(uuid.uuid4()),
            "occurred_at": _iso(timestamp),
            "payload": {
                "cc": [],
                "completed_at": None,
                "direction": "inbound",
                "encoding": segments.encoding(text),
                "errors": [],
                "from": {"carrier": "", "line_type": "Wireless", "phone_number": sender},
                "id": message_id or str(uuid.uuid4()),
                "media": [],
                "parts": segments.segments(text),
                "received_at": _iso(timestamp),
                "record_type": "message",
                "sent_at": None,
                "tags": [],
                "text": text,
                "to": [
                    {
                        "carrier": "Telnyx",
                        "line_type": "VoIP",
                        "phone_number": to,
                        "status": "webhook_delivered",
                    }
                ],
                "type": "SMS",
                "valid_until": None,
                "webhook_failover_url": None,
                "webhook_url": url,
            },
            "record_type": "event",
        },
        "meta": {"attempt": 1, "delivered_to": url},
    }
    body = json.dumps(event, ensure_ascii=False).encode("utf-8", errors="surrogateescape")
    signature = private_key.sign(f"{timestamp}|".encode() + body)
    headers = {
        "Content-Type": "application/json",
        "telnyx-signature-ed25519": base64.b64encode(signature).decode("ascii"),
        "telnyx-timestamp": str(timestamp),
    }
    return body, headers
