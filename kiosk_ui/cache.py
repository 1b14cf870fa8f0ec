"""The kiosk's asset cache (``root/kiosk/cache``): its catalog and every image it shows, from
memory, from disk or from Cassandra.

Three tiers, each filled from the next:

- **memory** (:class:`Images`): decoded surfaces, scaled to the size they are drawn at, at
  most ``budget_bytes`` of them (least recently used evicted first). What the UI says is on
  screen and next to it (:meth:`Images.want`) is decoded first and never evicted.
- **disk** (:class:`AssetFiles`): ``var/kiosk/<node>/assets/<asset_id>-<version>``, checked
  against the version's SHA-256 on every read (a corrupt file is logged, removed and fetched
  again) and written atomically (checked before it takes its name); ``catalog.json`` beside
  it (:func:`kiosk_ui.catalog.save`).
- **Cassandra**: a version missing from disk is streamed from ``store.assets``, and every
  image of a new catalog is fetched ahead, so that a kiosk started while Cassandra is out of
  reach shows its last catalog with its images.

The :class:`AssetCache` actor owns all three. It starts at once from disk, fetches the
catalog when the node has storage (again every :data:`CATALOG_REFRESH_S`, after
``KioskChanged`` and sooner after a failure), follows ``AssetChanged`` (the new version
replaces the old in the catalog, in memory once decoded, and on disk), and refreshes the
seats of the events on screen every :data:`SEAT_REFRESH_S` and after each sign-up. The UI
gets one :class:`KioskContent` from it (ask ``"content"``).

Threads: :class:`Images` and :class:`KioskContent` are thread-safe, and what the UI calls
every frame (``get``, ``want``, ``ready``, ``catalog``, ``version``, ``showing``) only looks
things up under a lock: no I/O, no decoding. Decodes run on :data:`DECODERS` worker threads
and fetches on a thread of their own, so a decode of a file on disk never waits behind the
network; neither runs on the UI's thread or the actor's. Pygame surfaces are handed to the
UI's thread finished, and never changed afterwards.

The GIL: in pygame 2.6.1 both ``pygame.image.load`` (``IMG_LoadTyped_RW`` in imageext.c)
and ``pygame.transform.smoothscale`` (``scalesmooth`` in transform.c) run between
``Py_BEGIN_ALLOW_THREADS`` and ``Py_END_ALLOW_THREADS``, so a decode on a worker thread
leaves the UI's thread running. Images are loaded from their file's path: SDL then reads
the file itself, whereas a Python file object (``BytesIO``) takes the GIL back for every
read (rwobject.c's callbacks call ``PyGILState_Ensure``). ``Surface.convert`` and
``convert_alpha`` keep the GIL; they are one pass over the already scaled pixels. Measured
on this machine (2 cores): a thread counting in Python keeps 0.94-0.98 of its pace while
another loads 1920x1080 PNGs and JPEGs back to back, and 1.0 while it smoothscales.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import math
import queue
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar
from uuid import UUID

import pygame
import pykka

from actors.ticker import TickingActor
from config.cluster import ClusterConfig
from kiosk_ui.catalog import (
    AssetRef,
    Catalog,
    fetch,
    fetch_seats,
    load_saved,
    save,
    write_atomically,
)
from node.context import NodeContext
from node.notices import AssetChanged, EventChanged, KioskChanged
from storage.errors import CorruptData, NotFound, StorageError, Unreachable
from storage.store import Store

log = logging.getLogger("gather.kiosk")

Fit = Literal["cover", "contain"]
"""``cover``: fill the size, the image scaled and its centre cropped; ``contain``: the whole
image inside the size, keeping its aspect (the surface may be narrower or lower)."""
Size = tuple[int, int]
Wanted = tuple[AssetRef, Size, Fit]
"""One image as it is drawn: which version, at what size, fitted how."""

DEFAULT_BUDGET_BYTES = 160 * 1024 * 1024
"""Decoded surfaces kept in memory: about 20 full-screen 1920x1080 backgrounds (8 MB each)."""
DECODERS = 2
RETRY_S = 10.0
"""How long an image that could not be fetched, decoded or kept waits before another try."""
ASKED_S = 2.0
"""A decode asked for only by :meth:`Images.get` is dropped if not asked again this soon."""
SEAT_REFRESH_S = 3.0
CATALOG_REFRESH_S = 60.0
"""A full refresh of the catalog catches what no notice says (an event's title, times...)."""
CATALOG_RETRY_S = 5.0
TICK_S = 0.5
_READ_BYTES = 1024 * 1024
_FILE_NAME = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-\d+$")


def kiosk_folder(config: ClusterConfig, name: str) -> Path:
    """Where kiosk node ``name`` keeps its catalog and images: the data folder's
    ``var/kiosk/<name>``."""
    return config.root / "var" / "kiosk" / name


class AssetFiles:
    """Asset versions on disk, one file each, named ``<asset_id>-<version>``.

    Thread-safe: a file appears under its name only complete and checked, and a name always
    holds the same bytes (those of its version).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, ref: AssetRef) -> Path:
        """Where the file of ``ref`` is (or would be)."""
        return self.folder / f"{ref.asset_id}-{ref.version}"

    def has(self, ref: AssetRef) -> bool:
        """Whether the file of ``ref`` is there (unchecked)."""
        return self.path(ref).is_file()

    def verified(self, ref: AssetRef) -> Path | None:
        """The file of ``ref`` if it holds exactly its bytes; None if it is missing. A file
        that fails its SHA-256 check is logged and removed, so that it is fetched again."""
        path = self.path(ref)
        digest = hashlib.sha256()
        try:
            with path.open("rb") as file:
                while piece := file.read(_READ_BYTES):
                    digest.update(piece)
        except FileNotFoundError:
            return None
        if digest.hexdigest() == ref.sha256:
            return path
        log.warning(
            "asset file %s fails its SHA-256 check (corrupt on disk): removed, to be fetched again",
            path,
        )
        path.unlink(missing_ok=True)
        return None

    def write(self, ref: AssetRef, pieces: Iterable[bytes]) -> None:
        """Store ``pieces`` as the file of ``ref``, atomically; raises :class:`CorruptData`
        (and leaves no file) if they are not the version's size and SHA-256."""
        write_atomically(self.path(ref), _checked(ref, pieces))

    def prune(self, keep: Iterable[AssetRef]) -> None:
        """Delete the files of every asset version but those of ``keep``."""
        kept = {self.path(ref).name for ref in keep}
        for path in self._entries():
            if _FILE_NAME.match(path.name) and path.name not in kept:
                path.unlink(missing_ok=True)
                log.info("asset file %s removed: not shown any more", path.name)

    def clean(self) -> None:
        """Remove what writes cut short by a crash left behind."""
        for path in self._entries():
            if path.name.startswith(".") and path.name.endswith(".partial"):
                path.unlink(missing_ok=True)

    def _entries(self) -> list[Path]:
        return list(self.folder.iterdir()) if self.folder.is_dir() else []


def _checked(ref: AssetRef, pieces: Iterable[bytes]) -> Iterator[bytes]:
    digest = hashlib.sha256()
    size = 0
    for piece in pieces:
        digest.update(piece)
        size += len(piece)
        yield piece
    if size != ref.size or digest.hexdigest() != ref.sha256:
        raise CorruptData(f"asset {ref.asset_id} v{ref.version} does not match its SHA-256")


J = TypeVar("J", bound=Hashable)


class _Jobs(Generic[J]):
    """Distinct jobs for worker threads, lowest priority number first (in order within one).

    A job queued again keeps one place, moved up if its new priority comes sooner.
    """

    def __init__(self) -> None:
        self._queue: queue.PriorityQueue[tuple[int, int, J | None]] = queue.PriorityQueue()
        self._queued: dict[J, int] = {}
        self._order = itertools.count()
        self._lock = threading.Lock()

    def put(self, job: J, priority: int) -> None:
        with self._lock:
            if self._queued.get(job, priority + 1) <= priority:
                return
            self._queued[job] = priority
        self._queue.put((priority, next(self._order), job))

    def take(self) -> J | None:
        """The next job, waiting for one; None once closed."""
        while True:
            priority, _, job = self._queue.get()
            if job is None:
                return None
            with self._lock:
                if self._queued.get(job) == priority:  # else moved up and taken already
                    del self._queued[job]
                    return job

    def close(self, workers: int) -> None:
        """Make ``workers`` takers return None, before any job still queued."""
        for _ in range(workers):
            self._queue.put((-1, next(self._order), None))


class Images:
    """Decoded, scaled images for the UI: in memory within ``budget_bytes``, else decoded
    from disk, else fetched from Cassandra (``storage()`` gives the store, None while
    there is none), all off the caller's thread.

    Thread-safe. ``get``, ``want`` and ``ready`` are cheap enough for every frame.
    """

    def __init__(
        self,
        files: AssetFiles,
        storage: Callable[[], Store | None],
        budget_bytes: int = DEFAULT_BUDGET_BYTES,
        decoders: int = DECODERS,
    ) -> None:
        self.files = files
        self.budget_bytes = budget_bytes
        self._storage = storage
        self._decoders = decoders
        self._lock = threading.Lock()
        self._surfaces: OrderedDict[Wanted, pygame.Surface] = OrderedDict()  # LRU first
        self._slots: dict[tuple[UUID, Size, Fit], Wanted] = {}  # the surface of each use
        self._bytes = 0
        self._generation = 0
        self._wanted: frozenset[Wanted] = frozenset()
        self._asked: dict[Wanted, float] = {}
        self._decoding: set[Wanted] = set()
        self._awaiting: dict[AssetRef, set[Wanted]] = {}  # decodes waiting for a fetch
        self._not_before: dict[Wanted, float] = {}
        self._current: frozenset[AssetRef] | None = None
        self._closed = False
        self._decodes: _Jobs[Wanted] = _Jobs()
        self._fetches: _Jobs[AssetRef] = _Jobs()
        for number in range(decoders):
            self._start_worker(f"kiosk-decode-{number}", self._decodes, self._decode)
        self._start_worker("kiosk-fetch", self._fetches, self._fetch)

    @property
    def cached_bytes(self) -> int:
        """The bytes of the decoded surfaces held now."""
        with self._lock:
            return self._bytes

    @property
    def generation(self) -> int:
        """Bumped whenever a surface is added or dropped (the screen may need a redraw)."""
        return self._generation

    def get(self, ref: AssetRef, size: Size, fit: Fit = "cover") -> pygame.Surface | None:
        """The image decoded and scaled to ``size``, if it is ready; else None, and its
        decode (and fetch, if it is not on disk) is scheduled. While a new version of an image
        is being decoded, the older version's surface is returned in its place."""
        key = (ref, size, fit)
        with self._lock:
            surface = self._surfaces.get(key)
            if surface is not None:
                self._surfaces.move_to_end(key)
                return surface
            now = time.monotonic()
            self._asked[key] = now
            self._schedule(key, now)
            older = self._slots.get((ref.asset_id, size, fit))
            return None if older is None else self._surfaces[older]

    def want(self, wanted: Iterable[Wanted]) -> None:
        """What is on screen and next to it, most urgent first: decoded before anything
        else, and never evicted until no longer wanted."""
        ordered = list(dict.fromkeys(wanted))
        chosen = frozenset(ordered)
        with self._lock:
            if chosen == self._wanted:
                return
            self._wanted = chosen
            now = time.monotonic()
            for key in ordered:
                self._schedule(key, now)
            self._asked = {key: at for key, at in self._asked.items() if now - at < ASKED_S}

    def ready(self, wanted: Iterable[Wanted]) -> bool:
        """Whether every one of ``wanted`` is decoded (its own version, at its size)."""
        with self._lock:
            return all(key in self._surfaces for key in wanted)

    def retain(self, refs: Iterable[AssetRef]) -> None:
        """Serve only these asset versions (the catalog's) from now on, and drop the
        surfaces of assets not among them. An older version's surface of an asset that is
        among them stays, shown in place of the new one, until the new one is decoded."""
        current = frozenset(refs)
        assets = {ref.asset_id for ref in current}
        with self._lock:
            self._current = current
            for key in [key for key in self._surfaces if key[0].asset_id not in assets]:
                self._drop(key)

    def prefetch(self, refs: Iterable[AssetRef]) -> None:
        """Fetch to disk, in the background and after the fetches a decode waits for, the
        versions of ``refs`` that are not there yet."""
        for ref in refs:
            if not self.files.has(ref):
                self._fetches.put(ref, 1)

    def close(self) -> None:
        """Stop the worker threads and drop every surface."""
        with self._lock:
            self._closed = True
            self._surfaces.clear()
            self._slots.clear()
            self._bytes = 0
        self._decodes.close(self._decoders)
        self._fetches.close(1)

    # Under the lock.

    def _schedule(self, key: Wanted, now: float) -> None:
        ref = key[0]
        if (
            self._closed
            or key in self._surfaces
            or key in self._decoding
            or key in self._awaiting.get(ref, ())
            or self._not_before.get(key, 0.0) > now
            or (self._current is not None and ref not in self._current)
        ):
            return
        self._decodes.put(key, 0 if key in self._wanted else 1)

    def _drop(self, key: Wanted) -> None:
        self._bytes -= _bytes_of(self._surfaces.pop(key))
        slot = (key[0].asset_id, key[1], key[2])
        if self._slots.get(slot) == key:
            del self._slots[slot]
        self._generation += 1

    def _evict(self) -> None:
        for key in list(self._surfaces):
            if self._bytes <= self.budget_bytes:
                return
            if key not in self._wanted:
                self._drop(key)

    # On the worker threads.

    def _start_worker(self, name: str, jobs: _Jobs[Any], handle: Callable[[Any], None]) -> None:
        def work() -> None:
            while (job := jobs.take()) is not None:
                try:
                    handle(job)
                except Exception:  # a bug, or the store closing under a fetch: carry on
                    log.exception("kiosk image job %r failed", job)

        threading.Thread(target=work, name=name, daemon=True).start()

    def _decode(self, key: Wanted) -> None:
        now = time.monotonic()
        with self._lock:
            if (
                self._closed
                or key in self._surfaces
                or (self._current is not None and key[0] not in self._current)
                or (key not in self._wanted and now - self._asked.get(key, -math.inf) > ASKED_S)
            ):
                return  # shown no more
            self._decoding.add(key)
        ref, size, fit = key
        try:
            path = self.files.verified(ref)
            if path is None:
                self._await_fetch(key)
                return
            surface = _decoded(path, size, fit)
        except Exception as exc:  # not an image, a disk error: the card goes without it
            log.warning(
                "asset %s v%d could not be shown at %dx%d (%s: %s); trying again in %.0f s",
                ref.asset_id,
                ref.version,
                *size,
                type(exc).__name__,
                exc,
                RETRY_S,
            )
            surface = None
        self._done(key, surface)

    def _await_fetch(self, key: Wanted) -> None:
        """Decode ``key`` once its file is fetched (before any fetch ahead)."""
        with self._lock:
            self._decoding.discard(key)
            self._awaiting.setdefault(key[0], set()).add(key)
        self._fetches.put(key[0], 0)

    def _done(self, key: Wanted, surface: pygame.Surface | None) -> None:
        with self._lock:
            self._decoding.discard(key)
            self._asked.pop(key, None)
            retry_at = time.monotonic() + RETRY_S
            if surface is None:
                self._not_before[key] = retry_at
                return
            if self._closed or (self._current is not None and key[0] not in self._current):
                return
            self._not_before.pop(key, None)
            slot = (key[0].asset_id, key[1], key[2])
            older = self._slots.get(slot)
            if older is not None:
                self._drop(older)
            self._surfaces[key] = surface
            self._slots[slot] = key
            self._bytes += _bytes_of(surface)
            self._generation += 1
            self._evict()
            if key not in self._surfaces:  # it did not fit beside the wanted ones
                self._not_before[key] = retry_at

    def _fetch(self, ref: AssetRef) -> None:
        fetched = False
        try:
            fetched = self.files.has(ref) or self._download(ref)
        finally:
            with self._lock:
                now = time.monotonic()
                for key in self._awaiting.pop(ref, ()):
                    if fetched:
                        self._schedule(key, now)
                    else:
                        self._not_before[key] = now + RETRY_S

    def _download(self, ref: AssetRef) -> bool:
        store = self._storage()
        if store is None:
            return False  # the cache actor logs the outage
        try:
            info = store.assets.info(ref.asset_id, ref.version)
            self.files.write(ref, store.assets.read(info))
        except NotFound:
            log.warning("asset %s v%d is no longer in Cassandra", ref.asset_id, ref.version)
            return False
        except (StorageError, OSError) as exc:
            log.warning(
                "asset %s v%d could not be fetched (%s); trying again later",
                ref.asset_id,
                ref.version,
                exc,
            )
            return False
        log.info("asset %s v%d fetched (%d bytes)", ref.asset_id, ref.version, ref.size)
        return True


def _decoded(path: Path, size: Size, fit: Fit) -> pygame.Surface:
    """The image in ``path`` scaled to ``size`` as ``fit`` says, in the display's format
    when a display mode is set (so that blitting it is a copy)."""
    image = pygame.image.load(str(path))  # a path: SDL reads the file, without the GIL
    if image.get_bitsize() not in (24, 32):  # smoothscale takes 24- and 32-bit pixels only
        rgba = pygame.Surface(image.get_size(), pygame.SRCALPHA, 32)
        rgba.blit(image, (0, 0))
        image = rgba
    width, height = size
    if fit == "cover":
        scale = max(width / image.get_width(), height / image.get_height())
        area = pygame.Rect(
            0,
            0,
            min(image.get_width(), max(1, round(width / scale))),
            min(image.get_height(), max(1, round(height / scale))),
        )
        area.center = image.get_rect().center
        image, target = image.subsurface(area), size
    else:
        scale = min(width / image.get_width(), height / image.get_height())
        target = (
            max(1, round(image.get_width() * scale)),
            max(1, round(image.get_height() * scale)),
        )
    scaled = pygame.transform.smoothscale(image, target)
    if pygame.display.get_surface() is None:
        return scaled
    return scaled.convert_alpha() if scaled.get_flags() & pygame.SRCALPHA else scaled.convert()


def _bytes_of(surface: pygame.Surface) -> int:
    return surface.get_pitch() * surface.get_height()


@dataclass(frozen=True)
class _Tick:
    """Time for the cache to do what is due (told by its ticker thread)."""


@dataclass(frozen=True)
class _RefreshSeats:
    """Refresh these events' seats now."""

    event_ids: tuple[UUID, ...]


class KioskContent:
    """What the kiosk shows, as the UI gets it from the cache: the catalog (replaced whole),
    its images, and a ``version`` that changes whenever either does (time to redraw).

    Thread-safe, and cheap: the UI's thread may call anything here every frame.
    """

    def __init__(self, catalog: Catalog, images: Images, tell: Callable[[Any], None]) -> None:
        self.images = images
        self._tell = tell
        self._lock = threading.Lock()
        self._catalog = catalog
        self._changes = 0
        self._showing: frozenset[UUID] = frozenset()

    @property
    def catalog(self) -> Catalog:
        """The catalog now."""
        return self._catalog

    @property
    def version(self) -> int:
        """Grows whenever the catalog, its seats or any image changes. It grows after the
        change is made: read it before drawing, and draw again when it has grown."""
        return self._changes + self.images.generation

    @property
    def shown(self) -> frozenset[UUID]:
        """The events the UI last said were on screen."""
        return self._showing

    def showing(self, event_ids: Iterable[UUID]) -> None:
        """These events are on screen now: their seats are refreshed every
        :data:`SEAT_REFRESH_S` (at once for those that just appeared)."""
        shown = frozenset(event_ids)
        with self._lock:
            appeared = shown - self._showing
            self._showing = shown
        if appeared:
            self._send(_RefreshSeats(tuple(appeared)))

    def signed_up(self, event_id: UUID) -> None:
        """Somebody signed up for ``event_id`` here: refresh its seats now."""
        self._send(_RefreshSeats((event_id,)))

    def publish(self, catalog: Catalog) -> None:
        """Replace the catalog (the cache actor's call)."""
        with self._lock:
            self._catalog = catalog
            self._changes += 1

    def _send(self, message: Any) -> None:
        try:
            self._tell(message)
        except pykka.ActorDeadError:  # the cache is restarting, and the UI with it
            log.debug("kiosk cache not running: %r dropped", message)


class AssetCache(TickingActor):
    """The kiosk's cache actor (at ``root/kiosk/cache``, kwargs ``context``): ask it
    ``"content"`` for the :class:`KioskContent`; tell it ``AssetChanged`` and
    ``KioskChanged`` (the web sends them over the node link).

    Its data lives under ``folder`` (default :func:`kiosk_folder`); decoded images take at
    most ``budget_bytes`` of memory, beyond the ones wanted on screen.
    """

    def __init__(
        self,
        context: NodeContext,
        folder: Path | None = None,
        budget_bytes: int = DEFAULT_BUDGET_BYTES,
    ) -> None:
        super().__init__()
        self.context = context
        self.kiosk_id = context.name
        self.folder = folder or kiosk_folder(context.config, context.name)
        self.catalog_path = self.folder / "catalog.json"
        self.files = AssetFiles(self.folder / "assets")
        self.images = Images(self.files, lambda: context.store, budget_bytes)
        self.content = KioskContent(
            Catalog.empty(self.kiosk_id, offline=True), self.images, self.actor_ref.tell
        )
        self._saved: Catalog | None = None
        self._catalog_due = 0.0
        self._seats_due = 0.0
        self._outage: str | None = None

    def on_start(self) -> None:
        self.files.clean()
        saved = load_saved(self.catalog_path)
        if saved is not None:
            self._saved = saved
            self.content.publish(saved)
            log.info(
                "kiosk %s: %d event(s) from the catalog saved at %s",
                self.kiosk_id,
                len(saved.events),
                saved.fetched_at.isoformat(timespec="seconds"),
            )
        self.images.retain(self.content.catalog.assets)
        # With a saved catalog, the first fetch waits for the first tick, so that the UI's
        # ask for the content, which comes right after this start, is not queued behind it;
        # without one the UI has nothing to show until the fetch, so it goes first.
        self.start_ticking(_Tick(), TICK_S, f"{self.path}-ticks")
        if saved is None:
            self.actor_ref.tell(_Tick())

    def on_receive(self, message: Any) -> Any:
        match message:
            case "content":
                return self.content
            case _Tick():
                self._tick()
            case _RefreshSeats(event_ids=event_ids):
                self._refresh_seats(event_ids)
            case AssetChanged():
                self._asset_changed(message)
            case KioskChanged(kiosk_id=kiosk_id) if kiosk_id == self.kiosk_id:
                self._refresh_catalog()
            case KioskChanged():
                pass  # another kiosk's
            case EventChanged(event_id=event_id):
                if any(str(card.event_id) == event_id for card in self.content.catalog.events):
                    self._refresh_catalog()
            case _:
                log.warning("%s: unexpected message %r ignored", self.path, message)
        return None

    def release(self) -> None:
        """Stop the ticks and the image fetches."""
        super().release()
        self.images.close()

    def _tick(self) -> None:
        now = time.monotonic()
        if self.context.store is None:
            self._unreachable("the catalog", "this node is not connected")
        elif now >= self._catalog_due:
            self._refresh_catalog()
        elif now >= self._seats_due and self.content.shown:
            self._seats_due = now + SEAT_REFRESH_S
            self._refresh_seats(self.content.shown)

    def _refresh_catalog(self) -> None:
        store = self.context.store
        now = time.monotonic()
        if store is None:
            self._catalog_due = now  # as soon as the node connects
            return
        try:
            catalog = fetch(store, self.kiosk_id)
        except Unreachable as exc:
            self._catalog_due = now + CATALOG_RETRY_S
            self._unreachable("the catalog", exc)
            return
        self._reachable()
        self._catalog_due = now + CATALOG_REFRESH_S
        self._seats_due = now + SEAT_REFRESH_S
        self._publish(catalog)

    def _refresh_seats(self, event_ids: Iterable[UUID]) -> None:
        store = self.context.store
        if store is None:
            return
        catalog = self.content.catalog
        try:
            updated = fetch_seats(store, catalog, event_ids)
        except Unreachable as exc:
            self._unreachable("seats", exc)
            return
        self._reachable()
        if updated != catalog:
            self.content.publish(updated)

    def _asset_changed(self, notice: AssetChanged) -> None:
        try:
            asset_id = UUID(notice.asset_id)
        except ValueError:
            log.warning("kiosk %s: notice of a malformed asset id ignored", self.kiosk_id)
            return
        catalog = self.content.catalog
        shown = [ref for ref in catalog.assets if ref.asset_id == asset_id]
        if not shown or all(0 < notice.version <= ref.version for ref in shown):
            return  # not shown here, or already at that version
        ref: AssetRef | None = None
        if notice.version > 0:
            try:
                info = self.context.require_store().assets.info(asset_id)
            except NotFound:
                pass
            except Unreachable as exc:  # NotConnected too: the next refresh catches up
                self._catalog_due = 0.0
                self._unreachable(f"asset {asset_id}", exc)
                return
            else:
                ref = AssetRef(info.asset_id, info.version, info.sha256, info.size)
        self._publish(catalog.with_asset(asset_id, ref))
        log.info(
            "kiosk %s: asset %s %s",
            self.kiosk_id,
            asset_id,
            "removed" if ref is None else f"now at v{ref.version}",
        )

    def _publish(self, catalog: Catalog) -> None:
        """Show ``catalog``: only its images served, the files of others removed (before the
        UI sees it), its images fetched ahead, and the catalog saved if its content changed."""
        assets = catalog.assets
        self.images.retain(assets)
        try:
            self.files.prune(assets)
        except OSError as exc:
            log.warning("kiosk %s: old images could not be removed: %s", self.kiosk_id, exc)
        self.content.publish(catalog)
        self.images.prefetch(assets)
        if self._saved is None or not _same(self._saved, catalog):
            try:
                save(catalog, self.catalog_path)
            except OSError as exc:
                log.warning("kiosk %s: the catalog could not be saved: %s", self.kiosk_id, exc)
            else:
                self._saved = catalog

    def _unreachable(self, what: str, error: object) -> None:
        if self._outage is None:
            log.warning(
                "kiosk %s: %s not refreshed, Cassandra is out of reach (%s); showing the "
                "catalog of %s",
                self.kiosk_id,
                what,
                error,
                self.content.catalog.fetched_at.isoformat(timespec="seconds"),
            )
        self._outage = str(error)

    def _reachable(self) -> None:
        if self._outage is not None:
            log.info("kiosk %s: Cassandra is reachable again", self.kiosk_id)
            self._outage = None


def _same(one: Catalog, other: Catalog) -> bool:
    """Whether two catalogs show the same, whenever and however they were fetched."""
    return replace(one, fetched_at=other.fetched_at, offline=other.offline) == other
