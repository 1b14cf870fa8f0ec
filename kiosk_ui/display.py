"""How the kiosk opens its window: fullscreen on a real display, a window for development,
or SDL's dummy driver when there is no display at all (tests, the bench, CI).

Set by the environment of the node process, so that one cluster.yaml serves every kiosk:

``GATHER_KIOSK_DISPLAY``
    ``fullscreen`` (the default: the whole screen at its own resolution), ``windowed`` or
    ``windowed:WIDTHxHEIGHT`` (default 1280x720). ``run_node.py --windowed`` sets it.
``SDL_VIDEODRIVER=dummy``
    No display: the screens are drawn in memory at ``GATHER_KIOSK_SIZE`` (default
    1920x1080), exactly as on a screen; pictures and tests see them.

:func:`open_window` must be called on the thread that runs the UI loop.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import pygame

DISPLAY_VARIABLE = "GATHER_KIOSK_DISPLAY"
SIZE_VARIABLE = "GATHER_KIOSK_SIZE"
WINDOW_SIZE = (1280, 720)
HEADLESS_SIZE = (1920, 1080)
_SIZE = re.compile(r"^(\d{3,5})x(\d{3,5})$")


@dataclass(frozen=True)
class DisplaySettings:
    """``mode`` is ``fullscreen``, ``windowed`` or ``headless``; ``size`` None: the screen's."""

    mode: str
    size: tuple[int, int] | None

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> DisplaySettings:
        """The settings the environment asks for; ValueError naming a bad variable."""
        env = os.environ if environ is None else environ
        if env.get("SDL_VIDEODRIVER") == "dummy":
            return cls("headless", _size(SIZE_VARIABLE, env.get(SIZE_VARIABLE), HEADLESS_SIZE))
        value = env.get(DISPLAY_VARIABLE, "fullscreen")
        mode, _, size = value.partition(":")
        if mode == "fullscreen" and not size:
            return cls("fullscreen", None)
        if mode == "windowed":
            return cls("windowed", _size(DISPLAY_VARIABLE, size or None, WINDOW_SIZE))
        raise ValueError(
            f"{DISPLAY_VARIABLE}={value!r}: expected fullscreen, windowed or windowed:WIDTHxHEIGHT"
        )

    def describe(self) -> str:
        """For the log: ``fullscreen``, ``windowed 1280x720``, ``headless 1920x1080``."""
        return self.mode if self.size is None else f"{self.mode} {self.size[0]}x{self.size[1]}"


def open_window(settings: DisplaySettings, title: str) -> pygame.Surface:
    """Initialise SDL's video and fonts on this thread and open the kiosk's window."""
    pygame.display.init()
    pygame.font.init()
    pygame.display.set_caption(title)
    if settings.mode == "fullscreen":
        window = pygame.display.set_mode((0, 0), pygame.FULLSCREEN)
        pygame.mouse.set_visible(False)
    else:
        assert settings.size is not None
        window = pygame.display.set_mode(settings.size)
    pygame.event.set_blocked(None)  # the kiosk reads touches only: no queue of motion events
    pygame.event.set_allowed([pygame.FINGERDOWN, pygame.MOUSEBUTTONDOWN, pygame.QUIT])
    return window


def close_window() -> None:
    """Close the window and SDL's video (the UI actor stopping or crashing)."""
    pygame.display.quit()


def _size(variable: str, value: str | None, default: tuple[int, int]) -> tuple[int, int]:
    if value is None:
        return default
    match = _SIZE.match(value)
    if match is None:
        raise ValueError(f"{variable}={value!r}: expected a size such as 1920x1080")
    return int(match[1]), int(match[2])
