"""SMS provider adapters: one interface (:class:`Provider`), for Twilio and for Telnyx."""

from sms.providers.base import (
    Answer,
    Inbound,
    Provider,
    SendKind,
    SendOutcome,
    WebhookRefused,
)
from sms.providers.telnyx import TelnyxProvider
from sms.providers.twilio import TwilioProvider

PROVIDERS = ("twilio", "telnyx")
"""The providers there is an adapter for, by :attr:`Provider.name`."""

__all__ = [
    "PROVIDERS",
    "Answer",
    "Inbound",
    "Provider",
    "SendKind",
    "SendOutcome",
    "TelnyxProvider",
    "TwilioProvider",
    "WebhookRefused",
]
