"""What a kiosk shows, as immutable plain data: its welcome, its events in order, their
options with seats, and the images they use (as references to asset versions).

:func:`fetch` reads a kiosk's catalog from Cassandra (the kiosk's configuration, then each
event it lists, in that order); :func:`fetch_seats` refreshes the seats of some events;
:func:`save` and :func:`load_saved` keep the last catalog on disk, so that a kiosk started
while Cassandra is out of reach shows what it last knew. A saved catalog carries the SHA-256
of its content: a truncated or altered file is logged and ignored, never half-read.

Everything here is immutable, so a :class:`Catalog` may be shared between threads freely;
the functions that take a store block on Cassandra (call them off the UI's thread). No
Pygame here: the catalog is plain data.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from uuid import UUID
from zoneinfo import ZoneInfo

from storage import times
from storage.errors import NotFound
from storage.events import Event, SignupOption
from storage.registrations import Seats
from storage.store import Store

log = logging.getLogger("gather.kiosk")

State = Literal["open", "waitlist", "full", "closed", "cancelled"]
DEFAULT_IDLE_TIMEOUT_S = 60
DEFAULT_THEME = "default"
FORMAT = 1
"""The version of the saved catalog's layout."""


@dataclass(frozen=True)
class AssetRef:
    """One version of an asset (an image), with what its bytes must hash to."""

    asset_id: UUID
    version: int
    sha256: str
    size: int


@dataclass(frozen=True)
class OptionCard:
    """One sign-up option of an event, with its seats as last fetched."""

    option_id: UUID
    label: str
    capacity: int
    free: int
    waitlist: bool
    is_open: bool
    waiting: int

    @property
    def state(self) -> State:
        """``closed`` (no sign-ups), ``open`` (seats free), ``waitlist`` (full, but a
        waitlist takes sign-ups) or ``full``."""
        if not self.is_open:
            return "closed"
        if self.free > 0:
            return "open"
        return "waitlist" if self.waitlist else "full"


@dataclass(frozen=True)
class EventCard:
    """One event as the kiosk shows it."""

    event_id: UUID
    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    time_zone: str
    location: str
    is_open: bool
    cancelled: bool
    icon: AssetRef | None
    background: AssetRef | None
    options: tuple[OptionCard, ...]

    @property
    def state(self) -> State:
        """``cancelled`` (by staff, for good), ``closed`` (the event or all its options),
        ``open`` (an open option has seats), ``waitlist`` (an open option takes a waitlist)
        or ``full``."""
        if self.cancelled:
            return "cancelled"
        states = {option.state for option in self.options}
        if not self.is_open or states <= {"closed"}:
            return "closed"
        for state in ("open", "waitlist"):
            if state in states:
                return state
        return "full"

    @property
    def seats_left(self) -> int:
        """Free seats over the open options."""
        return sum(option.free for option in self.options if option.is_open)

    def local_start(self) -> datetime:
        """When the event starts, in its own time zone."""
        return self.starts_at.astimezone(ZoneInfo(self.time_zone))


@dataclass(frozen=True)
class Catalog:
    """Everything one kiosk shows. ``offline``: loaded from disk because Cassandra was out
    of reach (``fetched_at`` then says how old it is)."""

    kiosk_id: str
    welcome: str
    idle_timeout_s: int
    theme: str
    events: tuple[EventCard, ...]
    fetched_at: datetime
    offline: bool

    @classmethod
    def empty(cls, kiosk_id: str, offline: bool = False) -> Catalog:
        """The catalog of a kiosk without a configuration: no events, no welcome text."""
        return cls(
            kiosk_id=kiosk_id,
            welcome="",
            idle_timeout_s=DEFAULT_IDLE_TIMEOUT_S,
            theme=DEFAULT_THEME,
            events=(),
            fetched_at=times.now(),
            offline=offline,
        )

    def event(self, event_id: UUID) -> EventCard | None:
        """The event ``event_id``, if the kiosk shows it."""
        return next((event for event in self.events if event.event_id == event_id), None)

    @property
    def assets(self) -> frozenset[AssetRef]:
        """Every asset version the catalog's events use."""
        return frozenset(
            ref for event in self.events for ref in (event.icon, event.background) if ref
        )

    def with_seats(self, seats: Mapping[UUID, Seats]) -> Catalog:
        """The catalog with these options' seats (options not in ``seats`` stay as they are)."""

        def option(card: OptionCard) -> OptionCard:
            new = seats.get(card.option_id)
            if new is None:
                return card
            return replace(
                card,
                capacity=new.capacity,
                free=new.free,
                waitlist=new.waitlist,
                is_open=new.is_open,
                waiting=new.waiting,
            )

        return replace(
            self,
            events=tuple(
                replace(event, options=tuple(map(option, event.options))) for event in self.events
            ),
        )

    def with_asset(self, asset_id: UUID, ref: AssetRef | None) -> Catalog:
        """The catalog with every use of ``asset_id`` pointing at ``ref`` (None: the asset
        is gone, and the cards that used it show no image)."""

        def swapped(current: AssetRef | None) -> AssetRef | None:
            return ref if current is not None and current.asset_id == asset_id else current

        return replace(
            self,
            events=tuple(
                replace(event, icon=swapped(event.icon), background=swapped(event.background))
                for event in self.events
            ),
        )


def fetch(store: Store, kiosk_id: str) -> Catalog:
    """The kiosk's catalog from Cassandra: its events in its configuration's order (deleted
    ones left out), their images at their latest ready version, their seats now."""
    try:
        config = store.kiosks.get(kiosk_id)
    except NotFound:
        return Catalog.empty(kiosk_id)
    refs: dict[UUID, AssetRef | None] = {}

    def asset(asset_id: UUID | None) -> AssetRef | None:
        if asset_id is None:
            return None
        if asset_id not in refs:
            try:
                info = store.assets.info(asset_id)
            except NotFound:
                refs[asset_id] = None
            else:
                refs[asset_id] = AssetRef(info.asset_id, info.version, info.sha256, info.size)
        return refs[asset_id]

    events = []
    for event_id in config.event_ids:
        try:
            event = store.events.get(event_id)
            options = store.events.options(event_id)
        except NotFound:
            continue
        events.append(_card(event, options, asset(event.icon_asset), asset(event.background_asset)))
    return Catalog(
        kiosk_id=config.kiosk_id,
        welcome=config.welcome,
        idle_timeout_s=config.idle_timeout_s,
        theme=config.theme,
        events=tuple(events),
        fetched_at=times.now(),
        offline=False,
    )


def fetch_seats(store: Store, catalog: Catalog, event_ids: Iterable[UUID]) -> Catalog:
    """``catalog`` with the seats of the options of ``event_ids`` as they are now."""
    wanted = set(event_ids)
    option_ids = [
        option.option_id
        for event in catalog.events
        if event.event_id in wanted
        for option in event.options
    ]
    if not option_ids:
        return catalog
    return catalog.with_seats(store.registrations.seats_of(option_ids))


def save(catalog: Catalog, path: Path) -> None:
    """Write ``catalog`` to ``path`` as JSON with its checksum, atomically."""
    body = _to_data(catalog)
    document = {"format": FORMAT, "sha256": _digest(body), "catalog": body}
    write_atomically(path, [json.dumps(document, ensure_ascii=False, indent=1).encode()])


def load_saved(path: Path) -> Catalog | None:
    """The catalog :func:`save` wrote to ``path`` (``offline``), or None if there is none;
    a file that is unreadable, truncated or fails its checksum is logged and ignored."""
    try:
        document = json.loads(path.read_bytes())
        if document["format"] != FORMAT:
            raise ValueError(f"format {document['format']!r} is not {FORMAT}")
        body = document["catalog"]
        if _digest(body) != document["sha256"]:
            raise ValueError("its content does not match its SHA-256")
        return replace(_from_data(body), offline=True)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.warning("saved kiosk catalog %s ignored, it is unusable: %s", path, exc)
        return None


def write_atomically(path: Path, pieces: Iterable[bytes]) -> None:
    """Write ``pieces`` to ``path`` so that it holds either its old content or all of the new:
    to a temporary file in the same folder, synced, then renamed over ``path``. An exception
    from ``pieces`` (a failed check) leaves ``path`` as it was."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
    try:
        with partial.open("wb") as file:
            for piece in pieces:
                file.write(piece)
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)  # the rename itself survives a power cut
    finally:
        os.close(folder)


def _card(
    event: Event, options: list[SignupOption], icon: AssetRef | None, background: AssetRef | None
) -> EventCard:
    return EventCard(
        event_id=event.event_id,
        title=event.title,
        description=event.description,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        time_zone=event.time_zone,
        location=event.location,
        is_open=event.is_open,
        cancelled=event.cancelled,
        icon=icon,
        background=background,
        options=tuple(
            OptionCard(
                option_id=option.option_id,
                label=option.label,
                capacity=option.seats.capacity,
                free=option.seats.free,
                waitlist=option.seats.waitlist,
                is_open=option.seats.is_open,
                waiting=option.seats.waiting,
            )
            for option in options
        ),
    )


def _digest(body: Any) -> str:
    canonical = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _ref_data(ref: AssetRef | None) -> dict[str, Any] | None:
    if ref is None:
        return None
    return {
        "asset_id": str(ref.asset_id),
        "version": ref.version,
        "sha256": ref.sha256,
        "size": ref.size,
    }


def _ref(data: dict[str, Any] | None) -> AssetRef | None:
    if data is None:
        return None
    return AssetRef(
        UUID(data["asset_id"]), int(data["version"]), str(data["sha256"]), int(data["size"])
    )


def _to_data(catalog: Catalog) -> dict[str, Any]:
    return {
        "kiosk_id": catalog.kiosk_id,
        "welcome": catalog.welcome,
        "idle_timeout_s": catalog.idle_timeout_s,
        "theme": catalog.theme,
        "fetched_at": catalog.fetched_at.isoformat(),
        "events": [
            {
                "event_id": str(event.event_id),
                "title": event.title,
                "description": event.description,
                "starts_at": event.starts_at.isoformat(),
                "ends_at": event.ends_at.isoformat(),
                "time_zone": event.time_zone,
                "location": event.location,
                "is_open": event.is_open,
                "cancelled": event.cancelled,
                "icon": _ref_data(event.icon),
                "background": _ref_data(event.background),
                "options": [
                    {
                        "option_id": str(option.option_id),
                        "label": option.label,
                        "capacity": option.capacity,
                        "free": option.free,
                        "waitlist": option.waitlist,
                        "is_open": option.is_open,
                        "waiting": option.waiting,
                    }
                    for option in event.options
                ],
            }
            for event in catalog.events
        ],
    }


def _from_data(data: dict[str, Any]) -> Catalog:
    return Catalog(
        kiosk_id=str(data["kiosk_id"]),
        welcome=str(data["welcome"]),
        idle_timeout_s=int(data["idle_timeout_s"]),
        theme=str(data["theme"]),
        fetched_at=_moment(data["fetched_at"]),
        offline=True,
        events=tuple(
            EventCard(
                event_id=UUID(event["event_id"]),
                title=str(event["title"]),
                description=str(event["description"]),
                starts_at=_moment(event["starts_at"]),
                ends_at=_moment(event["ends_at"]),
                time_zone=str(event["time_zone"]),
                location=str(event["location"]),
                is_open=bool(event["is_open"]),
                # absent from a catalog saved before the kiosk showed cancellations
                cancelled=bool(event.get("cancelled", False)),
                icon=_ref(event["icon"]),
                background=_ref(event["background"]),
                options=tuple(
                    OptionCard(
                        option_id=UUID(option["option_id"]),
                        label=str(option["label"]),
                        capacity=int(option["capacity"]),
                        free=int(option["free"]),
                        waitlist=bool(option["waitlist"]),
                        is_open=bool(option["is_open"]),
                        waiting=int(option["waiting"]),
                    )
                    for option in event["options"]
                ),
            )
            for event in data["events"]
        ),
    )


def _moment(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone")
    return moment
