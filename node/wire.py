"""Messages as plain, versioned data: dataclasses to and from msgpack-able lists.

Register a message type with :func:`message`::

    @message("asset_changed")
    class AssetChanged:
        asset_id: str
        version: int

``to_wire(AssetChanged("a1", 3))`` gives ``["asset_changed", 1, {"asset_id": "a1",
"version": 3}]``; ``from_wire`` turns it back, ignoring fields it does not know (a newer sender
may add some) and filling missing ones from their defaults. Plain data (None, bool, int,
float, str, bytes, lists and dicts of them) travels as ``[None, 0, data]``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar, dataclass_transform

T = TypeVar("T")

_TYPES: dict[str, type] = {}


class WireError(ValueError):
    """Data received from a peer does not describe a known message."""


@dataclass_transform(frozen_default=True)
def message(name: str, version: int = 1) -> Callable[[type[T]], type[T]]:
    """Class decorator: make ``cls`` a frozen dataclass and register it under ``name``."""

    def register(cls: type[T]) -> type[T]:
        if name in _TYPES and _TYPES[name].__qualname__ != cls.__qualname__:
            raise ValueError(f"wire message name {name!r} is already used by {_TYPES[name]}")
        data_cls = cls if dataclasses.is_dataclass(cls) else dataclasses.dataclass(frozen=True)(cls)
        data_cls.__wire_name__ = name  # type: ignore[attr-defined]
        data_cls.__wire_version__ = version  # type: ignore[attr-defined]
        data_cls.__wire_fields__ = frozenset(f.name for f in dataclasses.fields(data_cls))  # type: ignore[attr-defined, arg-type]
        _TYPES[name] = data_cls
        return data_cls

    return register


def to_wire(value: Any) -> list[Any]:
    """The msgpack-able form of a registered message or of plain data."""
    name = getattr(type(value), "__wire_name__", None)
    if name is None:
        return [None, 0, value]
    return [name, type(value).__wire_version__, _fields(value)]


def from_wire(data: Any) -> Any:
    """The message (or plain data) that ``to_wire`` produced; :class:`WireError` if malformed."""
    if not isinstance(data, list) or len(data) != 3:
        raise WireError("a message is a list of [type, version, fields]")
    name, _version, body = data
    if name is None:
        return body
    cls = _TYPES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise WireError(f"unknown message type {name!r}")
    if not isinstance(body, dict):
        raise WireError(f"{name}: fields must be a map")
    known = cls.__wire_fields__  # type: ignore[attr-defined]
    try:
        return cls(**{key: value for key, value in body.items() if key in known})
    except TypeError as exc:
        raise WireError(f"{name}: {exc}") from None


def _fields(value: Any) -> dict[str, Any]:
    return {field: getattr(value, field) for field in type(value).__wire_fields__}
