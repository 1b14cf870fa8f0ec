"""Screenshots of every kiosk screen for the README, from the kiosk app on the demo data.

python -m kiosk_ui.screenshots [--config cluster.yaml] [--kiosk kiosk-1]

Runs the kiosk's own app and asset cache (as the kiosk node does, headless at 1920x1080) on
the configured keyspace, taps through a sign-up for the first event with a made-up member,
saves each screen to docs/screenshots/kiosk-*.png (at half size), and cancels the sign-up
again. Needs the demo data (``make run`` seeds it, or ``python -m storage.demo``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import pygame

import signups
from actors import DomainError
from config import cluster as cluster_config
from kiosk_ui.app import KioskApp
from kiosk_ui.cache import AssetCache, KioskContent
from kiosk_ui.screens.result import ResultScreen
from kiosk_ui.screens.still_there import StillThereScreen
from node.context import NodeContext
from node.logbuffer import LogBuffer
from storage.store import Store
from supervision import ChildSpec, Supervisor, Tree

FOLDER = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
SIZE = (1920, 1080)
MEMBER = ("ada lovelace", "+15552010142")
"""Made up (a 555 number, as in fiction)."""
SETTLE_S = 20.0


class Tapper:
    """The app on a headless window, tapped by label as a finger would."""

    def __init__(self, app: KioskApp) -> None:
        self.app = app

    def step(self) -> None:
        self.app.post_taps()
        self.app.step(pygame.event.get())

    def tap(self, label: str) -> None:
        self.app.tap_button(label)
        self.step()

    def type(self, text: str) -> None:
        for char in text:
            self.tap("Space" if char == " " else char.upper())

    def settle(self) -> None:
        """Step until every image on screen is drawn and no Confirm is in flight."""
        deadline = time.monotonic() + SETTLE_S
        self.step()
        while (self.app.confirming or not self.app.complete) and time.monotonic() < deadline:
            time.sleep(0.02)
            self.step()

    def save(self, name: str) -> None:
        self.settle()
        half = pygame.transform.smoothscale(self.app.window, (SIZE[0] // 2, SIZE[1] // 2))
        path = FOLDER / f"kiosk-{name}.png"
        pygame.image.save(half, str(path))
        print(f"saved {path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", help="path of cluster.yaml")
    parser.add_argument("--kiosk", default="kiosk-1", help="the kiosk whose events to show")
    args = parser.parse_args(argv)
    config = cluster_config.load(args.config)
    node = config.nodes[args.kiosk]
    store = Store(config, node=args.kiosk)
    context = NodeContext(
        config=config, node=node, cookie=config.cookie.read(), logs=LogBuffer(), store=store
    )
    FOLDER.mkdir(parents=True, exist_ok=True)
    tree = Tree.start(
        Supervisor.spec("root", [ChildSpec("cache", AssetCache, kwargs={"context": context})])
    )
    pygame.display.init()
    window = pygame.display.set_mode(SIZE)
    clock = [time.monotonic()]
    try:
        content: KioskContent = tree.registry.ask("root/cache", "content")
        app = KioskApp(
            window,
            content,
            config.site,
            context.cookie,
            args.kiosk,
            lambda: store,
            lambda: clock[0],
            sms=config.sms,
        )
        return _capture(Tapper(app), clock, store)
    finally:
        pygame.display.quit()
        tree.shutdown(10.0)
        store.close()


def _capture(kiosk: Tapper, clock: list[float], store: Store) -> int:
    deadline = time.monotonic() + SETTLE_S
    while kiosk.app.catalog.offline and time.monotonic() < deadline:  # the catalog is fetched
        time.sleep(0.1)
    events = kiosk.app.catalog.events
    if not events:
        print("the kiosk shows no events: seed the demo data first", file=sys.stderr)
        return 1
    kiosk.save("welcome")
    kiosk.tap(events[0].title)
    kiosk.save("event")
    option = next(o for o in events[0].options if o.state in ("open", "waitlist"))
    kiosk.tap(next(b[0] for b in kiosk.app.view()["buttons"] if b[0].startswith(option.label)))
    kiosk.type(MEMBER[0])
    kiosk.save("signup-name")
    kiosk.tap("Next")
    kiosk.type(MEMBER[1])
    kiosk.save("signup-contact")
    kiosk.tap("Next")
    kiosk.tap("+")
    kiosk.save("signup-party")
    kiosk.tap("Next")
    kiosk.save("signup-review")
    kiosk.tap("Confirm")
    kiosk.save("result")
    screen = kiosk.app.screen
    if isinstance(screen, ResultScreen) and screen.registration is not None:
        ref, contact = screen.registration.ref, screen.registration.contact
        try:
            signups.cancel(store, signups.Client.kiosk("screenshots"), ref, contact)
        except DomainError as refused:
            print(f"could not cancel the sign-up: {refused}", file=sys.stderr)
    kiosk.tap("Done")
    kiosk.tap(events[0].title)
    clock[0] += kiosk.app.catalog.idle_timeout_s
    kiosk.step()
    assert isinstance(kiosk.app.screen, StillThereScreen)
    kiosk.save("still-there")
    kiosk.tap("Start again")
    kiosk.tap("Larger text")
    kiosk.save("welcome-large")
    return 0


if __name__ == "__main__":
    sys.exit(main())
