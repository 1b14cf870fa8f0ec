"""Signing admins in and out: scrypt-checked passwords (storage's ``AdminUsers``), a signed
session cookie, and failed logins rate limited per client address and per username."""

from __future__ import annotations

import threading
import time
from collections import deque

from web.base import SESSION_COOKIE, BaseHandler, Refusal

MAX_FAILURES = 5
"""Failed logins allowed per address, and per username, within :data:`WINDOW_S`."""
WINDOW_S = 300.0


class LoginThrottle:
    """Counts failed logins per key over a sliding window (this process's memory)."""

    def __init__(self, max_failures: int = MAX_FAILURES, window_s: float = WINDOW_S) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def wait_s(self, *keys: str) -> float:
        """Seconds until ``keys`` may try again (0: now)."""
        now = time.monotonic()
        wait = 0.0
        with self._lock:
            for key in keys:
                failures = self._recent(key, now)
                if len(failures) >= self.max_failures:
                    wait = max(wait, failures[0] + self.window_s - now)
        return wait

    def failed(self, *keys: str) -> None:
        """Record a failed login for every key."""
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures.setdefault(key, deque())
        while failures and failures[0] <= now - self.window_s:
            failures.popleft()
        return failures


class LoginHandler(BaseHandler):
    """``GET, POST /admin/login``."""

    def get(self) -> None:
        self.render("admin/login.html", error=None, username="", next=self._next())

    async def post(self) -> None:
        username = self.text("username").strip().lower()
        password = self.text("password")
        throttle: LoginThrottle = self.application.settings["login_throttle"]
        keys = (f"address:{self.request.remote_ip}", f"user:{username}")
        wait = throttle.wait_s(*keys)
        if wait > 0:
            self._refuse(429, f"Too many failed logins; try again in {int(wait) // 60 + 1} min.")
            return
        if not await self.storage(lambda s: s.admins.verify(username, password)):
            throttle.failed(*keys)
            self._refuse(403, "Wrong username or password.")
            return
        self.start_session(username)
        self.redirect(self._next(), status=303)

    def _refuse(self, status: int, message: str) -> None:
        self.set_status(status)
        self.render(
            "admin/login.html", error=message, username=self.text("username"), next=self._next()
        )

    def _next(self) -> str:
        target = self.get_argument("next", "/admin/events")
        if not target.startswith("/admin") or target.startswith("//"):
            return "/admin/events"
        return target


class LogoutHandler(BaseHandler):
    """``POST /admin/logout``: end the session."""

    def post(self) -> None:
        if self.current_user is None:
            raise Refusal(403, "You are not signed in.")
        self.clear_cookie(SESSION_COOKIE)
        self.redirect("/admin/login", status=303)
