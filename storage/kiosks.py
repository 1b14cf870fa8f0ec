"""Kiosk configuration per kiosk id: which events it shows and in what order, its welcome
text, idle timeout and theme."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from storage import times, validate
from storage.errors import NotFound, ValidationError
from storage.session import Database, Row

MAX_EVENTS = 50
MAX_WELCOME = 500
_KIOSK_ID = re.compile(r"^[a-z][a-z0-9_-]{0,47}$")
_THEME = re.compile(r"^[a-z][a-z0-9-]{0,31}$")


@dataclass(frozen=True)
class KioskConfig:
    """What one kiosk shows."""

    kiosk_id: str
    event_ids: tuple[UUID, ...]
    welcome: str
    idle_timeout_s: int
    theme: str
    updated_at: datetime


class Kiosks:
    """Store and read kiosk configurations."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def put(
        self,
        kiosk_id: str,
        event_ids: Sequence[UUID],
        welcome: str = "",
        idle_timeout_s: int = 60,
        theme: str = "default",
    ) -> KioskConfig:
        """Set (create or replace) a kiosk's configuration; events are shown in this order."""
        if isinstance(event_ids, str | bytes) or not all(isinstance(e, UUID) for e in event_ids):
            raise ValidationError("event_ids", "must be a list of event ids (UUIDs)")
        if len(event_ids) > MAX_EVENTS or len(set(event_ids)) != len(event_ids):
            raise ValidationError("event_ids", f"must be at most {MAX_EVENTS} distinct events")
        if not isinstance(theme, str) or not _THEME.match(theme):
            raise ValidationError(
                "theme", "must be a theme name such as 'default' or 'high-contrast'"
            )
        config = KioskConfig(
            kiosk_id=_kiosk_id(kiosk_id),
            event_ids=tuple(event_ids),
            welcome=validate.text(
                "welcome", welcome, max_len=MAX_WELCOME, required=False, lines=True
            ),
            idle_timeout_s=validate.integer("idle_timeout_s", idle_timeout_s, 10, 3600),
            theme=theme,
            updated_at=times.now(),
        )
        self._db.execute(
            "INSERT INTO kiosks (kiosk_id, event_ids, welcome, idle_timeout_s, theme, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                config.kiosk_id,
                list(config.event_ids),
                config.welcome,
                config.idle_timeout_s,
                config.theme,
                config.updated_at,
            ),
            op="write",
        )
        return config

    def get(self, kiosk_id: str) -> KioskConfig:
        """The kiosk's configuration (raises :class:`NotFound`)."""
        rows = self._db.execute("SELECT * FROM kiosks WHERE kiosk_id = ?", (_kiosk_id(kiosk_id),))
        if not rows:
            raise NotFound("kiosk", kiosk_id)
        return _config(rows[0])

    def list(self) -> list[KioskConfig]:
        """Every kiosk's configuration."""
        rows = self._db.stream("SELECT * FROM kiosks", op="read")
        return sorted(map(_config, rows), key=lambda config: config.kiosk_id)

    def delete(self, kiosk_id: str) -> None:
        """Forget a kiosk."""
        self._db.execute(
            "DELETE FROM kiosks WHERE kiosk_id = ?", (_kiosk_id(kiosk_id),), op="write"
        )


def _kiosk_id(value: object) -> str:
    if not isinstance(value, str) or not _KIOSK_ID.match(value):
        raise ValidationError("kiosk_id", "must be a name such as kiosk-1 (a-z 0-9 - _)")
    return value


def _config(row: Row) -> KioskConfig:
    return KioskConfig(
        kiosk_id=row["kiosk_id"],
        event_ids=tuple(row["event_ids"] or ()),
        welcome=row["welcome"] or "",
        idle_timeout_s=row["idle_timeout_s"],
        theme=row["theme"],
        updated_at=times.utc(row["updated_at"]),
    )
