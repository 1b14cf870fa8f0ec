"""Failed attempts at a secret per key over a sliding window, in Cassandra (the
``login_failures`` table) so that every node, and a restarted one, counts the same failures:
logins per client network and username (``address:``, ``user:``, :mod:`web.auth`), guesses at
reference codes per client and contact (``guess:``, ``guess-contact:``, :mod:`signups.rules`)::

    keys = (f"address:{ip}", f"user:{name}")
    if failed_attempts.check(keys, lambda: admins.verify(name, password)):  # or Throttled
        ...  # signed in; a wrong password stays counted as a failure
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from uuid import UUID

from cassandra.util import min_uuid_from_time, unix_time_from_uuid1, uuid_from_time

from storage import validate
from storage.errors import StorageError, Throttled, ValidationError
from storage.session import Database

log = logging.getLogger(__name__)

MAX_FAILURES = 5
"""Failed attempts allowed per key within :data:`WINDOW_S`."""
WINDOW_S = 300.0
MAX_ATTEMPT_KEY = 200
"""The longest key; callers cut what they put in one (a username as typed) to this."""


COUNTED = 16
"""The most failures per key an attempt reads back (enough for any delay built on them)."""


@dataclass(frozen=True)
class Attempt:
    """An attempt counted against its keys: a failure unless it is released.

    ``earlier`` holds, per key, how many other failed or ongoing attempts it had within the
    window when this one was counted (at most :data:`COUNTED`)."""

    keys: tuple[str, ...]
    at: UUID
    earlier: Mapping[str, int]


class FailedAttempts:
    """Count attempts per key and refuse a key that has failed too often.

    An attempt is counted *before* its secret is checked, so attempts made at the same time
    (on this node or any other) count each other: however many arrive at once, at most
    ``max_failures`` per key get checked within the window.
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

    def check(self, keys: Sequence[str], is_right: Callable[[], bool]) -> bool:
        """Check a secret with ``is_right()`` (a password, a code and its contact), counted
        against ``keys``: a wrong one stays counted as a failure; a right one does not, nor a
        check that raised (an outage is not a wrong guess). Raises :class:`Throttled`,
        without checking, when a key has failed too often (see :meth:`attempt`)."""
        attempt = self.attempt(*keys)
        try:
            right = is_right()
        except BaseException:
            self.forget(attempt)
            raise
        if right:
            self.release(attempt)
        return right

    def attempt(self, *keys: str, refusing: Collection[str] | None = None) -> Attempt:
        """Count an attempt against every one of ``keys``; it stays counted as a failure
        unless it is released.

        Raises :class:`Throttled` (and counts nothing) when a key of ``refusing`` (by default
        every key) already has ``max_failures`` failed or ongoing attempts within the window;
        its ``wait_s`` runs until the oldest of them leaves the window. A throttled key is
        refused on a read alone, so a flood of attempts at it writes nothing. The other keys
        are only counted (:attr:`Attempt.earlier`), for the caller to slow down by.
        """
        keys = tuple(map(_key, keys))
        refused = keys if refusing is None else tuple(map(_key, refusing))
        earlier = self._refuse_if_throttled(keys, refused)
        attempt = Attempt(keys, uuid_from_time(time.time()), earlier)
        try:
            self._each_key(attempt, _INSERT, self._ttl_s)
            self._refuse_if_throttled(refused, refused, besides=attempt.at)
        except BaseException:
            self.forget(attempt)
            raise
        return attempt

    def refuse_if_throttled(self, *keys: str) -> None:
        """Raise :class:`Throttled` if a key of ``keys`` has failed too often (a read alone)."""
        keys = tuple(map(_key, keys))
        self._refuse_if_throttled(keys, keys)

    def fail(self, *keys: str) -> None:
        """Count one failure against every one of ``keys`` (for guesses that are only counted
        once they are known to be wrong: see :meth:`attempt` for those that must count each
        other while they run)."""
        self._each_key(
            Attempt(tuple(map(_key, keys)), uuid_from_time(time.time()), {}), _INSERT, self._ttl_s
        )

    def release(self, attempt: Attempt) -> None:
        """The attempt no longer counts (its secret was right)."""
        self._each_key(attempt, _DELETE)

    def forget(self, attempt: Attempt) -> None:
        """Release ``attempt`` on the way out of an error (which is the one to raise): a
        failure to release is logged, not raised."""
        try:
            self.release(attempt)
        except StorageError as exc:
            log.warning("an attempt stays counted until its window ends: %s", exc)

    def _refuse_if_throttled(
        self, keys: tuple[str, ...], refusing: tuple[str, ...], besides: UUID | None = None
    ) -> dict[str, int]:
        """Each key's other attempts within the window (newest first, at most
        :data:`COUNTED`); :class:`Throttled` if a key of ``refusing`` has too many."""
        since = min_uuid_from_time(time.time() - self.window_s)
        limit = max(COUNTED, self.max_failures + 1)
        pending = {key: self._db.submit(_SELECT, (key, since, limit), op="read") for key in keys}
        wait, counts = 0.0, {}
        for key, query in pending.items():
            others = [row["at"] for row in query.result() if row["at"] != besides]
            counts[key] = len(others)
            if key in refusing and len(others) >= self.max_failures:
                oldest = unix_time_from_uuid1(others[self.max_failures - 1])
                wait = max(wait, oldest + self.window_s - time.time())
        if wait > 0:
            raise Throttled(wait)
        return counts

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
    if not isinstance(value, str) or not 0 < len(value) <= MAX_ATTEMPT_KEY:
        raise ValidationError("key", f"must be text of 1 to {MAX_ATTEMPT_KEY} characters")
    return value
