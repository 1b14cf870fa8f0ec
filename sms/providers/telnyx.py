"""Telnyx: its Ed25519-signed JSON webhook and the v2 Messages API.

Telnyx posts every messaging event of the profile to the webhook (``message.received`` for an
inbound text, ``message.sent`` and ``message.finalized`` for our own), signed with the
account's Ed25519 key: ``telnyx-signature-ed25519`` (base64) over ``f"{timestamp}|"`` and the
raw body, ``telnyx-timestamp`` being the Unix time of signing. The answer is an empty 200: a
reply is a text of our own, a POST to ``/v2/messages`` (Bearer API key) answered 200 with
``{"data": {"id": ...}}``, or with ``{"errors": [{"code", "title", "detail"}]}``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

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
)

SIGNATURE_HEADER = "telnyx-signature-ed25519"
TIMESTAMP_HEADER = "telnyx-timestamp"
INBOUND_EVENT = "message.received"


def _path(data: Any, *steps: str | int) -> Any:
    """The value at ``steps`` (keys of objects, indexes of arrays) in ``data``, None when
    there is none."""
    for step in steps:
        if isinstance(step, int):
            data = data[step] if isinstance(data, list) and len(data) > step else None
        else:
            data = data.get(step) if isinstance(data, dict) else None
    return data


def _text(data: Any, *steps: str | int) -> str:
    """The string at ``steps`` in ``data``; raise WebhookRefused (400) when there is none."""
    value = _path(data, *steps)
    if not isinstance(value, str):
        raise WebhookRefused(400, "missing " + ".".join(map(str, steps)))
    return value


class TelnyxProvider(Provider):
    """Telnyx's webhook and Messages API for one account and sending number."""

    name = "telnyx"
    replies_inline = False
    opt_out_code = "40300"

    def __init__(
        self,
        api_key: str,
        public_key_b64: str,
        from_number: str,
        messaging_profile_id: str | None = None,
        api_url: str = "https://api.telnyx.com",
        replay_window_s: float = 300.0,
    ) -> None:
        """Raises ``ValueError`` when ``public_key_b64`` is not a base64 Ed25519 public key
        (32 bytes)."""
        self.from_number = from_number
        self.messaging_profile_id = messaging_profile_id
        self.api_url = api_url.rstrip("/")
        self.replay_window_s = replay_window_s
        self._api_key = api_key
        self._public_key = Ed25519PublicKey.from_public_bytes(
            base64.b64decode(public_key_b64, validate=True)
        )

    def parse(
        self, url: str, headers: Mapping[str, str], body: bytes, now: float
    ) -> Inbound | None:
        """The inbound text of a ``message.received`` event, None for any other event
        (``url`` is unused: Telnyx does not sign it)."""
        signature = header(headers, SIGNATURE_HEADER)
        timestamp = header(headers, TIMESTAMP_HEADER)
        if not signature or not timestamp:
            raise WebhookRefused(403, "missing signature")
        try:
            self._public_key.verify(
                base64.b64decode(signature, validate=True),
                timestamp.encode("ascii") + b"|" + body,
            )
        except (ValueError, InvalidSignature):  # not base64, not ASCII, or not the signature
            raise WebhookRefused(403, "bad signature") from None
        try:
            signed_at = float(timestamp)
        except ValueError:
            raise WebhookRefused(403, "bad timestamp") from None
        if not abs(now - signed_at) <= self.replay_window_s:  # NaN is stale too
            raise WebhookRefused(403, "stale timestamp")
        try:
            event = json.loads(body.decode("utf-8", errors="surrogateescape"))
        except ValueError:
            raise WebhookRefused(400, "not JSON") from None
        if _text(event, "data", "event_type") != INBOUND_EVENT:
            return None
        text = _path(event, "data", "payload", "text")
        return Inbound(
            provider_id=_text(event, "data", "payload", "id"),
            sender=_text(event, "data", "payload", "from", "phone_number"),
            to=_text(event, "data", "payload", "to", 0, "phone_number"),
            # A picture-only MMS may come without text.
            body="" if text is None else _text(event, "data", "payload", "text"),
        )

    def answer(self, reply: str | None) -> Answer:
        """An empty 200 whatever ``reply`` is: a reply goes through :meth:`send`."""
        return Answer(200, "text/plain; charset=utf-8", b"")

    def _request(self, to: str, body: str) -> ApiRequest:
        message = {"from": self.from_number, "to": to, "text": body}
        if self.messaging_profile_id:
            message["messaging_profile_id"] = self.messaging_profile_id
        return ApiRequest(
            url=f"{self.api_url}/v2/messages",
            headers={
                "Authorization": f"Bearer {self._api_key}",
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
            body=json.dumps(message).encode("ascii"),
        )

    def _outcome(self, status: int, body: bytes) -> SendOutcome:
        answer = json_object(body)
        if 200 <= status < 300:
            message_id = _path(answer, "data", "id")
            if isinstance(message_id, str) and message_id:
                return SendOutcome(
                    SendKind.SENT, provider_id=message_id, detail=f"telnyx HTTP {status}"
                )
            return SendOutcome(SendKind.SENT, detail=f"telnyx HTTP {status} without an id")
        listed = answer.get("errors")
        errors = (
            [error for error in listed if isinstance(error, dict)]
            if isinstance(listed, list)
            else []
        )
        # The opt-out error wins over any other listed with it; else the first one counts.
        error = next(
            (error for error in errors if str(error.get("code")) == self.opt_out_code),
            errors[0] if errors else {},
        )
        code, title = error.get("code"), error.get("title")
        # The title names the error; the detail may quote the numbers, so it is left out.
        return self._refused(
            status,
            None if code is None else str(code),
            title if isinstance(title, str) else "",
        )
