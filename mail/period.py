"""Which period a digest covers, from the watermark and the schedule.

The digest is due once a day at ``mail.send_at`` in ``mail.time_zone``: its *slots*. A digest
is due when the watermark (the end of the last digest sent, :mod:`storage.watermarks`) is
older than the latest slot; it covers from the watermark to now. After downtime that is one
digest for the whole gap, a catch-up (the watermark is older than the slot before the latest:
at least one slot passed with nothing sent). With no watermark yet (the first digest ever),
it covers the day before the latest slot.

Pure functions of their arguments; times are aware datetimes.

Example::

    >>> from datetime import UTC, datetime, time
    >>> from zoneinfo import ZoneInfo
    >>> now = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    >>> period = due(None, now, time(7, 0), ZoneInfo("Europe/London"))
    >>> period.start.isoformat(), period.catch_up
    ('2026-12-01T07:00:00+00:00', False)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Period:
    """What one digest covers: after ``start``, up to and including ``end``."""

    start: datetime
    end: datetime
    catch_up: bool
    """At least one earlier slot passed without a digest: this one covers the whole gap."""
    missed: int
    """How many slots this digest stands for (1 normally; 3 after three days off)."""

    @property
    def key(self) -> str:
        """The claim's key: the period's start. Every node that would send a digest from the
        same watermark contends for the same claim, whether by schedule or by hand."""
        return self.start.astimezone(UTC).isoformat(timespec="milliseconds")


def slot_on(day: datetime, send_at: time, zone: ZoneInfo) -> datetime:
    """The slot of ``day``'s local date in ``zone`` (a time that does not exist that day,
    in a daylight-saving gap, is taken as zoneinfo takes it: shifted by the gap)."""
    local = day.astimezone(zone).date()
    return datetime.combine(local, send_at, tzinfo=zone).astimezone(UTC)


def latest_slot(now: datetime, send_at: time, zone: ZoneInfo) -> datetime:
    """The latest slot at or before ``now``."""
    today = slot_on(now, send_at, zone)
    if today <= now:
        return today
    return slot_on(now.astimezone(zone) - timedelta(days=1), send_at, zone)


def next_slot(now: datetime, send_at: time, zone: ZoneInfo) -> datetime:
    """The first slot after ``now``."""
    today = slot_on(now, send_at, zone)
    if today > now:
        return today
    return slot_on(now.astimezone(zone) + timedelta(days=1), send_at, zone)


def due(watermark: datetime | None, now: datetime, send_at: time, zone: ZoneInfo) -> Period | None:
    """The period the digest should cover now, or None while the last digest covers the
    latest slot."""
    latest = latest_slot(now, send_at, zone)
    if watermark is not None and watermark >= latest:
        return None
    before = latest_slot(latest - timedelta(seconds=1), send_at, zone)
    if watermark is None:
        return Period(start=before, end=now, catch_up=False, missed=1)
    missed = 1
    slot = before
    while watermark < slot and missed < 10_000:
        missed += 1
        slot = latest_slot(slot - timedelta(seconds=1), send_at, zone)
    return Period(start=watermark, end=now, catch_up=missed > 1, missed=missed)


def by_hand(watermark: datetime | None, now: datetime, send_at: time, zone: ZoneInfo) -> Period:
    """The period of a digest sent now by hand ("send now"): from the watermark (or, with
    none, from the slot before the latest) to now."""
    period = due(watermark, now, send_at, zone)
    if period is not None:
        return period
    assert watermark is not None  # due() only says nothing is due after a digest was sent
    return Period(start=watermark, end=now, catch_up=False, missed=0)
