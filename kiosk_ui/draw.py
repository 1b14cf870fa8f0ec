"""Drawing the kiosk's widgets in a theme: labels that always fit, buttons, keyboards.

Fonts are Pygame's bundled one (``freesansbold.ttf``: Latin letters with their accents), so a
kiosk needs no system fonts. A label is drawn at the theme's size and, where it would not
fit its button, at the largest size that does: text is never cut.

Call from the UI's thread (Pygame's surfaces and fonts are not thread-safe).
"""

from __future__ import annotations

import functools

import pygame

from kiosk_ui.keyboard import Key
from kiosk_ui.theme import Colour, Metrics, Theme

MIN_LABEL_PX = 12


@functools.lru_cache(maxsize=64)
def font(size_px: int) -> pygame.font.Font:
    """The kiosk's font at ``size_px`` pixels (cached: opening one reads the file)."""
    if not pygame.font.get_init():
        pygame.font.init()
    return pygame.font.Font(None, size_px)


def fitted_label(text: str, colour: Colour, size_px: int, room: tuple[int, int]) -> pygame.Surface:
    """``text`` rendered at ``size_px``, or smaller until it fits ``room`` (width, height)."""
    size = size_px
    while True:
        label = font(size).render(text, True, colour)
        if (label.get_width() <= room[0] and label.get_height() <= room[1]) or size <= MIN_LABEL_PX:
            return label
        size = max(MIN_LABEL_PX, size * 9 // 10)


def button(
    surface: pygame.Surface,
    rect: pygame.Rect,
    text: str,
    theme: Theme,
    metrics: Metrics,
    primary: bool = False,
) -> pygame.Rect:
    """A button: the accent colour for the ``primary`` one (Confirm), else the panel with an
    outline; returns the rectangle its label took."""
    fill, ink = (theme.accent, theme.accent_text) if primary else (theme.panel, theme.text)
    radius = max(4, metrics.gap_px // 2)
    pygame.draw.rect(surface, fill, rect, border_radius=radius)
    if not primary:
        pygame.draw.rect(
            surface, theme.muted, rect, width=max(2, metrics.gap_px // 6), border_radius=radius
        )
    padding = max(4, metrics.gap_px // 2)
    label = fitted_label(
        text, ink, metrics.body_px, (rect.width - 2 * padding, rect.height - 2 * padding)
    )
    placed = label.get_rect(center=rect.center)
    surface.blit(label, placed)
    return placed


def keyboard(
    surface: pygame.Surface,
    placed: list[tuple[Key, pygame.Rect]],
    theme: Theme,
    metrics: Metrics,
) -> list[pygame.Rect]:
    """Every key of a laid-out keyboard page; returns where each label went."""
    return [button(surface, rect, key.label, theme, metrics) for key, rect in placed]
