"""Demo data for ``make run``: three upcoming events with icons, backgrounds and options.

``python -m storage.demo`` adds each demo event unless an event with its short code already
exists, so running it again changes nothing. Images are drawn with Pygame and stored as PNG
assets; kiosk ``kiosk-1`` is set up to show the events.
"""

from __future__ import annotations

import argparse
import io
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import pygame

from config import cluster as cluster_config
from storage.errors import NotFound
from storage.store import Store


@dataclass(frozen=True)
class DemoEvent:
    code: str
    title: str
    description: str
    location: str
    days_ahead: int
    hours: int
    colours: tuple[tuple[int, int, int], tuple[int, int, int]]
    options: tuple[tuple[str, int, bool], ...]


EVENTS = (
    DemoEvent(
        "PICNIC",
        "Summer picnic",
        "Bring a dish to share. Games for the children, music in the afternoon.",
        "Riverside Park, north lawn",
        10,
        5,
        ((38, 120, 72), (214, 236, 170)),
        (("Saturday lunch", 80, True), ("Volunteer: setup", 6, False)),
    ),
    DemoEvent(
        "CHOIR",
        "Christmas choir rehearsal",
        "All voices welcome. Sheet music is provided.",
        "Parish hall",
        4,
        2,
        ((120, 24, 40), (245, 210, 160)),
        (("Sopranos and altos", 20, True), ("Tenors and basses", 20, True)),
    ),
    DemoEvent(
        "FOODBANK",
        "Food bank shift",
        "Sort donations and pack parcels for families in need.",
        "Community centre, back entrance",
        2,
        3,
        ((30, 64, 140), (190, 214, 245)),
        (("Morning shift", 8, True), ("Afternoon shift", 8, False)),
    ),
)


def png(size: tuple[int, int], colours: tuple[tuple[int, int, int], ...], icon: bool) -> bytes:
    """A PNG image: a vertical gradient; an icon adds a bold white ring in the middle."""
    width, height = size
    surface = pygame.Surface(size)
    top, bottom = colours
    for y in range(height):
        mix = y / max(height - 1, 1)
        colour = tuple(round(a + (b - a) * mix) for a, b in zip(top, bottom, strict=True))
        pygame.draw.line(surface, colour, (0, y), (width, y))
    if icon:
        radius = min(width, height) // 3
        centre = (width // 2, height // 2)
        pygame.draw.circle(surface, (255, 255, 255), centre, radius)
        pygame.draw.circle(surface, top, centre, radius * 2 // 3, width=max(radius // 5, 2))
    out = io.BytesIO()
    pygame.image.save(surface, out, "demo.png")
    return out.getvalue()


def seed(store: Store, time_zone: str, kiosk_id: str = "kiosk-1") -> list[str]:
    """Add the demo events that are missing, in the site's ``time_zone``; return the short
    codes added."""
    added = []
    event_ids = []
    today = datetime.now(UTC).replace(hour=17, minute=0, second=0, microsecond=0)
    for demo in EVENTS:
        try:
            event_ids.append(store.events.by_code(demo.code).event_id)
            continue
        except NotFound:
            pass
        icon = store.assets.put(
            [png((256, 256), demo.colours, icon=True)], "image/png", f"{demo.code.lower()}-icon"
        )
        background = store.assets.put(
            [png((1280, 720), demo.colours, icon=False)],
            "image/png",
            f"{demo.code.lower()}-background",
        )
        starts = today + timedelta(days=demo.days_ahead)
        event = store.events.create(
            title=demo.title,
            starts_at=starts,
            ends_at=starts + timedelta(hours=demo.hours),
            time_zone=time_zone,
            short_code=demo.code,
            description=demo.description,
            location=demo.location,
            icon_asset=icon.asset_id,
            background_asset=background.asset_id,
        )
        for label, capacity, waitlist in demo.options:
            store.events.add_option(event.event_id, label, capacity, waitlist=waitlist)
        event_ids.append(event.event_id)
        added.append(demo.code)
    store.kiosks.put(kiosk_id, event_ids, welcome="Welcome! Tap an event to sign up.")
    return added


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m storage.demo", description=__doc__)
    parser.add_argument("--config", help="path of cluster.yaml")
    args = parser.parse_args()
    config = cluster_config.load(args.config)
    with Store(config, node="demo") as store:
        added = seed(store, config.site.time_zone)
    print(f"demo events added: {', '.join(added)}" if added else "demo events already present")


if __name__ == "__main__":
    main()
