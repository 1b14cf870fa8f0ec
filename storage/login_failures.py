"""Failed logins per key (a client address, a username) over a sliding window, in Cassandra so
that every web node, and a restarted one, counts the same failures."""

from __future__ import annotations

import math
import time

from cassandra.util import min_uuid_from_time, unix_time_from_uuid1, uuid_from_time

from storage import validate
from storage.errors import ValidationError
from storage.session import Database

MAX_FAILURES = 5
"""Failed logins allowed per key within :data:`WINDOW_S`."""
WINDOW_S = 300.0
MAX_KEY = 200
"""The longest key; callers cut what they put in one (a username as typed) to this."""


class LoginFailures:
    """Record failed logins and tell how long a key must wait before the next try."""

    def __init__(
        self, db: Database, max_failures: int = MAX_FAILURES, window_s: float = WINDOW_S
    ) -> None:
        self._db = db
        self.max_failures = validate.integer("max_failures", max_failures, 1, 1000)
        if isinstance(window_s, bool) or not isinstance(window_s, int | float) or window_s <= 0:
            raise ValidationError("window_s", "must be a positive number of seconds")
        self.window_s = float(window_s)
        self._ttl_s = math.ceil(self.window_s)

    def wait_s(self, *keys: str) -> float:
        """Seconds until every one of ``keys`` may try again (0: now).

        A key with ``max_failures`` failures within the window waits until the oldest of its
        latest ``max_failures`` is older than the window.
        """
        keys = tuple(map(_key, keys))
        now = time.time()
        since = min_uuid_from_time(now - self.window_s)
        pending = [
            self._db.submit(
                "SELECT at FROM login_failures WHERE key = ? AND at > ? LIMIT ?",
                (key, since, self.max_failures),
                op="read",
            )
            for key in keys
        ]
        wait = 0.0
        for query in pending:
            rows = query.result()
            if len(rows) >= self.max_failures:
                oldest = unix_time_from_uuid1(rows[-1]["at"])
                wait = max(wait, oldest + self.window_s - now)
        return wait

    def failed(self, *keys: str) -> None:
        """Record a failed login for every one of ``keys``."""
        keys = tuple(map(_key, keys))
        at = time.time()
        pending = [
            self._db.submit(
                "INSERT INTO login_failures (key, at) VALUES (?, ?) USING TTL ?",
                (key, uuid_from_time(at), self._ttl_s),
                op="write",
            )
            for key in keys
        ]
        for query in pending:
            query.result()


def _key(value: object) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= MAX_KEY:
        raise ValidationError("key", f"must be text of 1 to {MAX_KEY} characters")
    return value
