"""What sign-ups are made of: an option's seats, a registration, the results of signing up and
cancelling, and the limits of their fields."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

CHANNELS = ("kiosk", "web", "sms")
STATUSES = ("confirmed", "waitlisted", "cancelled")
MAX_PARTY_SIZE = 20
MAX_CAPACITY = 100_000
MAX_NAME = 100
MAX_KEY = 128


@dataclass(frozen=True)
class Seats:
    """The seat state of one sign-up option."""

    option_id: UUID
    event_id: UUID
    ref_prefix: str
    capacity: int
    waitlist: bool
    is_open: bool
    taken: int
    waiting: int
    seq: int
    version: int

    @property
    def free(self) -> int:
        """Seats not held by confirmed registrations."""
        return max(0, self.capacity - self.taken)


@dataclass(frozen=True)
class Registration:
    """One person's (and their party's) sign-up for one option."""

    ref: str
    event_id: UUID
    option_id: UUID
    number: int
    name: str
    contact: str
    party_size: int
    channel: str
    node: str
    idempotency_key: str
    status: str
    created_at: datetime
    updated_at: datetime

    @property
    def contact_kind(self) -> str:
        """``phone`` (E.164) or ``email``."""
        return "phone" if self.contact.startswith("+") else "email"


@dataclass(frozen=True)
class SignupResult:
    """What a sign-up got: ``created`` is False when an existing registration came back
    (a retry with the same idempotency key, or the same person signing up again); True also
    when this call's own earlier, timed-out attempt turned out to have applied."""

    registration: Registration
    created: bool
    same_key: bool = True
    """The registration was made with this call's idempotency key (always so when
    ``created``): it is the caller's own. False: found by the contact alone, so possibly
    somebody else's doing."""


@dataclass(frozen=True)
class CancelResult:
    """The cancelled registration and the waitlisted ones it promoted, in order."""

    registration: Registration
    promoted: tuple[Registration, ...]
