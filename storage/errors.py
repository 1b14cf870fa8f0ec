"""The exceptions storage and the sign-up rules raise: every one is a :class:`StorageError`.

They come in three families, by how a caller should react:

- :class:`Refused`: the request cannot be done as asked, and nothing was written. Tell the
  person why (:class:`ValidationError` names the field); do not retry.
- :class:`Unreachable`: the data could not be reached. :class:`CassandraUnavailable` says
  with ``may_have_applied`` whether the write may have happened (always so for
  :class:`WriteUncertain`), so the caller retries with the same idempotency key or queues
  the request; :class:`NotConnected` means this node has no Cassandra connection at all yet.
- faults (:class:`CorruptData`, :class:`MigrationError`): a bug or broken data; let it crash.

The first two families are the domain's expected outcomes: they are
:class:`actors.errors.DomainError`, so an actor that meets one hands it back to its asker,
locally or over the node link with its fields, and goes on running.

Example::

    try:
        result = signups.sign_up(store, Client.kiosk("kiosk-1"), option_id, name, phone)
    except Refused as refused:
        show(refused)          # "That option is full."
    except Unreachable:
        keep_the_form()        # "We could not save this; please try again."
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from actors.errors import DomainError


class StorageError(Exception):
    """Base of everything storage raises on purpose (picklable, so it can cross processes)."""

    def arguments(self) -> tuple[Any, ...]:
        """The constructor's arguments that make this error again."""
        return self.args

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), self.arguments()


class Refused(StorageError, DomainError):
    """The request was refused as asked; nothing was written. Tell the person; do not retry."""


class ValidationError(Refused):
    """An input is invalid. ``field`` names the input, ``message`` says what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    def arguments(self) -> tuple[Any, ...]:
        return self.field, self.message


class NotFound(Refused):
    """The thing asked for does not exist. ``kind`` names what was looked for."""

    def __init__(self, kind: str, key: object) -> None:
        super().__init__(f"no {kind} {key}")
        self.kind = kind
        self.key = key

    def arguments(self) -> tuple[Any, ...]:
        return self.kind, str(self.key)


class Conflict(Refused):
    """The change clashes with existing data (a taken short code, an existing user...)."""


class AlreadySignedUp(Conflict):
    """The contact already holds a registration for the option, made with another
    idempotency key: its reference code is not shown to a caller who has not proved the
    contact (it is all it takes, with the contact, to cancel)."""

    def __init__(self, option_id: UUID | str) -> None:
        super().__init__(f"already signed up for option {option_id}")
        self.option_id = UUID(str(option_id))  # a UUID again after crossing the link

    def arguments(self) -> tuple[Any, ...]:
        return (str(self.option_id),)


class FullError(Refused):
    """The option has no room for the party and no waitlist that could take it."""


class ClosedError(Refused):
    """The event does not take sign-ups (it is closed)."""


class Throttled(Refused):
    """Too many failed attempts lately: try again in ``wait_s`` seconds."""

    def __init__(self, wait_s: float) -> None:
        super().__init__(f"too many failed attempts; try again in {wait_s:.0f} s")
        self.wait_s = wait_s

    def arguments(self) -> tuple[Any, ...]:
        return (self.wait_s,)


class Unreachable(StorageError, DomainError):
    """The data could not be reached; the request may be tried again later or queued."""


class NotConnected(Unreachable):
    """This node is not connected to Cassandra (its storage actor is still connecting);
    nothing was sent, so nothing was written."""


class CassandraUnavailable(Unreachable):
    """Cassandra could not serve the request (down, too few replicas, timed out).

    ``may_have_applied`` is False when the request certainly changed nothing.
    """

    def __init__(self, message: str, may_have_applied: bool = False) -> None:
        super().__init__(message)
        self.may_have_applied = may_have_applied

    def arguments(self) -> tuple[Any, ...]:
        return self.args[0], self.may_have_applied


class WriteUncertain(CassandraUnavailable):
    """A write timed out or lost its coordinator: it may or may not have been applied.

    Retry it with the same idempotency key (sign-ups are safe to retry) or queue it.
    """

    def __init__(self, message: str, may_have_applied: bool = True) -> None:
        super().__init__(message, may_have_applied=True)


class CorruptData(StorageError):
    """Stored data contradicts its own metadata (a missing chunk, a wrong checksum)."""


class MigrationError(StorageError):
    """The schema cannot be brought up to date: a changed or missing migration, no agreement."""
