"""Admin sessions: a random session id per login, shared by every web node, that ends when
the admin logs out, :data:`SESSION_S` after the login (the row's TTL), or when the admin's
password changes or the admin is removed."""

from __future__ import annotations

import re
import secrets

from storage import times, validate
from storage.admins import AdminUsers
from storage.errors import ValidationError
from storage.session import Database

SESSION_S = 8 * 3600
"""An admin session ends this long after the login."""
NETWORK_S = 30 * 86400
"""A network an admin signed in from is remembered this long after the last sign-in."""
MAX_NETWORK = 64
"""The longest client network (an IPv6 /64 in full is 43 characters)."""
MAX_USERNAME = 32
"""The longest admin username (as :mod:`storage.admins` allows)."""
_SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{43}$")


class AdminSessions:
    """Start, look up and end admin sessions."""

    def __init__(self, db: Database, admins: AdminUsers) -> None:
        self._db = db
        self._admins = admins

    def start(self, username: str) -> str:
        """A new session for ``username``; returns its id (keep it secret: it signs in)."""
        username = _username(username)
        session_id = secrets.token_urlsafe(32)
        self._db.execute(
            "INSERT INTO admin_sessions (session_id, username, started_at) VALUES (?, ?, ?) "
            "USING TTL ?",
            (session_id, username, times.now(), SESSION_S),
            op="write",
        )
        return session_id

    def remember_network(self, username: str, network: str) -> None:
        """``username`` signed in from client ``network`` (for :data:`NETWORK_S`)."""
        self._db.execute(
            "INSERT INTO admin_networks (username, network, signed_in_at) VALUES (?, ?, ?) "
            "USING TTL ?",
            (_username(username), _network(network), times.now(), NETWORK_S),
            op="write",
        )

    def knows_network(self, username: str, network: str) -> bool:
        """Whether ``username`` signed in from client ``network`` within :data:`NETWORK_S`
        (never for a username or network no admin could have)."""
        try:
            key = (_username(username), _network(network))
        except ValidationError:
            return False
        rows = self._db.execute(
            "SELECT signed_in_at FROM admin_networks WHERE username = ? AND network = ?",
            key,
            op="read",
        )
        return bool(rows)

    def user(self, session_id: str) -> str | None:
        """The username signed in by ``session_id``; None when it ended or never existed, or
        when the admin's password has been set since the login or the admin was removed."""
        try:
            session_id = _session_id(session_id)
        except ValidationError:
            return None
        rows = self._db.execute(
            "SELECT username, started_at FROM admin_sessions WHERE session_id = ?",
            (session_id,),
            op="read",
        )
        if not rows:
            return None
        username, started_at = rows[0]["username"], rows[0]["started_at"]
        password_set_at = self._admins.password_set_at(username)
        if password_set_at is None or started_at < password_set_at:
            return None
        return username

    def end(self, session_id: str) -> None:
        """End the session (nothing happens if it already ended)."""
        self._db.execute(
            "DELETE FROM admin_sessions WHERE session_id = ?",
            (_session_id(session_id),),
            op="write",
        )


def _session_id(value: object) -> str:
    if not isinstance(value, str) or not _SESSION_ID.match(value):
        raise ValidationError("session_id", "must be a session id from AdminSessions.start")
    return value


def _username(value: object) -> str:
    return validate.text("username", value, max_len=MAX_USERNAME)


def _network(value: object) -> str:
    return validate.text("network", value, max_len=MAX_NETWORK)
