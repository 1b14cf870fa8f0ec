"""A registration and its event as they were at one moment, as text: the body of a notice
that must go out as it was owed (:data:`storage.notices.SNAPSHOT_KINDS`), even when the event
is deleted and its ledger purged before it is sent.

Example::

    body = snapshot(registration, event)
    registration, event = unpack(body)
"""

from __future__ import annotations

import json
import typing
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from storage.events import Event
from storage.registrations import Registration

R = TypeVar("R", Registration, Event)


def snapshot(registration: Registration, event: Event) -> str:
    """The body of a :data:`~storage.notices.SNAPSHOT_KINDS` notice: the registration
    (without its idempotency key and node) and the event (without its description) as they
    are announced."""
    kept = replace(registration, idempotency_key="", node="")
    shown = replace(event, description="")
    return json.dumps({"registration": _plain(kept), "event": _plain(shown)}, separators=(",", ":"))


def unpack(body: str) -> tuple[Registration, Event]:
    """The registration and the event a :func:`snapshot` holds (a field the dataclass no
    longer has is left out; one it has gained takes its default). Raises ``ValueError``,
    ``KeyError`` or ``TypeError`` for a body that is no snapshot."""
    data = json.loads(body)
    return _revived(Registration, data["registration"]), _revived(Event, data["event"])


def _plain(value: Registration | Event) -> dict[str, object]:
    return {name: _jsonable(item) for name, item in vars(value).items()}


def _jsonable(item: object) -> object:
    if isinstance(item, UUID):
        return str(item)
    return item.isoformat() if isinstance(item, datetime) else item


def _revived(cls: type[R], data: dict[str, object]) -> R:
    """An instance of ``cls`` from :func:`_plain`'s fields, each of the type ``cls`` says."""
    hints = typing.get_type_hints(cls)
    fields: dict[str, Any] = {}
    for name, item in data.items():
        if name not in hints:
            continue
        hint = str(hints[name])
        if item is not None and "UUID" in hint:
            item = UUID(str(item))
        elif item is not None and "datetime" in hint:
            item = datetime.fromisoformat(str(item))
        fields[name] = item
    return cls(**fields)
