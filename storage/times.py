"""Time as storage keeps it: aware UTC datetimes at Cassandra's millisecond precision."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import overload
from uuid import UUID

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_UUID_EPOCH_TICKS = 0x01B21DD213814000


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


def of_uuid(time_uuid: UUID) -> datetime:
    """The time in a time-based UUID (100 ns ticks since 1582-10-15), to the microsecond."""
    return _EPOCH + timedelta(microseconds=(time_uuid.time - _UUID_EPOCH_TICKS) // 10)
