"""Sign-ups: each option's seats and the registrations in them, never overbooked.

Everything about one sign-up option lives in one ``signup_ledger`` partition: the seat state in
static columns (capacity, waitlist on/off, open, seats taken, waitlist length, last registration
number, version) and rows for registrations (``r:``), the waitlist (``w:``), and claims by
normalised contact (``c:``), idempotency key (``k:``) and random reference code (``x:``). A
sign-up is ONE conditional batch on that partition (a lightweight transaction at the
``signup`` class's serial consistency): it bumps the version it read, inserts the three claims
``IF NOT EXISTS`` and writes the registration, so it applies entirely or not at all. A batch
that does not apply returns the partition's current state, from which the next attempt is
computed; a claim it returns is the registration to give back (a code another registration
holds, about one in a billion, is simply tried again with a new code). Cancelling and changing
capacity are batches of the same kind that also promote the waitlist in order.
docs/data-model.md explains the algorithm.

The modules: :mod:`.models` (seats, registrations, results, limits), :mod:`.refs` (reference
codes), :mod:`.ledger` (the statements, entry keys and row mapping) and :mod:`.repository`
(:class:`Registrations`, the flows). Import from this package.
"""

from storage.registrations.ledger import SIGN_UP_CONFIRMED, SIGN_UP_WAITLISTED, Statement
from storage.registrations.models import (
    CHANNELS,
    MAX_CAPACITY,
    MAX_KEY,
    MAX_NAME,
    MAX_PARTY_SIZE,
    STATUSES,
    CancelResult,
    Registration,
    Seats,
    SignupResult,
)
from storage.registrations.refs import (
    CODE_ALPHABET,
    CODE_LENGTH,
    REF_LETTERS,
    Ref,
    new_code,
    parse_ref,
)
from storage.registrations.repository import Change, Registrations

__all__ = [
    "CHANNELS",
    "CODE_ALPHABET",
    "CODE_LENGTH",
    "MAX_CAPACITY",
    "MAX_KEY",
    "MAX_NAME",
    "MAX_PARTY_SIZE",
    "REF_LETTERS",
    "SIGN_UP_CONFIRMED",
    "SIGN_UP_WAITLISTED",
    "STATUSES",
    "CancelResult",
    "Change",
    "Ref",
    "Registration",
    "Registrations",
    "Seats",
    "SignupResult",
    "Statement",
    "new_code",
    "parse_ref",
]
