"""Test data that several test modules need: an event with one sign-up option."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.events import Event, SignupOption
from storage.store import Store


def make_event(
    store: Store, code: str, capacity: int = 5, waitlist: bool = True
) -> tuple[Event, SignupOption]:
    """An open event starting tomorrow with one option; (event, option)."""
    start = datetime.now(UTC) + timedelta(days=1)
    event = store.events.create(
        title=f"Event {code}",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        time_zone="UTC",
        short_code=code,
    )
    return event, store.events.add_option(event.event_id, "Main", capacity, waitlist)
