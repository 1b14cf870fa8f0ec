"""The kiosk app: its screens on a window, one turn of the loop at a time.

:meth:`KioskApp.step` takes the SDL events of one turn, turns touches into presses
(:mod:`kiosk_ui.touch`), runs the pressed button's action, applies the idle rules, and
redraws when something changed: a press, the catalog or its seats or an image
(:attr:`KioskContent.version`), a countdown's second. The UI thread
(:mod:`kiosk_ui.actor`) calls it in a loop; tests and the bench call it directly::

    app = KioskApp(window, content, config.site, cookie, "kiosk-1", lambda: store, sms=config.sms)
    while running:
        app.step(pygame.event.get())
        clock.tick(60)

Idle and privacy: after the kiosk's ``idle_timeout_s`` without a press, a screen other than
Welcome gets the "Are you still there?" prompt; when its countdown ends (or a result has
been shown long enough), the kiosk goes back to Welcome: the screen's :meth:`forget` empties
the form, the next Welcome is a new one, the large-text mode goes back to the kiosk's
setting, and the frame is redrawn whole. Nothing a member typed is logged or cached.

Confirm runs on a worker thread (it waits on Cassandra); its outcome is picked up by a later
step. An error that is not a refusal is re-raised by that step: the UI actor crashes and is
restarted, on Welcome.

Not thread-safe: every method but :meth:`request_picture` and :meth:`tap` belongs to the UI
thread.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import pygame

import signups
from actors.errors import InvalidOperation
from config.cluster import SiteConfig, SmsConfig
from kiosk_ui.cache import KioskContent
from kiosk_ui.canvas import Canvas
from kiosk_ui.catalog import Catalog
from kiosk_ui.form import Refusal, Signed, SignupForm
from kiosk_ui.picture import snapshot
from kiosk_ui.screens import Screen
from kiosk_ui.screens.parts import as_dialled
from kiosk_ui.screens.result import ResultScreen
from kiosk_ui.screens.signup import SignupScreen
from kiosk_ui.screens.still_there import StillThereScreen
from kiosk_ui.screens.welcome import WelcomeScreen
from kiosk_ui.theme import LARGE_HIGH_CONTRAST, STANDARD, Theme
from kiosk_ui.touch import presses
from signups import links
from storage.errors import Unreachable
from storage.store import Store

LARGE_THEMES = ("high-contrast", "large")
"""Kiosk theme settings (the management UI's) that start it in the large-text mode."""
FRAME_TIMES = 5000
INCOMPLETE_REDRAW_S = 0.1
"""How often a frame still missing an image is redrawn, besides on every cache change."""


@dataclass(frozen=True)
class Outcome:
    """What a Confirm came to, with the waitlist position of a waitlisted sign-up."""

    result: Signed | Refusal
    position: int | None = None


class KioskApp:
    """The screens of kiosk ``node`` on ``window``, with ``content`` from its asset cache."""

    def __init__(
        self,
        window: pygame.Surface,
        content: KioskContent,
        site: SiteConfig,
        cookie: bytes,
        node: str,
        store: Callable[[], Store | None],
        clock: Callable[[], float] = time.monotonic,
        sms: SmsConfig | None = None,
    ) -> None:
        self.window = window
        self.content = content
        self._site = site
        self._sms_number = None if sms is None else as_dialled(sms.number, site.phone_region)
        self._cookie = cookie
        self.node = node
        self._store = store
        self._clock = clock
        self._large = self._configured_large()
        self.screen: Screen = WelcomeScreen()
        self.last_press = clock()
        self.frames = 0
        self.frame_ms: collections.deque[float] = collections.deque(maxlen=FRAME_TIMES)
        """How long each of the last turns that drew a frame took (events, drawing, flip)."""
        self.interactive_at: float | None = None
        """When (``time.time()``) the first complete frame of a loaded catalog (from disk or
        Cassandra) was shown, every image in it."""
        self._canvas: Canvas | None = None
        self._dirty = True
        self._drawn: tuple[int, int] = (-1, -1)  # content version, countdown second
        self._drawn_at = 0.0
        self._showing: tuple[UUID, ...] = ()
        self._worker = ThreadPoolExecutor(1, thread_name_prefix=f"{node}-confirm")
        self._pending: tuple[SignupScreen, Future[Outcome]] | None = None
        self._taps: collections.deque[tuple[float, float, Future[None]]] = collections.deque()
        self._tapped: list[Future[None]] = []
        self._pictures: collections.deque[Future[tuple[pygame.Surface, str, bool]]] = (
            collections.deque()
        )

    # -- what screens ask of the kiosk (kiosk_ui.screens.Kiosk) -------------------------------

    @property
    def catalog(self) -> Catalog:
        return self.content.catalog

    @property
    def site(self) -> SiteConfig:
        return self._site

    @property
    def sms_number(self) -> str | None:
        return self._sms_number

    @property
    def large(self) -> bool:
        return self._large

    @property
    def theme(self) -> Theme:
        return LARGE_HIGH_CONTRAST if self._large else STANDARD

    @property
    def confirming(self) -> bool:
        return self._pending is not None

    def show(self, screen: Screen) -> None:
        self.screen = screen
        self._dirty = True

    def home(self) -> None:
        self.screen.forget()
        self.screen = WelcomeScreen()
        self._large = self._configured_large()
        self._dirty = True

    def confirm(self, form: SignupForm) -> None:
        if self._pending is not None or not isinstance(self.screen, SignupScreen):
            return
        self._pending = (self.screen, self._worker.submit(self._confirm, form))
        self._dirty = True

    def toggle_large(self) -> None:
        self._large = not self._large
        self._dirty = True

    def registration_url(self, ref: str) -> str:
        return self._site.public_url + links.registration_path(self._cookie, ref)

    # -- the loop ---------------------------------------------------------------------------

    def step(self, events: Iterable[pygame.event.Event]) -> bool:
        """One turn of the loop with these SDL events; True when it drew a frame."""
        began = time.perf_counter()
        now = self._clock()
        for press in presses(events, self.window.get_size()):
            self.last_press = now
            if self._dirty or self._canvas is None:
                self._draw(flip=False)
            assert self._canvas is not None
            if self._canvas.press(press.x, press.y):
                self._dirty = True
        self._settle_confirm()
        self._apply_idle(now)
        self._follow_seats()
        drew = self._needs_frame(now)
        if drew:
            self._draw(flip=True)
            self.frame_ms.append((time.perf_counter() - began) * 1000)
            loaded = self.catalog.events or not self.catalog.offline  # not the placeholder
            if self.interactive_at is None and self.complete and loaded:
                self.interactive_at = time.time()
        self._serve_pictures()
        for done in self._tapped:
            done.set_result(None)
        self._tapped.clear()
        return drew

    def post_taps(self) -> None:
        """Post the taps :meth:`tap` queued as SDL would: a finger, then its mouse twin."""
        while self._taps:
            x, y, done = self._taps.popleft()
            self._tapped.append(done)
            width, height = self.window.get_size()
            pygame.event.post(
                pygame.event.Event(
                    pygame.FINGERDOWN,
                    x=x,
                    y=y,
                    dx=0.0,
                    dy=0.0,
                    touch_id=0,
                    finger_id=0,
                    pressure=1.0,
                )
            )
            position = (int(x * width), int(y * height))
            pygame.event.post(
                pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=position, button=1, touch=True)
            )

    def close(self) -> None:
        """Stop the Confirm worker (a Confirm in flight finishes: it is idempotent)."""
        self._worker.shutdown(wait=False, cancel_futures=False)
        for picture in self._pictures:
            picture.cancel()

    # -- any thread -------------------------------------------------------------------------

    def tap(self, x: float, y: float) -> Future[None]:
        """Queue a tap at ``(x, y)`` (0..1 of the window), posted on the UI's next turn; the
        future is done once that turn has handled it and drawn what it changed."""
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            raise ValueError("a tap's x and y are fractions of the window, from 0 to 1")
        done: Future[None] = Future()
        self._taps.append((x, y, done))
        return done

    def tap_button(self, label: str) -> Future[None]:
        """Tap the middle of the last drawn button labelled ``label`` (as :meth:`tap`);
        raises :class:`InvalidOperation` naming the buttons there are."""
        view = self.view()
        found = [button for button in view["buttons"] if button[0] == label]
        if not found:
            shown = ", ".join(repr(button[0]) for button in view["buttons"])
            raise InvalidOperation(f"no button {label!r} on the {view['screen']} screen: {shown}")
        _, x, y, width, height = found[-1]  # the last drawn is on top
        screen_width, screen_height = view["size"]
        return self.tap((x + width / 2) / screen_width, (y + height / 2) / screen_height)

    def request_picture(self) -> Future[tuple[pygame.Surface, str, bool]]:
        """A picture of the screen (masked where it must be), its name and whether it was
        masked, taken on the UI's next turn."""
        future: Future[tuple[pygame.Surface, str, bool]] = Future()
        self._pictures.append(future)
        return future

    def take_frame_times(self) -> list[float]:
        """The frame times (ms) recorded since the last call, oldest first (the bench's)."""
        times = []
        while self.frame_ms:
            times.append(self.frame_ms.popleft())
        return times

    def view(self) -> dict[str, Any]:
        """The screen's name and its buttons (labels are the kiosk's words, never a
        member's): what an operator or a test aims taps at."""
        canvas = self._canvas
        width, height = self.window.get_size()
        buttons = [] if canvas is None else canvas.buttons()
        return {
            "screen": self.screen.name,
            "masked": self.screen.masked,
            "large": self._large,
            "size": [width, height],
            "frames": self.frames,
            "offline": self.catalog.offline,
            "complete": self.complete,
            "interactive_at": self.interactive_at,
            "buttons": [
                [label, rect.x, rect.y, rect.width, rect.height] for label, rect in buttons
            ],
            "images": [] if canvas is None else [f"{r.asset_id}:{r.version}" for r in canvas.shown],
        }

    # -- inside -----------------------------------------------------------------------------

    def _configured_large(self) -> bool:
        return self.content.catalog.theme in LARGE_THEMES

    def _confirm(self, form: SignupForm) -> Outcome:
        store = self._store()
        result = form.confirm(store, self.node)
        if not isinstance(result, Signed) or store is None:
            return Outcome(result)
        self.content.signed_up(form.event_id)
        try:
            position = signups.waitlist_position(store, result.registration)
        except Unreachable:
            position = None
        return Outcome(result, position)

    def _settle_confirm(self) -> None:
        if self._pending is None or not self._pending[1].done():
            return
        screen, future = self._pending
        self._pending = None
        outcome = future.result()  # a fault, not a refusal: raised, the UI actor crashes
        self._dirty = True
        if screen is not self.screen:
            return
        if isinstance(outcome.result, Signed):
            screen.forget()
            self.show(ResultScreen(outcome.result.registration, outcome.position))
        else:
            screen.refused(outcome.result)

    def _apply_idle(self, now: float) -> None:
        if self._pending is not None:
            return
        idle = now - self.last_press
        screen = self.screen
        if isinstance(screen, StillThereScreen):
            if screen.remaining_s <= 0:
                self.home()
        elif screen.timeout_s is not None:
            if idle >= screen.timeout_s:
                self.home()
        elif idle >= self.catalog.idle_timeout_s:
            if isinstance(screen, WelcomeScreen):
                if screen.page or self._large != self._configured_large():
                    self.home()
                self.last_press = now
            else:
                self.show(StillThereScreen(screen, clock=self._clock))

    def _follow_seats(self) -> None:
        events = self.screen.events()
        if events != self._showing:
            self._showing = events
            self.content.showing(events)

    def _needs_frame(self, now: float) -> bool:
        if self._dirty or self._drawn[0] != self.content.version:
            return True
        if self.screen.ticking and int(now) != self._drawn[1]:
            return True
        canvas = self._canvas
        return (
            canvas is not None
            and not canvas.complete
            and now - self._drawn_at >= INCOMPLETE_REDRAW_S
        )

    def _draw(self, flip: bool) -> None:
        now = self._clock()
        version = self.content.version
        canvas = Canvas(self.window, self.theme, self.content.images)
        self.screen.draw(canvas, self)
        self.content.images.want(canvas.wanted)
        self._canvas = canvas
        self._dirty = False
        self._drawn = (version, int(now))
        self._drawn_at = now
        if flip:
            pygame.display.flip()
            self.frames += 1

    def _serve_pictures(self) -> None:
        while self._pictures:
            future = self._pictures.popleft()
            if future.set_running_or_notify_cancel():
                masked = self.screen.masked
                future.set_result(
                    (snapshot(self.window, masked, self.theme), self.screen.name, masked)
                )

    @property
    def complete(self) -> bool:
        """The last frame had every image it shows (the bench's "interactive")."""
        return self._canvas is not None and self._canvas.complete and self.frames > 0
