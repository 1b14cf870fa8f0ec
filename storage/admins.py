"""Admin users: a username and a scrypt password hash, never the password itself."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from datetime import datetime

from storage import times
from storage.errors import Conflict, NotFound, ValidationError
from storage.session import Database

SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
MIN_PASSWORD = 10
MAX_PASSWORD = 1024
_USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,31}$")
_DUMMY_HASH = (
    "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
)


def hash_password(password: str) -> str:
    """``scrypt$N$r$p$salt$hash`` (base64) of ``password`` with a fresh random salt."""
    password = _password(password)
    salt = secrets.token_bytes(16)
    key = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    encode = base64.b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${encode(salt).decode()}${encode(key).decode()}"


def verify_password(password: str, encoded: str) -> bool:
    """Whether ``password`` matches a hash from :func:`hash_password` (constant time)."""
    try:
        scheme, n, r, p, salt, key = encoded.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key, validate=True)
        actual = _scrypt(
            str(password), base64.b64decode(salt, validate=True), int(n), int(r), int(p)
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


class AdminUsers:
    """Create, check, change and remove admin users."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def create(self, username: str, password: str) -> None:
        """A new admin (raises :class:`Conflict` if the username exists)."""
        username = _username(username)
        encoded = hash_password(password)
        now = times.now()
        applied = self._db.execute(
            "INSERT INTO admin_users (username, password_hash, created_at, updated_at) "
            "VALUES (?, ?, ?, ?) IF NOT EXISTS",
            (username, encoded, now, now),
            op="signup",
        )[0]["[applied]"]
        if not applied:
            raise Conflict(f"admin user {username} exists")

    def verify(self, username: str, password: str) -> bool:
        """Whether the credentials are right; an unknown user costs the same time."""
        try:
            rows = self._db.execute(
                "SELECT password_hash FROM admin_users WHERE username = ?", (_username(username),)
            )
        except ValidationError:
            rows = []
        if not rows:
            verify_password(str(password), _DUMMY_HASH)
            return False
        return verify_password(str(password), rows[0]["password_hash"])

    def set_password(self, username: str, password: str) -> None:
        """Replace the user's password."""
        username = _username(username)
        encoded = hash_password(password)
        applied = self._db.execute(
            "UPDATE admin_users SET password_hash = ?, updated_at = ? WHERE username = ? IF EXISTS",
            (encoded, times.now(), username),
            op="signup",
        )[0]["[applied]"]
        if not applied:
            raise NotFound("admin user", username)

    def password_set_at(self, username: str) -> datetime | None:
        """When the user's password was last set (at creation or a change); None when there is
        no such user. Sessions started before it have ended."""
        rows = self._db.execute(
            "SELECT updated_at FROM admin_users WHERE username = ?", (_username(username),)
        )
        return rows[0]["updated_at"] if rows else None

    def delete(self, username: str) -> None:
        """Remove the user (nothing happens if there is none)."""
        self._db.execute(
            "DELETE FROM admin_users WHERE username = ?", (_username(username),), op="write"
        )

    def list(self) -> list[str]:
        """Every admin username."""
        rows = self._db.stream("SELECT username FROM admin_users", op="read")
        return sorted(row["username"] for row in rows)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024, dklen=32
    )


def _username(value: object) -> str:
    if not isinstance(value, str) or not _USERNAME.match(value.strip().lower()):
        raise ValidationError("username", "must be 2-32 of a-z 0-9 . _ - starting with a letter")
    return value.strip().lower()


def _password(value: object) -> str:
    if not isinstance(value, str):
        raise ValidationError("password", "must be text")
    if not MIN_PASSWORD <= len(value) <= MAX_PASSWORD:
        raise ValidationError("password", f"must be {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return value
