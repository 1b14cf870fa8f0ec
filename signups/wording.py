"""What a refused or failed request means, in words for the person who asked.

Every frontend shows the same sentence for the same outcome (the website's pages and API, the
kiosk's screens, the SMS replies): :func:`explain`. A frontend only adds what is its own, such
as an HTTP status or a button to try again. A count of seats reads the same everywhere too
(:func:`seats`), and so does a cancelled event (:data:`EVENT_CANCELLED`).

    >>> from storage.errors import FullError
    >>> explain(FullError("only 0 seat(s) left and there is no waitlist"))
    'That option is full.'
    >>> seats(1), seats(3)
    ('1 seat', '3 seats')
"""

from __future__ import annotations

from storage.errors import (
    AlreadySignedUp,
    CassandraUnavailable,
    ClosedError,
    Conflict,
    FullError,
    NotConnected,
    NotFound,
    StorageError,
    Throttled,
    ValidationError,
)


def explain(error: StorageError) -> str:
    """The sentence that tells a member what ``error`` means for them."""
    if isinstance(error, ValidationError):
        return f"{error.field.replace('_', ' ').capitalize()} {error.message}."
    if isinstance(error, NotFound):
        return f"There is {error}."
    if isinstance(error, FullError):
        return "That option is full."
    if isinstance(error, ClosedError):
        return "Sign-ups for this event are closed."
    if isinstance(error, AlreadySignedUp):
        return (
            "That phone number or e-mail is already signed up for this option. If you no "
            "longer have its reference code, ask the organisers."
        )
    if isinstance(error, Conflict):
        return _sentence(str(error))
    if isinstance(error, Throttled):
        return f"Too many failed attempts; try again in {int(error.wait_s) // 60 + 1} min."
    if isinstance(error, NotConnected):
        return "The database is out of reach; please try again shortly."
    if isinstance(error, CassandraUnavailable):
        return "The database did not answer in time; please try again."
    return "Something went wrong on our side; please try again."


EVENT_CANCELLED = (
    "This event is cancelled. Everyone signed up is told by text or e-mail; there is nothing "
    "you need to do."
)
"""What a cancelled event's page (the website's, the kiosk's) says in place of its sign-up."""


def seats(count: int) -> str:
    """``count`` seats in words: "1 seat", "0 seats", "3 seats"."""
    return "1 seat" if count == 1 else f"{count} seats"


def _sentence(text: str) -> str:
    """``text`` as a sentence: its first letter upper-case (the rest kept), a full stop."""
    return text[:1].upper() + text[1:] + "."
