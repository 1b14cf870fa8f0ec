"""The management UI's form fields, parsed and checked in one place.

A :class:`Form` reads one posted form of an :class:`~web.base.BaseHandler`; each of its
methods turns fields into the values storage takes, or raises a
:class:`~web.base.Refusal` (400, 413 or 415) that names the field and what is wrong with it.
Storage then checks the values' own rules (lengths, ranges) once more, for every frontend.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tornado.httputil import HTTPFile

from storage import validate
from web.base import MAX_UPLOAD, BaseHandler, Refusal
from web.images import FORMATS, image_type, media_type

EVENT_FIELDS = (
    "title",
    "short_code",
    "description",
    "location",
    "time_zone",
    "starts_at",
    "ends_at",
    "icon_asset",
    "background_asset",
)
"""The event form's fields besides its uploads."""


@dataclass(frozen=True)
class Upload:
    """A file sent with a form, checked: its part and the media type it is stored with."""

    file: HTTPFile
    media_type: str


@dataclass(frozen=True)
class OptionFields:
    """A sign-up option's fields; ``position`` None keeps it (or appends a new one)."""

    label: str
    capacity: int
    waitlist: bool
    position: int | None


@dataclass(frozen=True)
class KioskFields:
    """A kiosk configuration's fields; its events in the order the form gives."""

    kiosk_id: str
    event_ids: list[UUID]
    welcome: str
    idle_timeout_s: int
    theme: str


def optional_id(value: str, label: str) -> UUID | None:
    """An optional id: None when empty, a 400 naming ``label`` when it is not a UUID."""
    if not value.strip():
        return None
    try:
        return UUID(value.strip())
    except ValueError:
        raise Refusal(400, f"{label} is not a valid id.") from None


def required_id(value: str, label: str) -> UUID:
    """An id that must be given: a 400 naming ``label`` when it is empty or not a UUID."""
    found = optional_id(value, label)
    if found is None:
        raise Refusal(400, f"{label} is missing.")
    return found


def local_time(value: str, zone: str, label: str) -> datetime:
    """A ``datetime-local`` form value in time zone ``zone``."""
    try:
        return datetime.fromisoformat(value.strip()).replace(tzinfo=ZoneInfo(zone))
    except ZoneInfoNotFoundError:
        raise Refusal(400, "Time zone must be an IANA time zone such as America/Chicago.") from None
    except ValueError:
        raise Refusal(400, f"{label} must be a date and time such as 2030-05-01T18:30.") from None


def shortened(filename: str, limit: int) -> str:
    """``filename`` as stored text (NFC, no control characters) cut to ``limit`` characters,
    keeping its extension."""
    filename = "".join(ch for ch in validate.normalised(filename) if not validate.is_control(ch))
    if len(filename) <= limit:
        return filename
    stem, dot, extension = filename.rpartition(".")
    if not dot or len(extension) >= limit // 2:
        return filename[:limit]
    return stem[: limit - len(extension) - 1] + "." + extension


class Form:
    """The fields of the form ``handler`` was posted."""

    def __init__(self, handler: BaseHandler) -> None:
        self._handler = handler

    def text(self, name: str, default: str = "") -> str:
        """A field as text (``default`` when absent)."""
        return self._handler.text(name, default)

    def number(self, name: str, label: str, default: int | None = None) -> int:
        """A field as a whole number."""
        return self._handler.number(name, label, default)

    def checked(self, name: str) -> bool:
        """A check box (sent as ``1``)."""
        return self.text(name) == "1"

    def optional_id(self, name: str, label: str) -> UUID | None:
        """A field holding an optional id."""
        return optional_id(self.text(name), label)

    def upload(self, name: str, image: bool) -> Upload | None:
        """The file sent in ``name``, checked (an image when ``image``); None if none was."""
        files = [f for f in self._handler.request.files.get(name, []) if f.body]
        if not files:
            return None
        part = files[0]
        if len(part.body) > MAX_UPLOAD:
            raise Refusal(413, f"{part.filename} is larger than {MAX_UPLOAD // 2**20} MiB.")
        if image and image_type(part.body[:16]) is None:
            raise Refusal(415, f"{part.filename or 'The file'} is not a {FORMATS} image.")
        return Upload(part, media_type(part.body[:16]))

    def event_fields(self, default_zone: str) -> dict[str, Any]:
        """The event form's fields, as ``Events.create`` and ``update`` take them (an empty
        time zone is ``default_zone``, the site's)."""
        zone = self.text("time_zone").strip() or default_zone
        return {
            "title": self.text("title"),
            "description": self.text("description"),
            "location": self.text("location"),
            "short_code": self.text("short_code"),
            "time_zone": zone,
            "starts_at": local_time(self.text("starts_at"), zone, "Starts at"),
            "ends_at": local_time(self.text("ends_at"), zone, "Ends at"),
            "icon_asset": self.optional_id("icon_asset", "Icon"),
            "background_asset": self.optional_id("background_asset", "Background"),
        }

    def event_values(self) -> dict[str, str]:
        """The event form's fields as they were sent (a refused form shows them again)."""
        return {name: self.text(name) for name in EVENT_FIELDS}

    def event_images(self) -> dict[str, Upload]:
        """The icon and background uploaded with the event form, by the column they fill."""
        fields = {"icon_asset": "icon_file", "background_asset": "background_file"}
        checked = {column: self.upload(field, image=True) for column, field in fields.items()}
        return {column: upload for column, upload in checked.items() if upload is not None}

    def option_fields(self) -> OptionFields:
        """The option form's fields (a negative or missing position means none given)."""
        position = self.number("position", "Position", default=-1)
        return OptionFields(
            label=self.text("label"),
            capacity=self.number("capacity", "Capacity"),
            waitlist=self.checked("waitlist"),
            position=None if position < 0 else position,
        )

    def kiosk_fields(self) -> KioskFields:
        """The kiosk form's fields: its chosen events by their order (ties by id)."""
        chosen = []
        for raw in self._handler.get_body_arguments("event"):
            the_event = optional_id(raw, "Event")
            if the_event is not None:
                chosen.append((self.number(f"order_{raw}", "Order", default=0), str(the_event)))
        return KioskFields(
            kiosk_id=self.text("kiosk_id").strip(),
            event_ids=[UUID(e) for _, e in sorted(chosen)],
            welcome=self.text("welcome"),
            idle_timeout_s=self.number("idle_timeout_s", "Idle timeout", default=60),
            theme=self.text("theme").strip() or "default",
        )
