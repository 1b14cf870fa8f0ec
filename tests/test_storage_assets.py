"""Assets: chunked, streamed both ways, ranged reads, versions, archive and restore."""

from __future__ import annotations

import hashlib
import io
import os
import threading
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from storage.assets import CHUNK_SIZE
from storage.errors import Conflict, NotFound, ValidationError
from storage.store import Store

SIZE = 8 * 1024 * 1024 + 12345  # 8 MiB and a partial last chunk


class _RssPeak:
    """The process's peak resident memory while the block runs, sampled every 5 ms."""

    def __enter__(self) -> _RssPeak:
        self._process = psutil.Process()
        self.start = self.peak = self._process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, self._process.memory_info().rss)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def growth(self) -> int:
        return self.peak - self.start


def _generated(size: int, seed: int = 7) -> Iterator[bytes]:
    """Deterministic pseudo-random bytes in 64 KiB pieces, never all in memory."""
    block = hashlib.sha256(str(seed).encode()).digest() * 2048
    sent = 0
    while sent < size:
        piece = block[: min(len(block), size - sent)]
        block = hashlib.sha256(block[:32]).digest() * 2048
        sent += len(piece)
        yield piece


def test_a_multi_megabyte_image_round_trips_with_little_memory(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "background.png"
    with path.open("wb") as out:
        for piece in _generated(SIZE):
            out.write(piece)
    expected = hashlib.sha256(path.read_bytes()).hexdigest()

    tracemalloc.start()
    try:
        with _RssPeak() as rss, path.open("rb") as source:
            info = store.assets.put(source, "image/png", "background.png")
        written_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        digest = hashlib.sha256()
        with _RssPeak() as read_rss:
            for chunk in store.assets.read(info):
                assert len(chunk) <= CHUNK_SIZE
                digest.update(chunk)
        read_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert (info.size, info.sha256, info.version) == (SIZE, expected, 1)
    assert info.chunks == -(-SIZE // CHUNK_SIZE) == 33
    assert digest.hexdigest() == expected
    # a few chunks in flight at most: far below the file size (and its size times chunks)
    limit = SIZE // 2
    assert written_peak < limit, written_peak
    assert read_peak < limit, read_peak
    assert rss.growth < SIZE and read_rss.growth < SIZE, (rss.growth, read_rss.growth)
    print(f"put peak {written_peak / 1e6:.2f} MB, read peak {read_peak / 1e6:.2f} MB traced")
    store.assets.delete(info.asset_id)  # keep the test keyspace small across runs


def test_ranged_reads_and_versions(store: Store) -> None:
    first = bytes(range(256)) * 2000  # 512000 bytes: two chunks and a bit
    info = store.assets.put([first[:1000], first[1000:]], "image/jpeg", "photo.jpg")
    for start, end in [
        (0, 10),
        (5, CHUNK_SIZE + 7),
        (CHUNK_SIZE, CHUNK_SIZE),
        (len(first) - 3, None),
    ]:
        assert b"".join(store.assets.read(info, start, end)) == first[start:end]
    with pytest.raises(ValidationError) as failure:
        store.assets.read(info, 10, 5)
    assert failure.value.field == "end"

    second = store.assets.put(io.BytesIO(b"v2"), "image/jpeg", "photo.jpg", asset_id=info.asset_id)
    assert second.version == 2
    assert store.assets.info(info.asset_id) == second
    assert store.assets.info(info.asset_id, 1) == info
    assert [v.version for v in store.assets.versions(info.asset_id)] == [2, 1]
    assert second in store.assets.list()
    with pytest.raises(ValidationError):
        store.assets.put(io.BytesIO(b"x"), "not a type")
    with pytest.raises(ValidationError):
        store.assets.put(["text, not bytes"], "text/plain")  # type: ignore[list-item]


def test_delete_archives_every_version_and_restore_brings_them_back(store: Store) -> None:
    old = store.assets.put(_generated(CHUNK_SIZE + 10, seed=1), "image/png", "icon.png")
    new = store.assets.put(
        _generated(3 * CHUNK_SIZE, seed=2), "image/png", "icon.png", asset_id=old.asset_id
    )
    entry = store.assets.delete(old.asset_id)
    assert entry.kind == "asset" and entry in store.archive.entries("asset")
    with pytest.raises(NotFound):
        store.assets.info(old.asset_id)
    assert store.assets.restore(entry) == new
    assert store.assets.info(old.asset_id, 1) == old
    digest = hashlib.sha256()
    for chunk in store.assets.read(old):
        digest.update(chunk)
    assert digest.hexdigest() == old.sha256
    with pytest.raises(Conflict):
        store.assets.restore(entry)


def test_archives_are_complete_files(store: Store) -> None:
    info = store.assets.put([os.urandom(100)], "application/octet-stream")
    entry = store.assets.delete(info.asset_id)
    assert not list(entry.path.parent.glob("*.partial"))
    assert entry.archived_at.timestamp() <= time.time()
