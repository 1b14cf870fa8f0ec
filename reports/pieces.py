"""Partials on the node link: msgpack pieces under a byte budget, and keyed contact hashes.

A worker sends a range's :data:`~reports.definition.Partial` as one or more pieces, each at
most ``budget`` bytes (a little under the link's ``max_frame_kb``), so that no frame is ever
refused for its size however many keys a range has. A piece is a msgpack array of
``[key, counts]`` entries; a UUID in a key goes as its str.

What is counted per person crosses the link as :func:`contact_hasher`'s keyed hashes: the key
is derived from the cluster cookie and the run's id on each node, so it never travels, and
hashes of two runs cannot be matched up.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any
from uuid import UUID

import msgpack

from reports.definition import Key, Partial

FRAME_MARGIN = 4096
"""Bytes of a frame left for the answer around a piece (its message name and fields)."""
HASH_BYTES = 16
"""A contact's keyed hash: 128 bits, so two people of a community never share one."""


def budget(max_frame_bytes: int) -> int:
    """The largest piece that fits a frame of the link's limit."""
    return max(1024, max_frame_bytes - FRAME_MARGIN)


def pack(partial: Partial, limit: int) -> list[bytes]:
    """``partial`` as pieces of at most ``limit`` bytes each (at least one piece)."""
    packer = msgpack.Packer(use_bin_type=True)
    pieces: list[bytes] = []
    entries: list[bytes] = []
    size = 5  # the largest array header
    for key, counts in partial.items():
        entry = packer.pack([[_plain(part) for part in key], counts])
        if entries and size + len(entry) > limit:
            pieces.append(_array(packer, entries))
            entries, size = [], 5
        if size + len(entry) > limit:
            raise ValueError(f"one entry of a partial is {len(entry)} bytes, over {limit}")
        entries.append(entry)
        size += len(entry)
    pieces.append(_array(packer, entries))
    return pieces


def unpack(piece: bytes) -> Partial:
    """The entries of one piece, keys as tuples again."""
    entries = msgpack.unpackb(piece, raw=False, use_list=True)
    return {tuple(key): counts for key, counts in entries}


def contact_hasher(cookie: bytes, job: str) -> Callable[[str], bytes]:
    """The keyed hash of contacts for run ``job``: the same on every node of the cluster."""
    key = hmac.new(cookie, b"gather reports " + job.encode(), hashlib.sha256).digest()

    def contact_hash(contact: str) -> bytes:
        return hashlib.blake2b(contact.encode(), key=key, digest_size=HASH_BYTES).digest()

    return contact_hash


def _array(packer: msgpack.Packer, entries: list[bytes]) -> bytes:
    return packer.pack_array_header(len(entries)) + b"".join(entries)


def _plain(part: Any) -> Any:
    return str(part) if isinstance(part, UUID) else part


__all__ = ["Key", "budget", "contact_hasher", "pack", "unpack"]
