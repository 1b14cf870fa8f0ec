"""Events and their sign-up options.

An event row holds what members see (title, description, images, times, place) and its short
code; ``event_codes`` makes a short code belong to one event (claimed with a lightweight
transaction). Options are listed in ``event_options`` (label, position); their seats live in
the sign-up ledger of :mod:`storage.registrations`, which is the authority on capacity, waitlist
and whether sign-ups are open. Deleting an event archives it with its options and registrations
first; an archive can be restored. Cancelling an event (:meth:`Events.cancel`) is not deleting
it: it stays, closed for good and shown as cancelled, and :mod:`notices.announcer` tells its
registrants.
"""

from __future__ import annotations

import builtins
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from cassandra.query import UNSET_VALUE

from storage import times, validate
from storage.archive import Archive, ArchiveEntry, Record
from storage.errors import Conflict, NotFound, ValidationError
from storage.flow import OpClass
from storage.registrations import MAX_CAPACITY, Registration, Registrations, Seats
from storage.session import Database, Row

MAX_TITLE = 200
MAX_DESCRIPTION = 5000
MAX_LOCATION = 300
MAX_LABEL = 100
MAX_POSITION = 1000
ORPHAN_CODE_AGE = timedelta(minutes=5)
_EVENT_COLUMNS = (
    "event_id, title, description, icon_asset, background_asset, starts_at, ends_at, "
    "time_zone, location, short_code, is_open, created_at, updated_at, cancelled_at"
)

_SELECT_EVENT = f"SELECT {_EVENT_COLUMNS} FROM events WHERE event_id = ?"
_SELECT_STATES = "SELECT event_id, is_open, ends_at, cancelled_at, updated_at FROM events"

_SELECT_OPTIONS = (
    "SELECT event_id, option_id, label, position FROM event_options WHERE event_id = ?"
)

HORIZON = timedelta(days=3653)
"""How far from now an event may start or end, before or after: ten years."""


@dataclass(frozen=True)
class Event:
    """An event members can sign up for."""

    event_id: UUID
    title: str
    description: str
    icon_asset: UUID | None
    background_asset: UUID | None
    starts_at: datetime
    ends_at: datetime
    time_zone: str
    location: str
    short_code: str
    is_open: bool
    created_at: datetime
    updated_at: datetime
    cancelled_at: datetime | None = None
    """When staff cancelled it (:meth:`Events.cancel`): closed for good, its registrants told."""

    @property
    def cancelled(self) -> bool:
        """Whether staff cancelled it."""
        return self.cancelled_at is not None


@dataclass(frozen=True)
class EventState:
    """What decides whether members are shown an event, and when it last changed (its options
    too), as the light scan of every event reads it (:meth:`Events.states`); an
    :class:`Event` has the same fields."""

    event_id: UUID
    is_open: bool
    ends_at: datetime
    cancelled: bool
    updated_at: datetime


@dataclass(frozen=True)
class SignupOption:
    """One thing to sign up for within an event, with its seats."""

    option_id: UUID
    event_id: UUID
    label: str
    position: int
    seats: Seats


def _asset(field: str, value: object) -> UUID | None:
    if value is not None and not isinstance(value, UUID):
        raise ValidationError(field, "must be an asset id (UUID) or nothing")
    return value


_FIELDS: dict[str, Callable[[object], Any]] = {
    "title": lambda v: validate.text("title", v, max_len=MAX_TITLE),
    "description": lambda v: validate.text(
        "description", v, max_len=MAX_DESCRIPTION, required=False, lines=True
    ),
    "icon_asset": lambda v: _asset("icon_asset", v),
    "background_asset": lambda v: _asset("background_asset", v),
    "starts_at": lambda v: validate.moment("starts_at", v, within=HORIZON),
    "ends_at": lambda v: validate.moment("ends_at", v, within=HORIZON),
    "time_zone": lambda v: validate.time_zone(v),
    "location": lambda v: validate.text("location", v, max_len=MAX_LOCATION, required=False),
    "short_code": lambda v: validate.short_code(v),
}


class Events:
    """Create, change, list, delete (archiving) and restore events and their options."""

    def __init__(self, db: Database, registrations: Registrations, archive: Archive) -> None:
        self._db = db
        self._registrations = registrations
        self._archive = archive

    def create(
        self,
        *,
        title: str,
        starts_at: datetime,
        ends_at: datetime,
        time_zone: str,
        short_code: str,
        description: str = "",
        location: str = "",
        icon_asset: UUID | None = None,
        background_asset: UUID | None = None,
        is_open: bool = True,
    ) -> Event:
        """A new event; its ``short_code`` must not belong to another event (:class:`Conflict`)."""
        fields = _validated(
            {
                "title": title,
                "description": description,
                "icon_asset": icon_asset,
                "background_asset": background_asset,
                "starts_at": starts_at,
                "ends_at": ends_at,
                "time_zone": time_zone,
                "location": location,
                "short_code": short_code,
            }
        )
        now = times.now()
        event = Event(
            event_id=uuid4(), is_open=bool(is_open), created_at=now, updated_at=now, **fields
        )
        self._claim_code(event.short_code, event.event_id)
        self._write(event)
        return event

    def get(self, event_id: UUID) -> Event:
        """The event (raises :class:`NotFound`)."""
        rows = self._db.execute(_SELECT_EVENT, (event_id,))
        if not rows:
            raise NotFound("event", event_id)
        return _event(rows[0])

    def get_many(self, event_ids: Iterable[UUID]) -> builtins.list[Event]:
        """Those of the events that exist, read concurrently, by start time."""
        pending = [self._db.submit(_SELECT_EVENT, (event_id,)) for event_id in event_ids]
        return sorted(
            (_event(rows[0]) for request in pending if (rows := request.result())),
            key=start_order,
        )

    def by_code(self, short_code: str) -> Event:
        """The event a member texts ``short_code`` for (any case)."""
        code = validate.short_code(short_code)
        rows = self._db.execute("SELECT event_id FROM event_codes WHERE short_code = ?", (code,))
        if not rows:
            raise NotFound("event with short code", code)
        return self.get(rows[0]["event_id"])

    def list(self, op: OpClass = "read") -> list[Event]:
        """Every event, by start time (``op="report"``: where a moment-old list will do)."""
        rows = self._db.stream(f"SELECT {_EVENT_COLUMNS} FROM events", op=op)
        return sorted((_event(row) for row in rows), key=start_order)

    def states(self) -> builtins.list[EventState]:
        """Every event's open, ended, cancelled and changed state: five columns of each row,
        for the frontends that look every few seconds for the few upcoming events among all
        ever made (then read those whole, :meth:`get_many`)."""
        return [
            EventState(
                event_id=row["event_id"],
                is_open=bool(row["is_open"]),
                ends_at=times.utc(row["ends_at"]),
                cancelled=row["cancelled_at"] is not None,
                updated_at=times.utc(row["updated_at"]),
            )
            for row in self._db.stream(_SELECT_STATES, op="read")
        ]

    def update(self, event_id: UUID, **changes: Any) -> Event:
        """Change any of the fields given to :meth:`create` except ``is_open``."""
        event = self.get(event_id)
        updated = changed(event, changes)
        code_changed = updated.short_code != event.short_code
        if code_changed:
            self._claim_code(updated.short_code, event_id)
        applied = self._db.execute(  # never is_open: a concurrent set_open must stand
            f"UPDATE events SET {', '.join(f'{name} = ?' for name in _FIELDS)}, updated_at = ? "
            "WHERE event_id = ? IF EXISTS",
            (*(getattr(updated, name) for name in _FIELDS), updated.updated_at, event_id),
            op="signup",
        )[0]["[applied]"]
        if not applied:  # deleted meanwhile
            if code_changed:
                self._release_code(updated.short_code, event_id)
            raise NotFound("event", event_id)
        if code_changed:
            self._release_code(event.short_code, event_id)
        return updated

    def set_open(self, event_id: UUID, is_open: bool) -> Event:
        """Open or close the event for sign-ups (every option follows); a cancelled event
        cannot be opened again (:class:`Conflict`)."""
        event = self.get(event_id)
        if is_open and event.cancelled:
            raise Conflict("the event was cancelled; it cannot be opened for sign-ups again")
        for option_id in self._option_ids(event_id):
            self._registrations.configure(option_id, is_open=bool(is_open))
        self._db.execute(
            "UPDATE events SET is_open = ?, updated_at = ? WHERE event_id = ?",
            (bool(is_open), times.now(), event_id),
            op="write",
        )
        return self.get(event.event_id)

    def cancel(self, event_id: UUID, at: datetime) -> Event:
        """Cancel the event as of ``at``: sign-ups closed for good, the event kept and shown as
        cancelled. Cancelling it again keeps the first moment. Whom to tell is
        :mod:`notices.announcer`'s business."""
        event = self.set_open(event_id, False)
        if event.cancelled:
            return event
        applied = self._db.execute(
            "UPDATE events SET cancelled_at = ?, updated_at = ? WHERE event_id = ? "
            "IF cancelled_at = null",
            (validate.moment("at", at), times.now(), event_id),
            op="signup",
        )[0]["[applied]"]
        if not applied and not self._db.execute(
            "SELECT event_id FROM events WHERE event_id = ?", (event_id,)
        ):
            raise NotFound("event", event_id)
        return self.get(event_id)

    def add_option(
        self,
        event_id: UUID,
        label: str,
        capacity: int,
        waitlist: bool = False,
        position: int | None = None,
    ) -> SignupOption:
        """A new sign-up option with ``capacity`` seats (and a waitlist when ``waitlist``)."""
        label = validate.text("label", label, max_len=MAX_LABEL)
        if position is not None:
            position = validate.integer("position", position, 0, MAX_POSITION)
        validate.integer("capacity", capacity, 0, MAX_CAPACITY)
        event = _not_cancelled(self.get(event_id))
        if position is None:
            position = len(self._option_ids(event_id))
        option_id = uuid4()
        seats = self._registrations.open_option(
            option_id, event_id, capacity, bool(waitlist), event.is_open
        )
        self._write_option(event_id, option_id, label, position)
        self._touch(event_id)
        return SignupOption(option_id, event_id, label, position, seats)

    def update_option(
        self,
        event_id: UUID,
        option_id: UUID,
        *,
        label: str | None = None,
        position: int | None = None,
        capacity: int | None = None,
        waitlist: bool | None = None,
    ) -> tuple[SignupOption, tuple[Registration, ...]]:
        """Change an option; returns it and whom a larger capacity promoted from the waitlist.
        A cancelled event's options cannot be changed (:class:`Conflict`)."""
        _not_cancelled(self.get(event_id))
        option = self.option(event_id, option_id)
        label = option.label if label is None else validate.text("label", label, max_len=MAX_LABEL)
        if position is not None:
            validate.integer("position", position, 0, MAX_POSITION)
        else:
            position = option.position
        seats, promoted = self._registrations.configure(
            option_id, capacity=capacity, waitlist=waitlist
        )
        self._write_option(event_id, option_id, label, position)
        self._touch(event_id)
        return SignupOption(option_id, event_id, label, position, seats), promoted

    def option(self, event_id: UUID, option_id: UUID) -> SignupOption:
        """One option of the event (raises :class:`NotFound`)."""
        for option in self.options(event_id):
            if option.option_id == option_id:
                return option
        raise NotFound("sign-up option", option_id)

    def options(self, event_id: UUID) -> builtins.list[SignupOption]:
        """The event's options in display order, each with its current seats."""
        return self.options_of([event_id])[event_id]

    def options_of(self, event_ids: Iterable[UUID]) -> dict[UUID, builtins.list[SignupOption]]:
        """The options of several events, as :meth:`options` gives them: every event's option
        rows read concurrently, then every option's seats."""
        rows = self._option_rows_of(event_ids)
        seats = self._registrations.seats_of(
            row["option_id"] for found in rows.values() for row in found
        )
        return {
            event_id: sorted(
                (
                    SignupOption(oid, event_id, row["label"], row["position"], seats[oid])
                    for row in found
                    if (oid := row["option_id"]) in seats
                ),
                key=lambda o: (o.position, o.label),
            )
            for event_id, found in rows.items()
        }

    def labels_of(self, event_ids: Iterable[UUID], op: OpClass = "read") -> dict[UUID, str]:
        """The labels of several events' options, by option id (no seats read)."""
        rows = self._option_rows_of(event_ids, op)
        return {row["option_id"]: row["label"] for found in rows.values() for row in found}

    def _option_rows_of(
        self, event_ids: Iterable[UUID], op: OpClass = "read"
    ) -> dict[UUID, builtins.list[Row]]:
        """Every event's option rows, read concurrently."""
        pending = [
            (event_id, self._db.submit(_SELECT_OPTIONS, (event_id,), op)) for event_id in event_ids
        ]
        return {event_id: request.result() for event_id, request in pending}

    def delete(self, event_id: UUID) -> ArchiveEntry:
        """Archive the event with its options and registrations, then delete them all.

        Sign-ups are closed first, so the archive holds everything that was ever confirmed.
        """
        event = self.get(event_id)
        option_rows = self._option_rows(event_id)
        for row in option_rows:
            self._registrations.configure(row["option_id"], is_open=False)
        entry = self._archive.write(
            "event", str(event_id), event.title, self._records(event, option_rows)
        )
        for row in option_rows:
            self._registrations.purge(row["option_id"])
        self._db.execute("DELETE FROM event_options WHERE event_id = ?", (event_id,), op="write")
        self._release_code(event.short_code, event_id)
        self._db.execute("DELETE FROM events WHERE event_id = ?", (event_id,), op="write")
        return entry

    def restore(self, entry: ArchiveEntry) -> Event:
        """Bring back an archived event with its options and registrations, as it was."""
        if entry.kind != "event":
            raise ValidationError("entry", f"is an archive of a {entry.kind}, not an event")
        records = self._archive.records(entry)
        _, row = next(records)
        event = _event(row)
        if self._db.execute("SELECT event_id FROM events WHERE event_id = ?", (event.event_id,)):
            raise Conflict(f"event {event.event_id} exists; delete it before restoring it")
        self._claim_code(event.short_code, event.event_id)
        restored = []
        for option_id, group in itertools.groupby(records, key=lambda rec: rec[1]["option_id"]):
            rows = (data for _, data in group)
            option_row = next(rows)
            self._registrations.restore(option_id, rows)
            self._write_option(
                event.event_id, option_id, option_row["label"], option_row["position"]
            )
            restored.append(option_id)
        self._write(event)
        for option_id in restored:
            self._registrations.configure(option_id, is_open=event.is_open)
        return event

    def _records(self, event: Event, option_rows: Iterable[Row]) -> Iterator[Record]:
        yield "event", event.__dict__
        for row in option_rows:
            yield "option", row
            for ledger_row in self._registrations.export(row["option_id"]):
                yield "ledger", ledger_row

    def _write(self, event: Event) -> None:
        """Write a new event's row. An empty field is left unset, not written as null: a null
        is a tombstone, which every scan of the table (:meth:`list`) would read for ten days."""
        values = (getattr(event, column.strip()) for column in _EVENT_COLUMNS.split(","))
        self._db.execute(
            f"INSERT INTO events ({_EVENT_COLUMNS}) VALUES ({', '.join('?' * 14)})",
            tuple(UNSET_VALUE if value is None else value for value in values),
            op="write",
        )

    def _touch(self, event_id: UUID) -> None:
        """Mark the event changed (its options were): catalogs that keep an unchanged event's
        options (``signups.upcoming_with_options``) read them again. ``IF EXISTS``: never a
        row of ``updated_at`` alone for an event deleted meanwhile."""
        self._db.execute(
            "UPDATE events SET updated_at = ? WHERE event_id = ? IF EXISTS",
            (times.now(), event_id),
            op="signup",
        )

    def _write_option(self, event_id: UUID, option_id: UUID, label: str, position: int) -> None:
        self._db.execute(
            "INSERT INTO event_options (event_id, option_id, label, position) VALUES (?, ?, ?, ?)",
            (event_id, option_id, label, position),
            op="write",
        )

    def _option_rows(self, event_id: UUID) -> builtins.list[Row]:
        return self._db.execute(_SELECT_OPTIONS, (event_id,))

    def _option_ids(self, event_id: UUID) -> builtins.list[UUID]:
        return [row["option_id"] for row in self._option_rows(event_id)]

    def _claim_code(self, code: str, event_id: UUID) -> None:
        """Make ``code`` this event's, taking it over only from an event that never got
        written (a creation that crashed between claiming the code and writing the event)."""
        row = self._db.execute(
            "INSERT INTO event_codes (short_code, event_id, claimed_at) VALUES (?, ?, ?) "
            "IF NOT EXISTS",
            (code, event_id, times.now()),
            op="signup",
        )[0]
        owner = row.get("event_id")
        if row["[applied]"] or owner == event_id:
            return
        claimed_at = times.utc(row["claimed_at"])
        orphan = (
            claimed_at is not None
            and times.now() - claimed_at > ORPHAN_CODE_AGE
            and not self._db.execute("SELECT event_id FROM events WHERE event_id = ?", (owner,))
        )
        if not orphan:
            raise Conflict(f"short code {code} belongs to another event")
        taken = self._db.execute(
            "UPDATE event_codes SET event_id = ?, claimed_at = ? WHERE short_code = ? "
            "IF event_id = ?",
            (event_id, times.now(), code, owner),
            op="signup",
        )[0]
        if not taken["[applied]"]:
            raise Conflict(f"short code {code} belongs to another event")

    def _release_code(self, code: str, event_id: UUID) -> None:
        self._db.execute(
            "DELETE FROM event_codes WHERE short_code = ? IF event_id = ?",
            (code, event_id),
            op="signup",
        )


def _not_cancelled(event: Event) -> Event:
    if event.cancelled:
        raise Conflict("the event was cancelled; its options cannot be added to or changed")
    return event


def changed(event: Event, changes: dict[str, Any]) -> Event:
    """``event`` with ``changes`` (fields given to :meth:`Events.create` but ``is_open``),
    checked as :meth:`Events.update` checks them, updated now; nothing is written."""
    unknown = set(changes) - set(_FIELDS)
    if unknown:
        raise ValidationError(sorted(unknown)[0], "is not a field of an event")
    fields = _validated({name: getattr(event, name) for name in _FIELDS} | changes)
    return replace(event, updated_at=times.now(), **fields)


def _validated(fields: dict[str, Any]) -> dict[str, Any]:
    clean = {name: _FIELDS[name](value) for name, value in fields.items()}
    if clean["ends_at"] < clean["starts_at"]:
        raise ValidationError("ends_at", "must not be before starts_at")
    return clean


def start_order(event: Event) -> tuple[datetime, str]:
    """How events are listed: by start time, then title."""
    return event.starts_at, event.title


def _event(row: Row) -> Event:
    return Event(
        event_id=row["event_id"],
        title=row["title"],
        description=row["description"] or "",
        icon_asset=row["icon_asset"],
        background_asset=row["background_asset"],
        starts_at=times.utc(row["starts_at"]),
        ends_at=times.utc(row["ends_at"]),
        time_zone=row["time_zone"],
        location=row["location"] or "",
        short_code=row["short_code"],
        is_open=bool(row["is_open"]),
        created_at=times.utc(row["created_at"]),
        updated_at=times.utc(row["updated_at"]),
        cancelled_at=times.utc(row.get("cancelled_at")),
    )
