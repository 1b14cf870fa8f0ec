"""Failed logins per key (a client address, a username) over a sliding window, in Cassandra so
that every web node, and a restarted one, counts the same failures::

    attempt = login_failures.attempt(f"address:{ip}", f"user:{name}")  # or Throttled
    if password_is_right:
        login_failures.succeeded(attempt)  # otherwise it stays counted as a failure
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from uuid import UUID

from cassandra.util import min_uuid_from_time, unix_time_from_uuid1, uuid_from_time

from storage import validate
from storage.errors import Throttled, ValidationError
from storage.session import Database

MAX_FAILURES = 5
"""Failed logins allowed per key within :data:`WINDOW_S`."""
WINDOW_S = 300.0
MAX_KEY = 200
"""The longest key; callers cut what they put in one (a username as typed) to this."""


@dataclass(frozen=True)
class Attempt:
    """A login attempt counted against its keys: a failure unless it :meth:`succeeded`."""

    keys: tuple[str, ...]
    at: UUID


class LoginFailures:
    """Count login attempts per key and refuse a key that has failed too often.

    An attempt is counted *before* its password is checked, so attempts made at the same time
    (on this node or any other) count each other: however many arrive at once, at most
    ``max_failures`` per key get their password checked within the window.
    """

    def __init__(
        self, db: Database, max_failures: int = MAX_FAILURES, window_s: float = WINDOW_S
    ) -> None:
        self._db = db
        self.max_failures = validate.integer("max_failures", max_failures, 1, 1000)
        if isinstance(window_s, bool) or not isinstance(window_s, int | float) or window_s <= 0:
            raise ValidationError("window_s", "must be a positive number of seconds")
        self.window_s = float(window_s)
        self._ttl_s = math.ceil(self.window_s)

    def attempt(self, *keys: str) -> Attempt:
        """Count a login attempt against every one of ``keys``; it stays counted as a failure
        unless :meth:`succeeded` is called.

        Raises :class:`Throttled` (and counts nothing) when a key already has ``max_failures``
        failed or ongoing attempts within the window; its ``wait_s`` runs until the oldest of
        them leaves the window.
        """
        attempt = Attempt(tuple(map(_key, keys)), uuid_from_time(time.time()))
        self._each_key(attempt, _INSERT, self._ttl_s)
        since = min_uuid_from_time(time.time() - self.window_s)
        pending = [
            self._db.submit(_SELECT, (key, since, self.max_failures + 1), op="read")
            for key in attempt.keys
        ]
        wait = 0.0
        for query in pending:
            others = [row["at"] for row in query.result() if row["at"] != attempt.at]
            if len(others) >= self.max_failures:
                oldest = unix_time_from_uuid1(others[self.max_failures - 1])
                wait = max(wait, oldest + self.window_s - time.time())
        if wait > 0:
            self._each_key(attempt, _DELETE)
            raise Throttled(wait)
        return attempt

    def succeeded(self, attempt: Attempt) -> None:
        """The attempt's password was right: it no longer counts."""
        self._each_key(attempt, _DELETE)

    def _each_key(self, attempt: Attempt, cql: str, *extra: object) -> None:
        pending = [
            self._db.submit(cql, (key, attempt.at, *extra), op="write") for key in attempt.keys
        ]
        for query in pending:
            query.result()


_INSERT = "INSERT INTO login_failures (key, at) VALUES (?, ?) USING TTL ?"
_DELETE = "DELETE FROM login_failures WHERE key = ? AND at = ?"
_SELECT = "SELECT at FROM login_failures WHERE key = ? AND at > ? LIMIT ?"


def _key(value: object) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= MAX_KEY:
        raise ValidationError("key", f"must be text of 1 to {MAX_KEY} characters")
    return value
