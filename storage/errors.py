"""The exceptions storage raises: every one is a :class:`StorageError` a caller can act on.

Expected outcomes (bad input, a full option, an unknown id) are domain errors; Cassandra trouble
is :class:`CassandraUnavailable` or :class:`WriteUncertain`, which say whether the write may have
happened so that the caller retries with the same idempotency key or queues the request.
"""

from __future__ import annotations


class StorageError(Exception):
    """Base of everything storage raises on purpose (picklable, so it can cross processes)."""

    def __reduce__(self) -> tuple:
        return type(self), self._arguments()

    def _arguments(self) -> tuple:
        return self.args


class ValidationError(StorageError):
    """An input is invalid; nothing was written. ``field`` names the input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    def _arguments(self) -> tuple:
        return self.field, self.message


class NotFound(StorageError):
    """The thing asked for does not exist."""

    def __init__(self, kind: str, key: object) -> None:
        super().__init__(f"no {kind} {key}")
        self.kind = kind
        self.key = key

    def _arguments(self) -> tuple:
        return self.kind, self.key


class Conflict(StorageError):
    """The change clashes with existing data (a taken short code, an existing user...)."""


class FullError(StorageError):
    """The option has no room for the party and no waitlist that could take it."""


class ClosedError(StorageError):
    """The event does not take sign-ups (it is closed)."""


class Throttled(StorageError):
    """Too many failed attempts lately: try again in ``wait_s`` seconds."""

    def __init__(self, wait_s: float) -> None:
        super().__init__(f"too many failed attempts; try again in {wait_s:.0f} s")
        self.wait_s = wait_s

    def _arguments(self) -> tuple:
        return (self.wait_s,)


class CorruptData(StorageError):
    """Stored data contradicts its own metadata (a missing chunk, a wrong checksum)."""


class MigrationError(StorageError):
    """The schema cannot be brought up to date: a changed or missing migration, no agreement."""


class CassandraUnavailable(StorageError):
    """Cassandra could not serve the request (down, too few replicas, timed out).

    ``may_have_applied`` is False when the request certainly changed nothing.
    """

    def __init__(self, message: str, may_have_applied: bool = False) -> None:
        super().__init__(message)
        self.may_have_applied = may_have_applied

    def _arguments(self) -> tuple:
        return self.args[0], self.may_have_applied


class WriteUncertain(CassandraUnavailable):
    """A write timed out or lost its coordinator: it may or may not have been applied.

    Retry it with the same idempotency key (sign-ups are safe to retry) or queue it.
    """

    def __init__(self, message: str, may_have_applied: bool = True) -> None:
        super().__init__(message, may_have_applied=True)
