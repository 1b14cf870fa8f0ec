"""Signing admins in and out: scrypt-checked passwords (storage's ``AdminUsers``), a session in
Cassandra named by a signed cookie, and failed logins rate limited per client address and per
username across the cluster (storage's ``LoginFailures``)."""

from __future__ import annotations

from storage.login_failures import MAX_KEY
from web.base import SESSION_COOKIE, BaseHandler, Refusal


class LoginHandler(BaseHandler):
    """``GET, POST /admin/login``."""

    def get(self) -> None:
        self.render("admin/login.html", error=None, username="", next=self._next())

    async def post(self) -> None:
        username = self.text("username").strip().lower()
        password = self.get_body_argument("password", "", strip=False)  # exactly as set
        keys = (f"address:{self.client_network}", f"user:{username}"[:MAX_KEY])
        try:
            right = await self.storage(
                lambda s: s.login_failures.check(keys, lambda: s.admins.verify(username, password))
            )
        except Refusal as refused:
            if refused.status_code != 429:
                raise
            self._refuse(429, refused.message)
            return
        if not right:
            self._refuse(403, "Wrong username or password.")
            return
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
        session_id = self.session_id()
        if session_id is not None and await self.resolve_current_user() is not None:
            await self.storage(lambda s: s.admin_sessions.end(session_id))
        self.clear_cookie(SESSION_COOKIE)
        self.redirect("/admin/login", status=303)
