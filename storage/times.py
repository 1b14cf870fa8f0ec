"""Time as storage keeps it: aware UTC datetimes at Cassandra's millisecond precision."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload


def now() -> datetime:
    """The current time, UTC, truncated to the millisecond."""
    at = datetime.now(UTC)
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


@overload
def utc(value: datetime) -> datetime: ...


@overload
def utc(value: None) -> None: ...


def utc(value: datetime | None) -> datetime | None:
    """A timestamp read from Cassandra (naive UTC) as an aware UTC datetime."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
