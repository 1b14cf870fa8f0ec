"""What every SMS provider adapter offers: its webhook parsed and answered, and texts sent.

An adapter verifies the provider's signature on a webhook request before it reads anything
else (:meth:`Provider.parse`), answers it the provider's way (:meth:`Provider.answer`), and
sends a text through the provider's REST API (:meth:`Provider.send`), which never raises for
an HTTP or network error but says what became of the text (:class:`SendOutcome`, of
:mod:`notices.outcome`, which every channel shares; imported from here as well).

Nothing here logs, and no reason or detail it gives carries personal data (phone numbers,
texts): the provider's own error messages can quote the number, so :func:`scrub` blanks out
anything that looks like one.
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.simple_httpclient import HTTPTimeoutError

from notices.outcome import SendKind, SendOutcome

CONNECT_TIMEOUT_S = 5.0
"""Longest wait for a connection to a provider's API (DNS, TCP, TLS), within the whole send's
``timeout_s``: a text not sent by then may be sent again."""

_NUMBER = re.compile(r"\+?\d[\d ().-]{2,}\d")
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Inbound:
    """One inbound text as a provider delivered it."""

    provider_id: str
    """The provider's id of the message (Twilio's MessageSid, Telnyx's message id)."""
    sender: str
    """The number it came from, as the provider gave it (E.164 normally)."""
    to: str
    """The number it was sent to (ours)."""
    body: str
    """The text. Bytes that were not UTF-8 are kept as lone surrogates (``surrogateescape``),
    for storage to escape."""


class WebhookRefused(Exception):
    """A webhook request that is not taken: forged, unsigned or stale (403), or signed but not
    readable (400)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status} {reason}")
        self.status = status
        """The HTTP status to answer with."""
        self.reason = reason
        """Why, in a few words safe to log (no personal data)."""


@dataclass(frozen=True)
class Answer:
    """The HTTP answer to a webhook request."""

    status: int
    content_type: str
    """The value of the Content-Type header."""
    body: bytes


@dataclass(frozen=True)
class ApiRequest:
    """A POST to a provider's REST API."""

    url: str
    headers: dict[str, str]
    body: bytes


def header(headers: Mapping[str, str], name: str) -> str | None:
    """The value of the header ``name``, whatever the case of its name (None when absent)."""
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


def scrub(text: str, limit: int = 200) -> str:
    """``text`` from a provider, safe to log: anything like a phone number (a run of four
    digits or more, spaces and dashes allowed) replaced by ``<number>``, cut to ``limit``
    characters."""
    return _NUMBER.sub("<number>", text)[:limit]


def json_object(body: bytes) -> dict[str, Any]:
    """The JSON object an API answered with; empty when the answer is not one."""
    try:
        value = json.loads(body)
    except ValueError:  # not JSON, or not UTF-8
        return {}
    return value if isinstance(value, dict) else {}


def sendable(text: str) -> str:
    """``text`` with each lone surrogate (a byte that was not UTF-8, kept by
    ``surrogateescape``) replaced by U+FFFD, so that it can be encoded to send."""
    return _SURROGATE.sub("\N{REPLACEMENT CHARACTER}", text)


class Provider(ABC):
    """One SMS provider: its webhook and its API for sending texts."""

    name: ClassVar[str]
    """``"twilio"`` or ``"telnyx"``."""
    replies_inline: ClassVar[bool]
    """Whether the reply to an inbound text goes in the webhook's answer (Twilio's TwiML);
    otherwise it is sent with :meth:`send` (Telnyx)."""
    opt_out_code: ClassVar[str]
    """The provider's error code for a recipient who opted out."""
    from_number: str
    """The number our texts are sent from (E.164)."""

    @abstractmethod
    def parse(
        self, url: str, headers: Mapping[str, str], body: bytes, now: float
    ) -> Inbound | None:
        """The inbound text of a webhook request, None for a genuine webhook that is not one
        (such as a delivery report); raise :class:`WebhookRefused` otherwise.

        The signature is checked first. ``url`` is the public webhook URL as configured at
        the provider (never derived from the request, which a proxy may have rewritten);
        ``now`` is the current Unix time. Fields the adapter does not know are ignored.
        """

    @abstractmethod
    def answer(self, reply: str | None) -> Answer:
        """The answer to a webhook request, carrying ``reply`` if the provider replies inline
        (no reply for None or an empty text)."""

    @abstractmethod
    def _request(self, to: str, body: str) -> ApiRequest:
        """The API request that sends ``body`` (sendable) to ``to``."""

    @abstractmethod
    def _outcome(self, status: int, body: bytes) -> SendOutcome:
        """What the API's answer (``status`` from 200 to 599, and ``body``) says of the text."""

    async def send(self, to: str, body: str, timeout_s: float) -> SendOutcome:
        """Send the text ``body`` to the number ``to``, within ``timeout_s`` seconds.

        Never raises for HTTP or network errors: a connection that could not be made is
        :attr:`SendKind.RETRY`, no answer once connected :attr:`SendKind.UNCERTAIN`.
        """
        api = self._request(to, sendable(body))
        request = HTTPRequest(
            api.url,
            method="POST",
            headers=api.headers,
            body=api.body,
            connect_timeout=min(CONNECT_TIMEOUT_S, timeout_s),
            request_timeout=timeout_s,
            follow_redirects=False,
        )
        try:
            response = await AsyncHTTPClient().fetch(request, raise_error=False)
        except HTTPTimeoutError as exc:
            # Tornado (pinned) says which phase timed out: resolving, connecting, the TLS
            # handshake or the client's queue before the request left, "during request" after.
            if "during request" in str(exc):
                return SendOutcome(SendKind.UNCERTAIN, detail="no answer in time")
            return SendOutcome(SendKind.RETRY, detail="could not connect in time")
        except HTTPClientError:
            # The connection closed once the request was (being) written, with no answer.
            return SendOutcome(SendKind.UNCERTAIN, detail="connection closed before the answer")
        except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError):
            return SendOutcome(SendKind.UNCERTAIN, detail="connection lost before the answer")
        except OSError as exc:  # refused, unreachable, no such host, TLS failure
            return SendOutcome(SendKind.RETRY, detail=f"could not connect: {type(exc).__name__}")
        return self._outcome(response.code, response.body)

    def _refused(self, status: int, code: str | None, message: str) -> SendOutcome:
        """The outcome of an answer that is not a success: opted out for the provider's opt-out
        code (whatever the status), retry for 429 and 5xx, failed otherwise."""
        detail = f"{self.name} HTTP {status}" + (f", error {code}" if code else "")
        if message:
            detail += f": {scrub(message)}"
        if code == self.opt_out_code:
            kind = SendKind.OPTED_OUT
        elif status == 429 or status >= 500:
            kind = SendKind.RETRY
        else:
            kind = SendKind.FAILED
        return SendOutcome(kind, code=code, detail=detail)
