"""What became of one notice handed to a channel (a text to an SMS provider, an e-mail to the
SMTP server): :class:`SendOutcome`, of a :class:`SendKind`."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SendKind(StrEnum):
    """What became of a notice given to a channel to send."""

    SENT = "sent"
    """The provider or server took it (``provider_id`` is its id for it)."""
    OPTED_OUT = "opted_out"
    """The provider refused it: the recipient opted out (texted STOP to the provider)."""
    RETRY = "retry"
    """Not taken, in a way worth trying again later: the provider was out of reach, busy
    (HTTP 429) or failing (5xx); the SMTP server down or answering 4xx."""
    FAILED = "failed"
    """Refused for good (such as an invalid number or address, or our credentials): do not
    try again."""
    UNCERTAIN = "uncertain"
    """The request left but no answer came back: the provider may or may not have taken it."""


@dataclass(frozen=True)
class SendOutcome:
    """What became of one send: its kind, the provider's id or error code, and a detail safe
    to log."""

    kind: SendKind
    provider_id: str | None = None
    """The provider's id of what it took (an e-mail's Message-ID)."""
    code: str | None = None
    """The provider's error code, if it gave one (Twilio's are numbers, as text here)."""
    detail: str = ""
    """What happened, in words safe to log (no personal data)."""
