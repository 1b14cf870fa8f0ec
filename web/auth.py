"""Signing admins in and out: scrypt-checked passwords (storage's ``AdminUsers``), a session in
Cassandra named by a signed cookie, and failed logins throttled so that an attacker slows
themselves, not the admin (docs/web.md, "Logins"):

- per client network (an IPv4 address, an IPv6 /64), across the cluster: after
  ``MAX_FAILURES`` failed attempts within the window, refused (429) until the oldest leaves it;
- per username: every password check waits :func:`check_delay_s` of the user's recent
  failures (none for the first few, then seconds: the admin waits it too), and one check per
  username runs at a time on a web node (:class:`~web.turnstile.Turnstile`), the delay inside
  its turn. A network the user signed in from within 30 days goes first, then networks
  without recent failures, then the rest, of which at most :data:`MAX_WAITING` wait per
  username (one more is refused 429, as its network soon would be): the admin's own network
  is never refused and never queued behind an attacker's attempts.
"""

from __future__ import annotations

import asyncio

from storage.failed_attempts import MAX_ATTEMPT_KEY
from web.base import SESSION_COOKIE, BaseHandler, Refusal
from web.turnstile import Turnstile

MAX_WAITING = 4
"""Attempts from networks with recent failures that may wait for one username's turn."""
FREE_FAILURES = 3
"""A user's recent failures that cost no delay (typos)."""
FIRST_DELAY_S = 0.5
MAX_DELAY_S = 8.0
"""The longest wait of one check: while failures go on, a user's checks run at most one per
this many seconds on each web node."""


def check_delay_s(failures: int) -> float:
    """How long a password check waits after the user's ``failures`` recent failed (or
    ongoing) attempts: nothing for the first :data:`FREE_FAILURES`, then
    :data:`FIRST_DELAY_S`, doubling up to :data:`MAX_DELAY_S`."""
    if failures < FREE_FAILURES:
        return 0.0
    return min(MAX_DELAY_S, FIRST_DELAY_S * 2 ** (failures - FREE_FAILURES))


class LoginHandler(BaseHandler):
    """``GET, POST /admin/login``."""

    def get(self) -> None:
        self.render("admin/login.html", error=None, username="", next=self._next())

    async def post(self) -> None:
        username = self.text("username").strip().lower()
        password = self.get_body_argument("password", "", strip=False)  # exactly as set
        network_id = self.client_network
        network, user = f"address:{network_id}", f"user:{username}"[:MAX_ATTEMPT_KEY]
        try:
            attempt = await self.storage(
                lambda s: s.failed_attempts.attempt(network, user, refusing=(network,))
            )
        except Refusal as refused:
            if refused.status_code != 429:
                raise
            self._refuse(429, refused.message)
            return
        turnstile: Turnstile = self.application.settings["login_turnstile"]
        known = await self.storage(lambda s: s.admin_sessions.knows_network(username, network_id))
        rank = 0 if known else 1 if attempt.earlier[network] == 0 else 2
        if rank == 2 and turnstile.waiting(username) >= MAX_WAITING:
            await self.storage(lambda s: s.failed_attempts.forget(attempt))
            self._refuse(429, "Too many sign-ins are waiting; try again in a few seconds.")
            return
        try:
            async with turnstile.turn(username, rank):
                await asyncio.sleep(check_delay_s(attempt.earlier[user]))
                right = await self.storage(lambda s: s.admins.verify(username, password))
        except BaseException:
            await self.storage(lambda s: s.failed_attempts.forget(attempt))
            raise
        if not right:
            self._refuse(403, "Wrong username or password.")
            return
        await self.storage(lambda s: s.failed_attempts.release(attempt))
        await self.storage(lambda s: s.admin_sessions.remember_network(username, network_id))
        await self.end_session()  # a new login ends the session this browser had
        await self.start_session(username)
        self.redirect(self._next(), status=303)

    def _refuse(self, status: int, message: str) -> None:
        self.set_status(status)
        self.render(
            "admin/login.html", error=message, username=self.text("username"), next=self._next()
        )

    def _next(self) -> str:
        """Where to go once signed in: a page of the management UI, never another site."""
        target = self.get_argument("next", "/admin/events", strip=False)
        if not target.startswith("/admin") or not target.isprintable() or " " in target:
            return "/admin/events"
        return target


class LogoutHandler(BaseHandler):
    """``POST /admin/logout``: end the session on every node, then forget the cookie (an
    already ended session, or none, just goes back to the login page)."""

    async def post(self) -> None:
        await self.end_session()
        self.clear_cookie(SESSION_COOKIE)
        self.redirect("/admin/login", status=303)
