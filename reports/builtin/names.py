"""What the built-in reports' tables call events and options: titles and labels read once
at the coordinator when a run is presented (never scanned by the workers)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from storage.store import Store


@dataclass(frozen=True)
class Names:
    """Event titles (with their start, for ordering) and option labels, by id as str."""

    events: dict[str, tuple[str, datetime | None]]
    options: dict[str, str]

    @classmethod
    def read(cls, store: Store) -> Names:
        """Read at the ``report`` class, as the scans: one Cassandra node will do."""
        events = store.events.list(op="report")
        labels = store.events.labels_of((event.event_id for event in events), op="report")
        return cls(
            events={str(e.event_id): (e.title, e.starts_at) for e in events},
            options={str(option_id): label for option_id, label in labels.items()},
        )

    def event(self, event_id: str | None) -> str:
        """The event's title, or its id's start for an event that is gone."""
        found = self.events.get(str(event_id))
        return found[0] if found else f"(event {str(event_id)[:8]})"

    def option(self, option_id: str) -> str:
        return self.options.get(str(option_id)) or f"(option {str(option_id)[:8]})"

    def order(self, event_id: str | None) -> tuple[int, datetime, str]:
        """A sort key: events by start, then gone ones."""
        found = self.events.get(str(event_id))
        if found is None or found[1] is None:
            return (1, datetime.min, str(event_id))
        return (0, found[1], found[0])


def as_str(value: UUID | str | None) -> str:
    return "" if value is None else str(value)
