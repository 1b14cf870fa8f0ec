"""Twilio: its signed form-encoded webhook, TwiML answers and the Messages API.

Twilio posts an inbound text to the webhook as an ``application/x-www-form-urlencoded`` body
(MessageSid, From, To, Body and many more fields), signed in ``X-Twilio-Signature`` with the
account's Auth Token over the public URL and the sorted fields (``RequestValidator``). The
reply goes back inline, as TwiML in the webhook's answer. A text of our own is a POST to
``/2010-04-01/Accounts/{AccountSid}/Messages.json`` (Basic auth AccountSid:AuthToken), answered
201 with the message's ``sid``, or with ``{"code", "message", "more_info", "status"}``.
"""

from __future__ import annotations

import base64
import functools
import re
from collections.abc import Iterable, Iterator, Mapping
from urllib.parse import parse_qsl, quote, urlencode, urlparse
from xml.sax.saxutils import escape

from twilio.request_validator import (  # type: ignore[import-untyped]
    RequestValidator,
    add_port,
    compare,
    remove_port,
)

from sms.providers.base import (
    Answer,
    ApiRequest,
    Inbound,
    Provider,
    SendKind,
    SendOutcome,
    WebhookRefused,
    header,
    json_object,
    sendable,
)

SIGNATURE_HEADER = "X-Twilio-Signature"
REQUIRED_FIELDS = ("MessageSid", "From", "To", "Body")
"""The webhook fields an inbound text must have (Body may be empty)."""

_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response>{}</Response>'
_TWIML_EMPTY = b'<?xml version="1.0" encoding="UTF-8"?><Response />'
"""TwiML as twilio's ``MessagingResponse`` writes it (ElementTree), with and without a
message."""


class FormFields(Mapping[str, str]):
    """The fields of a form-encoded body. A name maps to its first value; :meth:`getall` gives
    every value of a repeated name, as ``RequestValidator`` asks of a multi-dict."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self._values: dict[str, list[str]] = {}
        for name, value in pairs:
            self._values.setdefault(name, []).append(value)

    @classmethod
    def parse(cls, body: bytes) -> FormFields:
        """The fields of ``body``; percent-encoded bytes that are not UTF-8 become lone
        surrogates. Raises ``UnicodeDecodeError`` when ``body`` is not ASCII (not form
        encoding)."""
        return cls(
            parse_qsl(
                body.decode("ascii"),
                keep_blank_values=True,
                encoding="utf-8",
                errors="surrogateescape",
            )
        )

    def getall(self, name: str) -> list[str]:
        """Every value of ``name``, in order."""
        return list(self._values[name])

    def __getitem__(self, name: str) -> str:
        return self._values[name][0]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


class TwilioProvider(Provider):
    """Twilio's webhook and Messages API for one account and sending number."""

    name = "twilio"
    replies_inline = True
    opt_out_code = "21610"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str,
        api_url: str = "https://api.twilio.com",
    ) -> None:
        self.account_sid = account_sid
        self.from_number = from_number
        self.api_url = api_url.rstrip("/")
        self._auth_token = auth_token
        self._validator = RequestValidator(auth_token)

    def parse(self, url: str, headers: Mapping[str, str], body: bytes, now: float) -> Inbound:
        """The inbound text of a webhook request (``now`` is unused: Twilio's signature has
        no time in it, and Twilio retries a webhook with the same MessageSid)."""
        signature = header(headers, SIGNATURE_HEADER)
        if not signature:
            raise WebhookRefused(403, "missing signature")
        try:
            fields = FormFields.parse(body)
            valid = any(
                compare(self._validator.compute_signature(signed, fields), signature)
                for signed in _signed_urls(url)
            )
        except UnicodeError:
            # A body that is not form encoding, or whose fields are not UTF-8 (the validator
            # cannot encode them): Twilio always sends UTF-8, so the request is not Twilio's.
            valid = False
        if not valid:
            raise WebhookRefused(403, "bad signature")
        for name in REQUIRED_FIELDS:
            if name not in fields:
                raise WebhookRefused(400, f"missing {name}")
        return Inbound(
            provider_id=fields["MessageSid"],
            sender=fields["From"],
            to=fields["To"],
            body=fields["Body"],
        )

    def answer(self, reply: str | None) -> Answer:
        """TwiML: ``<Response><Message>reply</Message></Response>``, or an empty
        ``<Response/>`` (no reply)."""
        if not reply:
            return Answer(200, "text/xml; charset=utf-8", _TWIML_EMPTY)
        text = escape(_XML_ILLEGAL.sub("", sendable(reply)))
        message = f"<Message>{text}</Message>" if text else "<Message />"
        return Answer(200, "text/xml; charset=utf-8", _TWIML.format(message).encode("utf-8"))

    def _request(self, to: str, body: str) -> ApiRequest:
        credentials = f"{self.account_sid}:{self._auth_token}".encode()
        return ApiRequest(
            url=f"{self.api_url}/2010-04-01/Accounts/{quote(self.account_sid, safe='')}"
            "/Messages.json",
            headers={
                "Authorization": "Basic " + base64.b64encode(credentials).decode("ascii"),
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
            body=urlencode({"To": to, "From": self.from_number, "Body": body}).encode("ascii"),
        )

    def _outcome(self, status: int, body: bytes) -> SendOutcome:
        answer = json_object(body)
        if 200 <= status < 300:
            sid = answer.get("sid")
            if isinstance(sid, str) and sid:
                return SendOutcome(SendKind.SENT, provider_id=sid, detail=f"twilio HTTP {status}")
            return SendOutcome(SendKind.SENT, detail=f"twilio HTTP {status} without a sid")
        code, message = answer.get("code"), answer.get("message")
        return self._refused(
            status,
            None if code is None else str(code),
            message if isinstance(message, str) else "",
        )


@functools.lru_cache(maxsize=8)
def _signed_urls(url: str) -> tuple[str, str]:
    """The URLs Twilio may have signed for ``url``, as ``RequestValidator.validate`` tries
    them (with and without the port), the one ``url`` is first: a genuine request costs one
    HMAC."""
    parsed = urlparse(url)
    with_port, without_port = add_port(parsed), remove_port(parsed)
    return (with_port, without_port) if parsed.port else (without_port, with_port)
