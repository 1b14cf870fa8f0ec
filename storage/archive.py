"""Archive files: what a deletion removes from Cassandra is first written here, restorable.

An archive is one msgpack file under the data folder (``var/archive/``): a header map (format,
kind, key, label, archived_at) followed by ``(record kind, data)`` pairs, written and read one
record at a time so that large assets never sit whole in memory. A file appears under its final
name only once complete (written to a temporary name, synced, then renamed).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO
from uuid import UUID

import msgpack

from config.cluster import ClusterConfig
from storage import times
from storage.errors import CorruptData

FORMAT = 1
_UUID = 1
_DATETIME = 2
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Record = tuple[str, Any]


@dataclass(frozen=True)
class ArchiveEntry:
    """One archive file: what it holds and when it was written."""

    path: Path
    kind: str
    key: str
    label: str
    archived_at: datetime


class Archive:
    """The archive folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @classmethod
    def of(cls, config: ClusterConfig) -> Archive:
        """The archive folder of the cluster described by ``config`` (``var/archive``)."""
        return cls(config.root / "var" / "archive")

    def write(self, kind: str, key: str, label: str, records: Iterable[Record]) -> ArchiveEntry:
        """Write one archive of ``records``; returns it once it is safely on disk."""
        self.folder.mkdir(parents=True, exist_ok=True)
        archived_at = times.now()
        path = self.folder / f"{archived_at:%Y%m%dT%H%M%S%f}-{kind}-{key}.msgpack"
        partial = path.with_suffix(".partial")
        packer = msgpack.Packer(default=_encode)
        header = {"format": FORMAT, "kind": kind, "key": key, "label": label}
        with partial.open("wb") as out:
            out.write(packer.pack(header | {"archived_at": archived_at}))
            for record in records:
                out.write(packer.pack(record))
            out.flush()
            os.fsync(out.fileno())
        partial.rename(path)
        _sync_folder(self.folder)
        return ArchiveEntry(path, kind, key, label, archived_at)

    def entries(self, kind: str | None = None) -> list[ArchiveEntry]:
        """Every archive (of ``kind`` if given), oldest first."""
        found = []
        for path in sorted(self.folder.glob("*.msgpack")):
            with path.open("rb") as source:
                header = next(iter(_unpacker(source)), None)
            if not isinstance(header, dict) or header.get("format") != FORMAT:
                raise CorruptData(f"{path}: not a Gather archive (format {FORMAT})")
            entry = ArchiveEntry(
                path, header["kind"], header["key"], header["label"], header["archived_at"]
            )
            if kind is None or entry.kind == kind:
                found.append(entry)
        return found

    def records(self, entry: ArchiveEntry) -> Iterator[Record]:
        """The archive's records in the order they were written, read lazily."""
        with entry.path.open("rb") as source:
            unpacker = _unpacker(source)
            next(unpacker)
            yield from map(tuple, unpacker)


def _unpacker(source: BinaryIO) -> msgpack.Unpacker:
    return msgpack.Unpacker(source, ext_hook=_decode, raw=False, max_buffer_size=64 << 20)


def _encode(value: Any) -> msgpack.ExtType:
    if isinstance(value, UUID):
        return msgpack.ExtType(_UUID, value.bytes)
    if isinstance(value, datetime):
        micros = (times.utc(value) - _EPOCH) // timedelta(microseconds=1)
        return msgpack.ExtType(_DATETIME, struct.pack(">q", micros))
    raise TypeError(f"cannot archive a {type(value).__name__}")


def _decode(code: int, data: bytes) -> Any:
    if code == _UUID:
        return UUID(bytes=data)
    if code == _DATETIME:
        return _EPOCH + timedelta(microseconds=struct.unpack(">q", data)[0])
    return msgpack.ExtType(code, data)


def _sync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
