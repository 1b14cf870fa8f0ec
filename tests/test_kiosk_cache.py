"""The kiosk's catalog and asset cache (kiosk_ui.catalog, kiosk_ui.cache), on the real
cluster, with real Pygame on SDL's dummy video driver."""

from __future__ import annotations

import functools
import hashlib
import io
import json
import logging
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pygame
import pytest

import signups
from config.cluster import ClusterConfig
from kiosk_ui.cache import AssetCache, AssetFiles, Images, KioskContent, Wanted
from kiosk_ui.catalog import (
    AssetRef,
    Catalog,
    EventCard,
    OptionCard,
    fetch,
    fetch_seats,
    load_saved,
    save,
)
from node.context import NodeContext
from node.notices import AssetChanged, KioskChanged
from storage.events import Event
from storage.store import Store
from supervision import ChildSpec, Tree
from tests.helpers import kiosk_context, new_phone, picture, running, wait_until

os.environ["SDL_VIDEODRIVER"] = "dummy"  # headless: real SDL, no display

RED = (200, 30, 30)
BLUE = (30, 60, 200)
GREEN = (30, 160, 60)
BACKGROUND = (1920, 1080)
SLOW = 20.0
"""Seconds a fetch from Cassandra plus a decode may take on this shared machine."""


@pytest.fixture
def kiosk_id() -> str:
    """A kiosk id (and node name) no other test uses."""
    return "kiosk-t" + secrets.token_hex(4)


def upload(store: Store, data: bytes, asset_id: UUID | None = None) -> AssetRef:
    info = store.assets.put(io.BytesIO(data), "image/png", "picture.png", asset_id)
    return AssetRef(info.asset_id, info.version, info.sha256, info.size)


def new_event(
    store: Store,
    capacity: int = 5,
    waitlist: bool = False,
    time_zone: str = "UTC",
    background: AssetRef | None = None,
    icon: AssetRef | None = None,
) -> Event:
    """An open event starting tomorrow with one option."""
    start = datetime.now(UTC) + timedelta(days=1)
    event = store.events.create(
        title="Repair café",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        time_zone=time_zone,
        short_code="T" + secrets.token_hex(4).upper(),
        background_asset=background.asset_id if background else None,
        icon_asset=icon.asset_id if icon else None,
    )
    store.events.add_option(event.event_id, "Main", capacity, waitlist)
    return event


def sign_up(store: Store, kiosk_id: str, card: EventCard) -> None:
    client = signups.Client.kiosk(kiosk_id)
    signups.sign_up(store, client, card.options[0].option_id, "Ada Lovelace", new_phone())


def centre(surface: pygame.Surface) -> tuple[int, int, int]:
    colour = surface.get_at((surface.get_width() // 2, surface.get_height() // 2))
    return colour.r, colour.g, colour.b


def near(colour: tuple[int, int, int], expected: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 8 for a, b in zip(colour, expected, strict=True))


def surface_of(
    images: Images, ref: AssetRef, size: tuple[int, int], fit: str = "cover"
) -> pygame.Surface:
    """Ask ``images`` for ``ref`` at ``size`` as a UI does, every frame, until it has it."""
    key: Wanted = (ref, size, "cover" if fit == "cover" else "contain")
    wait_until(lambda: images.get(*key) is not None and images.ready([key]), SLOW, f"{key}")
    surface = images.get(*key)
    assert surface is not None
    return surface


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def images(store: Store, tmp_path: Path) -> Iterator[Images]:
    """Images on the test store, kept under ``tmp_path/assets``."""
    cache = Images(AssetFiles(tmp_path / "assets"), lambda: store)
    yield cache
    cache.close()


@pytest.fixture(scope="module")
def backgrounds(store: Store) -> list[AssetRef]:
    """Eight full-HD pictures in Cassandra."""
    shades = [(40 + 25 * n, 90, 200 - 20 * n) for n in range(8)]
    return [upload(store, picture(*BACKGROUND, shade)) for shade in shades]


# The catalog.


def test_a_catalog_has_the_kiosks_events_in_its_order_with_their_seats(
    store: Store, kiosk_id: str
) -> None:
    background = upload(store, picture(*BACKGROUND, RED))
    background = upload(store, picture(*BACKGROUND, BLUE), background.asset_id)
    icon = upload(store, picture(256, 256, GREEN, alpha=True))
    store.assets.delete(icon.asset_id)
    opened = new_event(store, 1, time_zone="Europe/Paris", background=background, icon=icon)
    waitlisted = new_event(store, 0, waitlist=True)
    full = new_event(store, 0)
    closed = new_event(store, 5)
    store.events.set_open(closed.event_id, False)
    gone = new_event(store)
    store.events.delete(gone.event_id)
    store.kiosks.put(
        kiosk_id,
        [e.event_id for e in (full, gone, opened, closed, waitlisted)],
        welcome="Welcome!",
        idle_timeout_s=90,
        theme="high-contrast",
    )

    catalog = fetch(store, kiosk_id)

    assert (catalog.kiosk_id, catalog.welcome, catalog.idle_timeout_s, catalog.theme) == (
        kiosk_id,
        "Welcome!",
        90,
        "high-contrast",
    )
    assert not catalog.offline
    ids = [e.event_id for e in (full, opened, closed, waitlisted)]
    assert [card.event_id for card in catalog.events] == ids
    assert [card.state for card in catalog.events] == ["full", "open", "closed", "waitlist"]
    assert [card.options[0].state for card in catalog.events] == [
        "full",
        "open",
        "closed",
        "waitlist",
    ]
    assert [card.seats_left for card in catalog.events] == [0, 1, 0, 0]
    card = catalog.event(opened.event_id)
    assert card is not None and catalog.event(gone.event_id) is None
    assert card.background == background and background.version == 2
    assert card.icon is None  # its asset was deleted
    assert catalog.assets == {background}
    assert card.local_start().utcoffset() in (timedelta(hours=1), timedelta(hours=2))
    assert card.local_start() == card.starts_at

    sign_up(store, kiosk_id, card)
    refreshed = fetch_seats(store, catalog, [opened.event_id])
    now = refreshed.event(opened.event_id)
    assert now is not None and (now.state, now.seats_left, now.options[0].free) == ("full", 0, 0)
    assert refreshed.events[0] == catalog.events[0]  # the others stay as they were


def test_a_kiosk_without_a_configuration_shows_no_events(store: Store, kiosk_id: str) -> None:
    catalog = fetch(store, kiosk_id)
    assert (catalog.events, catalog.welcome, catalog.idle_timeout_s, catalog.theme) == (
        (),
        "",
        60,
        "default",
    )


def sample_catalog() -> Catalog:
    ref = AssetRef(UUID(int=7), 3, "ab" * 32, 12345)
    option = OptionCard(UUID(int=2), "Morning", 10, 4, True, True, 0)
    start = datetime(2031, 5, 17, 9, 30, tzinfo=UTC)
    event = EventCard(
        event_id=UUID(int=1),
        title="Fête du vélo — atelier",
        description="Bring your bike.\nTools provided.",
        starts_at=start,
        ends_at=start + timedelta(hours=3),
        time_zone="Europe/Paris",
        location="Town hall",
        is_open=True,
        cancelled=False,
        icon=None,
        background=ref,
        options=(option, replace(option, option_id=UUID(int=3), label="Afternoon", free=0)),
    )
    return replace(Catalog.empty("kiosk-1"), welcome="Hello!", events=(event,))


def test_a_saved_catalog_loads_back_as_offline(tmp_path: Path) -> None:
    catalog = sample_catalog()
    path = tmp_path / "kiosk" / "catalog.json"
    assert load_saved(path) is None
    save(catalog, path)
    assert load_saved(path) == replace(catalog, offline=True)
    assert [p.name for p in path.parent.iterdir()] == ["catalog.json"]  # no temporary left


@pytest.mark.parametrize("damage", ["truncated", "altered", "not json", "wrong shape"])
def test_a_damaged_saved_catalog_is_ignored_with_a_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, damage: str
) -> None:
    path = tmp_path / "catalog.json"
    save(sample_catalog(), path)
    text = path.read_text()
    match damage:
        case "truncated":
            path.write_text(text[: len(text) // 2])
        case "altered":
            path.write_text(text.replace("Hello!", "Hacked"))
        case "not json":
            path.write_bytes(b"\x00\xff" * 100)
        case "wrong shape":
            document = json.loads(text)
            del document["catalog"]["events"][0]["options"][0]["free"]
            path.write_text(json.dumps(document))
    with caplog.at_level(logging.WARNING, logger="gather.kiosk"):
        assert load_saved(path) is None
    assert "saved kiosk catalog" in caplog.text and "ignored" in caplog.text


# Images.


def test_an_image_comes_decoded_at_its_size_cover_or_contain(store: Store, images: Images) -> None:
    background = upload(store, picture(*BACKGROUND, RED))
    icon = upload(store, picture(256, 256, GREEN, alpha=True))

    assert images.get(background, (640, 480)) is None  # scheduled, not decoded here
    cover = surface_of(images, background, (640, 480))
    contain = surface_of(images, background, (640, 480), "contain")
    assert cover.get_size() == (640, 480) and near(centre(cover), RED)
    assert contain.get_size() == (640, 360) and near(centre(contain), RED)
    small = surface_of(images, icon, (96, 96), "contain")
    assert small.get_size() == (96, 96) and small.get_flags() & pygame.SRCALPHA
    assert small.get_at((0, 0)).a == 0 and small.get_at((48, 48)).a > 240
    for ref in (background, icon):
        assert sha256(images.files.path(ref)) == ref.sha256  # kept on disk, checked


def test_with_a_display_images_come_in_its_pixel_format(store: Store, images: Images) -> None:
    background = upload(store, picture(1280, 720, BLUE))
    icon = upload(store, picture(128, 128, GREEN, alpha=True))
    pygame.display.init()
    try:
        display = pygame.display.set_mode((800, 600))
        opaque = surface_of(images, background, (800, 600))
        alpha = surface_of(images, icon, (64, 64))
        assert (
            opaque.get_masks() == display.get_masks() and not opaque.get_flags() & pygame.SRCALPHA
        )
        assert alpha.get_bitsize() == 32 and alpha.get_flags() & pygame.SRCALPHA
        display.blit(opaque, (0, 0))
        assert near(centre(display), BLUE)
    finally:
        pygame.display.quit()


def test_a_corrupt_file_on_disk_is_detected_and_fetched_again(
    store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ref = upload(store, picture(*BACKGROUND, GREEN))
    files = AssetFiles(tmp_path / "assets")
    first = Images(files, lambda: store)
    surface_of(first, ref, (320, 180))
    first.close()
    path = files.path(ref)
    damaged = bytearray(path.read_bytes())
    damaged[len(damaged) // 2 :] = bytes(len(damaged) - len(damaged) // 2)
    path.write_bytes(damaged)

    offline = Images(files, lambda: None)  # the corrupt file is dropped, nothing crashes
    with caplog.at_level(logging.WARNING, logger="gather.kiosk"):
        assert offline.get(ref, (320, 180)) is None
        wait_until(lambda: not path.exists(), SLOW, "the corrupt file to be removed")
    offline.close()
    assert "fails its SHA-256 check" in caplog.text

    path.write_bytes(damaged)
    online = Images(files, lambda: store)
    try:
        assert near(centre(surface_of(online, ref, (320, 180))), GREEN)
        assert sha256(path) == ref.sha256
    finally:
        online.close()


def test_memory_stays_within_budget_and_wanted_images_are_never_evicted(
    images: Images, backgrounds: list[AssetRef]
) -> None:
    size = (480, 270)
    keys: list[Wanted] = [(ref, size, "cover") for ref in backgrounds]
    images.want(keys[:1])
    wait_until(lambda: images.ready(keys[:1]), SLOW, "the first picture")
    one = images.cached_bytes
    images.budget_bytes = 3 * one
    for start in range(len(keys)):  # paging through them, the page and the next wanted
        page = [keys[start], keys[(start + 1) % len(keys)]]
        images.want(page)
        wait_until(functools.partial(images.ready, page), SLOW, f"page {start}")
        assert images.cached_bytes <= images.budget_bytes
        assert all(images.get(*key) is not None for key in page)

    five = keys[:5]
    images.want(five)  # more than fit: all of them kept anyway
    wait_until(lambda: images.ready(five), SLOW, "five wanted pictures")
    assert images.cached_bytes == 5 * one > images.budget_bytes
    generation = images.generation
    assert images.get(*keys[5]) is None  # not wanted, and no room: decoded, then let go
    wait_until(lambda: images.generation >= generation + 2, SLOW, "the sixth let go")
    assert images.ready(five) and not images.ready(keys[5:6])
    assert images.get(*keys[5]) is None and images.cached_bytes == 5 * one


# The cache actor.


@contextmanager
def cache(context: NodeContext, folder: Path) -> Iterator[tuple[Tree, KioskContent]]:
    spec = ChildSpec("cache", AssetCache, kwargs={"context": context, "folder": folder})
    with running([spec]) as tree:
        yield tree, tree.registry.ask("root/cache", "content")


def fetched(content: KioskContent, events: list[Event]) -> None:
    ids = [event.event_id for event in events]
    wait_until(
        lambda: not content.catalog.offline and [e.event_id for e in content.catalog.events] == ids,
        SLOW,
        "the catalog from Cassandra",
    )


def test_asset_changed_swaps_the_image_and_drops_the_old_one(
    store: Store, config: ClusterConfig, kiosk_id: str, tmp_path: Path
) -> None:
    old = upload(store, picture(*BACKGROUND, RED))
    event = new_event(store, background=old)
    store.kiosks.put(kiosk_id, [event.event_id])
    size = (640, 360)
    with cache(kiosk_context(config, kiosk_id, store), tmp_path) as (tree, content):
        fetched(content, [event])
        images = content.images
        assert near(centre(surface_of(images, old, size)), RED)
        version = content.version

        new = upload(store, picture(*BACKGROUND, BLUE), old.asset_id)
        tree.tell("root/cache", AssetChanged(str(old.asset_id), new.version))
        wait_until(lambda: content.catalog.events[0].background == new, SLOW, "the new version")
        assert content.version > version
        assert images.get(new, size) is not None  # the old picture, until the new one is ready
        assert near(centre(surface_of(images, new, size)), BLUE)
        assert not images.ready([(old, size, "cover")])
        assert not images.files.path(old).exists() and images.files.path(new).exists()

        store.assets.delete(old.asset_id)
        tree.tell("root/cache", AssetChanged(str(old.asset_id), 0))
        wait_until(lambda: content.catalog.events[0].background is None, SLOW, "no picture")
        assert images.get(new, size) is None and images.cached_bytes == 0
        assert not images.files.path(new).exists()
    saved = load_saved(tmp_path / "catalog.json")
    assert saved is not None and saved.events[0].background is None


def test_kiosk_changed_fetches_the_kiosks_new_configuration(
    store: Store, config: ClusterConfig, kiosk_id: str, tmp_path: Path
) -> None:
    first, second = new_event(store), new_event(store)
    store.kiosks.put(kiosk_id, [first.event_id], welcome="Hello")
    with cache(kiosk_context(config, kiosk_id, store), tmp_path) as (tree, content):
        fetched(content, [first])
        store.kiosks.put(
            kiosk_id,
            [second.event_id, first.event_id],
            welcome="Bonjour",
            idle_timeout_s=120,
            theme="high-contrast",
        )
        tree.tell("root/cache", KioskChanged("another-kiosk"))
        assert tree.registry.ask("root/cache", "content").catalog.welcome == "Hello"

        tree.tell("root/cache", KioskChanged(kiosk_id))
        fetched(content, [second, first])
        catalog = content.catalog
        assert (catalog.welcome, catalog.idle_timeout_s, catalog.theme) == (
            "Bonjour",
            120,
            "high-contrast",
        )
    saved = load_saved(tmp_path / "catalog.json")
    assert saved is not None and [e.event_id for e in saved.events] == [
        second.event_id,
        first.event_id,
    ]


def test_seats_on_screen_are_refreshed_after_a_sign_up_and_every_few_seconds(
    store: Store, config: ClusterConfig, kiosk_id: str, tmp_path: Path
) -> None:
    event = new_event(store, capacity=5)
    store.kiosks.put(kiosk_id, [event.event_id])
    with cache(kiosk_context(config, kiosk_id, store), tmp_path) as (_, content):
        fetched(content, [event])
        content.showing([event.event_id])
        sign_up(store, kiosk_id, content.catalog.events[0])
        content.signed_up(event.event_id)
        wait_until(lambda: content.catalog.events[0].seats_left == 4, SLOW, "4 seats left")

        sign_up(store, kiosk_id, content.catalog.events[0])  # somewhere else: no word of it
        wait_until(lambda: content.catalog.events[0].seats_left == 3, SLOW, "3 seats left")


def test_out_of_reach_of_cassandra_a_kiosk_shows_its_saved_catalog_and_images(
    store: Store, config: ClusterConfig, kiosk_id: str, tmp_path: Path
) -> None:
    background = upload(store, picture(*BACKGROUND, RED))
    icon = upload(store, picture(256, 256, GREEN, alpha=True))
    event = new_event(store, background=background, icon=icon)
    store.kiosks.put(kiosk_id, [event.event_id], welcome="Hello")
    with cache(kiosk_context(config, kiosk_id, store), tmp_path) as (_, content):
        fetched(content, [event])
        files = content.images.files
        wait_until(lambda: files.has(background) and files.has(icon), SLOW, "images on disk")

    offline = kiosk_context(config, kiosk_id, None)
    with cache(offline, tmp_path) as (_, content):
        catalog = content.catalog
        assert catalog.offline and catalog.welcome == "Hello"
        assert [card.event_id for card in catalog.events] == [event.event_id]
        assert near(centre(surface_of(content.images, background, (960, 540))), RED)
        assert surface_of(content.images, icon, (128, 128)).get_size() == (128, 128)

        offline.store = store  # the storage actor connected
        fetched(content, [event])
