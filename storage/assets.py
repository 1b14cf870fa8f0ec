"""Assets (icons, background images, any file) as versioned, chunked blobs in Cassandra.

Bytes go in ``asset_chunks`` (one partition per asset version, one row per chunk) and metadata
in ``assets`` (content type, size, SHA-256, chunk size and count, state). Writing a version
claims its number with a lightweight transaction (state ``writing``), streams the chunks with a
few writes in flight, then flips the state to ``ready``; readers only see ready versions. Reads
stream chunk by chunk, optionally a byte range, with the next chunks already requested. Neither
direction ever holds a whole file in memory.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO
from uuid import UUID, uuid4

from storage import times, validate
from storage.archive import Archive, ArchiveEntry, Record
from storage.errors import Conflict, CorruptData, NotFound, ValidationError
from storage.session import Database, Pending, Row

CHUNK_SIZE = 256 * 1024
MAX_SIZE = 64 * 1024 * 1024
IN_FLIGHT = 4
MAX_NAME = 200
"""The longest file name an asset keeps."""
_CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$")
_INSERT_CHUNK = "INSERT INTO asset_chunks (asset_id, version, chunk, data) VALUES (?, ?, ?, ?)"
_SELECT_CHUNK = "SELECT data FROM asset_chunks WHERE asset_id = ? AND version = ? AND chunk = ?"
_METADATA = (
    "asset_id, version, state, name, content_type, size, sha256, chunk_size, chunks, created_at"
)


@dataclass(frozen=True)
class AssetInfo:
    """One ready version of an asset."""

    asset_id: UUID
    version: int
    name: str
    content_type: str
    size: int
    sha256: str
    chunk_size: int
    chunks: int
    created_at: datetime


class Assets:
    """Store, read, list, delete (archiving) and restore assets."""

    def __init__(self, db: Database, archive: Archive) -> None:
        self._db = db
        self._archive = archive

    def put(
        self,
        source: BinaryIO | Iterable[bytes],
        content_type: str,
        name: str = "",
        asset_id: UUID | None = None,
    ) -> AssetInfo:
        """Store the bytes of ``source`` (a binary file or an iterable of bytes) as a new
        asset, or as the next version of ``asset_id``; nothing is visible until complete."""
        content_type = validate.text("content_type", content_type, max_len=100).lower()
        if not _CONTENT_TYPE.match(content_type):
            raise ValidationError("content_type", "must be a media type such as image/png")
        name = validate.text("name", name, max_len=MAX_NAME, required=False)
        asset_id = asset_id or uuid4()
        version = self._claim_version(asset_id, name, content_type)
        try:
            size, sha256, chunks = self._write_chunks(asset_id, version, source)
            self._db.execute(
                "UPDATE assets SET state = 'ready', size = ?, sha256 = ?, chunks = ? "
                "WHERE asset_id = ? AND version = ? IF state = 'writing'",
                (size, sha256, chunks, asset_id, version),
                op="signup",
            )
        except BaseException:
            self._discard(asset_id, version)
            raise
        return self.info(asset_id, version)

    def info(self, asset_id: UUID, version: int | None = None) -> AssetInfo:
        """The latest ready version of the asset, or the given ``version``."""
        for info in self.versions(asset_id):
            if version is None or info.version == version:
                return info
        raise NotFound("asset", asset_id if version is None else f"{asset_id} v{version}")

    def versions(self, asset_id: UUID) -> list[AssetInfo]:
        """The asset's ready versions, newest first."""
        rows = self._db.execute(f"SELECT {_METADATA} FROM assets WHERE asset_id = ?", (asset_id,))
        return [_info(row) for row in rows if row["state"] == "ready"]

    def list(self) -> list[AssetInfo]:
        """The latest ready version of every asset."""
        latest: dict[UUID, AssetInfo] = {}
        for row in self._db.stream(f"SELECT {_METADATA} FROM assets", op="read"):
            if row["state"] == "ready" and row["asset_id"] not in latest:
                latest[row["asset_id"]] = _info(row)
        return sorted(latest.values(), key=lambda info: (info.name, str(info.asset_id)))

    def read(self, asset: AssetInfo, start: int = 0, end: int | None = None) -> Iterator[bytes]:
        """The bytes ``start`` to ``end`` (exclusive; default: the end) of an asset version,
        chunk by chunk. A whole-file read checks the SHA-256 at the end (:class:`CorruptData`)."""
        end = asset.size if end is None else end
        if isinstance(start, bool) or not isinstance(start, int) or not 0 <= start <= asset.size:
            raise ValidationError("start", f"must be a byte offset from 0 to {asset.size}")
        if isinstance(end, bool) or not isinstance(end, int) or not start <= end <= asset.size:
            raise ValidationError("end", f"must be a byte offset from {start} to {asset.size}")
        return self._read(asset, start, end)

    def delete(self, asset_id: UUID) -> ArchiveEntry:
        """Archive every version of the asset (bytes and metadata), then delete it."""
        versions = self.versions(asset_id)
        if not versions:
            raise NotFound("asset", asset_id)
        entry = self._archive.write(
            "asset", str(asset_id), versions[0].name, self._records(versions)
        )
        for info in versions:
            self._db.execute(
                "DELETE FROM asset_chunks WHERE asset_id = ? AND version = ?",
                (asset_id, info.version),
                op="write",
            )
        self._db.execute("DELETE FROM assets WHERE asset_id = ?", (asset_id,), op="write")
        return entry

    def restore(self, entry: ArchiveEntry) -> AssetInfo:
        """Bring back an archived asset with all its versions."""
        if entry.kind != "asset":
            raise ValidationError("entry", f"is an archive of a {entry.kind}, not an asset")
        asset_id = UUID(entry.key)
        if self._db.execute("SELECT version FROM assets WHERE asset_id = ? LIMIT 1", (asset_id,)):
            raise Conflict(f"asset {asset_id} exists; delete it before restoring it")
        metadata: dict | None = None
        in_flight: deque[Pending] = deque()
        for kind, data in self._archive.records(entry):
            if kind == "version":
                self._finish_restore(metadata, in_flight)
                metadata = data
            else:
                in_flight.append(
                    self._db.submit(
                        _INSERT_CHUNK,
                        (asset_id, data["version"], data["chunk"], data["data"]),
                        op="write",
                    )
                )
                if len(in_flight) >= IN_FLIGHT:
                    in_flight.popleft().result()
        self._finish_restore(metadata, in_flight)
        return self.info(asset_id)

    def _finish_restore(self, metadata: dict | None, in_flight: deque[Pending]) -> None:
        """Once a version's chunks are all written, write its metadata (making it visible)."""
        while in_flight:
            in_flight.popleft().result()
        if metadata is not None:
            columns = [column.strip() for column in _METADATA.split(",")]
            self._db.execute(
                f"INSERT INTO assets ({_METADATA}) VALUES ({', '.join('?' * len(columns))})",
                tuple(metadata[column] for column in columns),
                op="write",
            )

    def _records(self, versions: Iterable[AssetInfo]) -> Iterator[Record]:
        for info in versions:
            yield "version", info.__dict__ | {"state": "ready"}
            for index in range(info.chunks):
                rows = self._db.execute(_SELECT_CHUNK, (info.asset_id, info.version, index))
                if not rows:
                    raise CorruptData(f"asset {info.asset_id} v{info.version} lacks chunk {index}")
                yield "chunk", {"version": info.version, "chunk": index, "data": rows[0]["data"]}

    def _claim_version(self, asset_id: UUID, name: str, content_type: str) -> int:
        rows = self._db.execute(
            "SELECT version FROM assets WHERE asset_id = ? LIMIT 1", (asset_id,), op="signup"
        )
        version = rows[0]["version"] + 1 if rows else 1
        while True:
            row = self._db.execute(
                "INSERT INTO assets (asset_id, version, state, name, content_type, chunk_size, "
                "created_at) VALUES (?, ?, 'writing', ?, ?, ?, ?) IF NOT EXISTS",
                (asset_id, version, name, content_type, CHUNK_SIZE, times.now()),
                op="signup",
            )[0]
            if row["[applied]"]:
                return version
            version += 1

    def _write_chunks(
        self, asset_id: UUID, version: int, source: BinaryIO | Iterable[bytes]
    ) -> tuple[int, str, int]:
        digest = hashlib.sha256()
        size = 0
        index = 0
        in_flight: deque[Pending] = deque()
        for piece in _pieces(source):
            size += len(piece)
            if size > MAX_SIZE:
                raise ValidationError("source", f"must be at most {MAX_SIZE} bytes")
            digest.update(piece)
            in_flight.append(
                self._db.submit(_INSERT_CHUNK, (asset_id, version, index, piece), op="write")
            )
            index += 1
            if len(in_flight) >= IN_FLIGHT:
                in_flight.popleft().result()
        while in_flight:
            in_flight.popleft().result()
        return size, digest.hexdigest(), index

    def _discard(self, asset_id: UUID, version: int) -> None:
        """Best effort: remove a version whose writing failed (readers never saw it)."""
        try:
            self._db.execute(
                "DELETE FROM asset_chunks WHERE asset_id = ? AND version = ?",
                (asset_id, version),
                op="write",
            )
            self._db.execute(
                "DELETE FROM assets WHERE asset_id = ? AND version = ? IF state = 'writing'",
                (asset_id, version),
                op="signup",
            )
        except Exception:  # the original failure matters more; a leftover is never read
            pass

    def _read(self, asset: AssetInfo, start: int, end: int) -> Iterator[bytes]:
        if start == end:
            return
        size = asset.chunk_size
        first, last = start // size, (end - 1) // size
        digest = hashlib.sha256() if (start, end) == (0, asset.size) else None
        pending: deque[Pending] = deque()
        upcoming = iter(range(first, last + 1))
        for index in itertools.islice(upcoming, IN_FLIGHT):
            pending.append(self._db.submit(_SELECT_CHUNK, (asset.asset_id, asset.version, index)))
        for index in range(first, last + 1):
            rows = pending.popleft().result()
            following = next(upcoming, None)
            if following is not None:
                pending.append(
                    self._db.submit(_SELECT_CHUNK, (asset.asset_id, asset.version, following))
                )
            if not rows:
                raise CorruptData(f"asset {asset.asset_id} v{asset.version} lacks chunk {index}")
            data = rows[0]["data"]
            piece = data[max(0, start - index * size) : end - index * size]
            if digest is not None:
                digest.update(piece)
            yield piece
        if digest is not None and digest.hexdigest() != asset.sha256:
            raise CorruptData(f"asset {asset.asset_id} v{asset.version} fails its SHA-256 check")


def _pieces(source: BinaryIO | Iterable[bytes]) -> Iterator[bytes]:
    """``source`` cut into pieces of exactly CHUNK_SIZE bytes (the last may be shorter)."""
    read = getattr(source, "read", None)
    if read is not None:
        while piece := read(CHUNK_SIZE):
            if not isinstance(piece, bytes | bytearray | memoryview):
                raise ValidationError("source", "must be a binary file")
            yield bytes(piece)
        return
    buffer = bytearray()
    for piece in source:
        if not isinstance(piece, bytes | bytearray | memoryview):
            raise ValidationError("source", "must yield bytes")
        buffer += piece
        while len(buffer) >= CHUNK_SIZE:
            yield bytes(buffer[:CHUNK_SIZE])
            del buffer[:CHUNK_SIZE]
    if buffer:
        yield bytes(buffer)


def _info(row: Row) -> AssetInfo:
    return AssetInfo(
        asset_id=row["asset_id"],
        version=row["version"],
        name=row["name"] or "",
        content_type=row["content_type"],
        size=row["size"],
        sha256=row["sha256"],
        chunk_size=row["chunk_size"],
        chunks=row["chunks"],
        created_at=times.utc(row["created_at"]),
    )
