"""The kiosk UI actor (``root/kiosk/ui``): it owns the window and the thread that runs the
screens' loop.

::

    kiosk              supervisor, rest_for_one (kiosk_ui.role)
    ├── cache          AssetCache: the catalog and the images (kiosk_ui.cache)
    └── ui             KioskUI: the window and its loop (this module)

``on_start`` gets the cache's :class:`~kiosk_ui.cache.KioskContent`, starts the loop thread
and returns once the first frame is drawn. The loop thread calls
:meth:`KioskApp.step <kiosk_ui.app.KioskApp.step>` at up to :data:`FPS` frames a second. An
error in it is handed to the actor, which crashes with it; so does an injected crash
(``crash root/kiosk/ui``). Either way ``on_failure`` stops the loop and closes the window,
and the supervisor starts a new actor: a new window on a new Welcome screen, with nothing
of the last session, and the cache (started before it) untouched.

The actor's own thread answers the node link: a :class:`~node.screens.ScreenRequest`
gets a picture of the screen (taken on the loop thread, encoded on this one), ``"view"``
the screen's name and buttons, ``"frame_times"`` the frame times since the last ask (the
bench's), a :class:`~node.screens.Tap` a touch at a point, a
:class:`~node.screens.TapButton` one on a button by its label (the shell's ``tap``).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import pygame

from actors.actor import GatherActor
from kiosk_ui.app import KioskApp
from kiosk_ui.display import DisplaySettings, close_window, open_window
from kiosk_ui.picture import encode
from node.context import NodeContext
from node.notices import KIOSK_CACHE
from node.screens import ScreenImage, ScreenRequest, Tap, TapButton

log = logging.getLogger("gather.kiosk")

FPS = 60
IDLE_FPS = 20
"""Turns a second once nothing has been drawn for :data:`BUSY_S`: touches still answer
within 50 ms, at a third of the CPU."""
BUSY_S = 2.0
START_TIMEOUT_S = 10.0
PICTURE_TIMEOUT_S = 2.0


class LoopFailed(Exception):
    """The UI loop raised; the actor crashes with it (its cause)."""


class KioskUI(GatherActor):
    """The kiosk's window and screens, on the node of ``context``."""

    def __init__(self, context: NodeContext) -> None:
        super().__init__()
        self.context = context
        self.settings = DisplaySettings.from_environment()
        self.app: KioskApp | None = None
        self._quit = threading.Event()
        self._started = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_error: BaseException | None = None

    def on_start(self) -> None:
        assert self.registry is not None, "KioskUI runs in a tree"
        content = self.registry.ask(KIOSK_CACHE, "content", timeout=START_TIMEOUT_S)
        self._thread = threading.Thread(
            target=self._ui_thread, args=(content,), name=f"{self.path}/loop", daemon=True
        )
        self._thread.start()
        if not self._started.wait(START_TIMEOUT_S):
            raise TimeoutError(f"the kiosk window did not open within {START_TIMEOUT_S} s")
        if self._start_error is not None:
            raise LoopFailed("the kiosk window could not open") from self._start_error
        log.info("kiosk screens up (%s)", self.settings.describe())

    def on_receive(self, message: Any) -> Any:
        if isinstance(message, ScreenRequest):
            return self._picture(message.max_bytes)
        if isinstance(message, Tap):
            self._require_app().tap(message.x, message.y).result(PICTURE_TIMEOUT_S)
            return None
        if isinstance(message, TapButton):
            app = self._require_app()
            screen = app.screen.name
            app.tap_button(message.label).result(PICTURE_TIMEOUT_S)
            return screen
        if message == "view":
            return self._require_app().view()
        if message == "frame_times":
            return self._require_app().take_frame_times()
        if isinstance(message, LoopFailed):
            raise message
        raise ValueError(f"unexpected message {message!r}")

    def on_stop(self) -> None:
        self._halt()

    def on_failure(self, *_: Any) -> None:
        self._halt()

    # -- the loop thread --------------------------------------------------------------------

    def _ui_thread(self, content: Any) -> None:
        try:
            window = open_window(self.settings, f"Gather {self.context.name}")
            context = self.context
            self.app = KioskApp(
                window,
                content,
                context.config.site,
                context.cookie,
                context.name,
                lambda: context.store,
                sms=context.config.sms,
            )
            self.app.step(pygame.event.get())
        except BaseException as error:
            self._start_error = error
            self._started.set()
            close_window()
            return
        self._started.set()
        try:
            self._loop(self.app)
        except Exception as error:
            if not self._quit.is_set():
                log.error("kiosk UI loop failed: %s", type(error).__name__)
                failure = LoopFailed(f"the UI loop raised {type(error).__name__}")
                failure.__cause__ = error
                self.actor_ref.tell(failure)
        finally:
            self.app.close()
            close_window()

    def _loop(self, app: KioskApp) -> None:
        clock = pygame.time.Clock()
        last_frame = time.monotonic()
        while not self._quit.is_set():
            app.post_taps()
            if app.step(pygame.event.get()):
                last_frame = time.monotonic()
            clock.tick(FPS if time.monotonic() - last_frame < BUSY_S else IDLE_FPS)

    def _halt(self) -> None:
        self._quit.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=2.0)

    # -- answers ----------------------------------------------------------------------------

    def _require_app(self) -> KioskApp:
        if self.app is None:
            raise LoopFailed("the kiosk window is not open")
        return self.app

    def _picture(self, max_bytes: int) -> ScreenImage:
        picture, screen, masked = self._require_app().request_picture().result(PICTURE_TIMEOUT_S)
        data, width, height = encode(picture, max_bytes)
        return ScreenImage(
            node=self.context.name,
            screen=screen,
            masked=masked,
            width=width,
            height=height,
            content_type="image/jpeg",
            data=data,
            taken_at=time.time(),
        )
