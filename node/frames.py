"""Length-prefixed msgpack frames, the unit of everything sent over the node link.

A frame is a 4-byte big-endian payload length followed by that many bytes of msgpack. The
decoder is incremental (feed it whatever ``recv`` returned) and strict: a length above the
limit, a payload that is not exactly one msgpack value, or a value that is not a list raises
:class:`FrameError` and the connection is dropped. It never allocates more than the limit.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from typing import Any

import msgpack

HEADER = struct.Struct(">I")
DEFAULT_MAX_FRAME = 8 * 2**20


class FrameError(ValueError):
    """A peer sent bytes that are not a valid frame; the connection must be dropped."""


def encode(value: list[Any]) -> bytes:
    """One frame holding ``value`` (a list of msgpack-able data)."""
    payload = msgpack.packb(value, use_bin_type=True)
    return HEADER.pack(len(payload)) + payload


def encode_many(values: Iterable[list[Any]]) -> bytes:
    """Frames for several values, joined, for one write."""
    return b"".join(encode(value) for value in values)


class FrameDecoder:
    """Splits a byte stream into decoded frames."""

    def __init__(self, max_frame: int = DEFAULT_MAX_FRAME) -> None:
        self.max_frame = max_frame
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[list[Any]]:
        """Add received bytes; return every frame now complete, in order."""
        self._buffer += data
        frames: list[list[Any]] = []
        view = self._buffer
        offset = 0
        size = len(view)
        while size - offset >= HEADER.size:
            (length,) = HEADER.unpack_from(view, offset)
            if length > self.max_frame:
                raise FrameError(f"frame of {length} bytes exceeds the limit of {self.max_frame}")
            end = offset + HEADER.size + length
            if end > size:
                break
            frames.append(_unpack(bytes(view[offset + HEADER.size : end])))
            offset = end
        if offset:
            del self._buffer[:offset]
        return frames

    @property
    def pending(self) -> int:
        """Bytes received but not yet part of a complete frame."""
        return len(self._buffer)


def _unpack(payload: bytes) -> list[Any]:
    try:
        value = msgpack.unpackb(payload, raw=False, strict_map_key=False)
    except (ValueError, TypeError, msgpack.UnpackException) as exc:
        raise FrameError(f"malformed msgpack payload: {exc}") from None
    if not isinstance(value, list) or not value:
        raise FrameError(f"a frame must hold a non-empty list, got {type(value).__name__}")
    return value
