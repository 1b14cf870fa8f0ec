""" "Are you still there?": shown over a screen left untouched for the kiosk's idle timeout.

It counts down :data:`COUNTDOWN_S` seconds (at least 20, so that somebody reading or
fetching a phone has time to answer), with a large button to go on; at zero the kiosk goes
back to Welcome and forgets everything typed. Pictures of it are masked when the screen
under it is.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from uuid import UUID

import pygame

from kiosk_ui.canvas import Canvas
from kiosk_ui.screens import Kiosk, Screen

COUNTDOWN_S = 30.0


class StillThereScreen(Screen):
    """The prompt over ``under``, which it goes back to on "I am still here"."""

    name = "still-there"
    ticking = True

    def __init__(
        self,
        under: Screen,
        clock: Callable[[], float] = time.monotonic,
        countdown_s: float = COUNTDOWN_S,
    ) -> None:
        self.under = under
        self.masked = under.masked  # as masked as what it covers
        self._clock = clock
        self.deadline = clock() + countdown_s

    @property
    def remaining_s(self) -> float:
        return max(0.0, self.deadline - self._clock())

    def events(self) -> tuple[UUID, ...]:
        return self.under.events()

    def forget(self) -> None:
        self.under.forget()

    def draw(self, canvas: Canvas, kiosk: Kiosk) -> None:
        self.under.draw(canvas, kiosk)
        canvas.cover()
        m = canvas.metrics
        area = canvas.area
        shade = pygame.Surface(area.size, pygame.SRCALPHA)
        shade.fill((0, 0, 0, 160))
        canvas.surface.blit(shade, (0, 0))
        box = pygame.Rect(0, 0, min(area.width - 2 * m.gap_px, 16 * m.target_px), 5 * m.target_px)
        box.center = area.center
        canvas.panel(box, outline=True)
        inner = box.inflate(-2 * m.gap_px, -2 * m.gap_px)
        y = canvas.text(
            "Are you still there?", inner.midtop, m.heading_px, width=inner.width, anchor="midtop"
        ).bottom
        seconds = math.ceil(self.remaining_s)
        canvas.text(
            f"Going back to the start in {seconds} s",
            (inner.centerx, y + m.gap_px),
            colour=canvas.theme.muted,
            width=inner.width,
            anchor="midtop",
        )
        row = pygame.Rect(
            inner.left,
            inner.bottom - round(1.5 * m.target_px),
            inner.width,
            round(1.5 * m.target_px),
        )
        half = (row.width - m.gap_px) // 2
        canvas.button(pygame.Rect(row.left, row.top, half, row.height), "Start again", kiosk.home)
        canvas.button(
            pygame.Rect(row.right - half, row.top, half, row.height),
            "I am still here",
            lambda: kiosk.show(self.under),
            primary=True,
        )
