"""Drawing the kiosk's widgets in a theme: labels that always fit, buttons, keyboards.

Fonts are Pygame's bundled one (``freesansbold.ttf``: Latin letters with their accents), so a
kiosk needs no system fonts. A label is drawn at the theme's size and, where it would not
fit its button, at the largest size that does: text is never cut. Rendered labels are
cached (:data:`LABEL_CACHE` of them), so redrawing unchanged text is a blit.

Call from the UI's thread (Pygame's surfaces and fonts are not thread-safe).
"""

from __future__ import annotations

import functools

import pygame

from kiosk_ui.keyboard import Key
from kiosk_ui.theme import Colour, Metrics, Theme

MIN_LABEL_PX = 12
LABEL_CACHE = 2048
"""Rendered labels kept: a few screens' worth, in both themes."""
ELLIPSIS = "..."


@functools.lru_cache(maxsize=64)
def font(size_px: int) -> pygame.font.Font:
    """The kiosk's font at ``size_px`` pixels (cached: opening one reads the file)."""
    if not pygame.font.get_init():
        pygame.font.init()
    return pygame.font.Font(None, size_px)


def private_label(text: str, colour: Colour, size_px: int, room: tuple[int, int]) -> pygame.Surface:
    """``text`` rendered at ``size_px``, or smaller until it fits ``room`` (width, height).

    Not cached: for what a member typed, which must not outlive their screen.
    """
    size = size_px
    while True:
        label = font(size).render(text, True, colour)
        if (label.get_width() <= room[0] and label.get_height() <= room[1]) or size <= MIN_LABEL_PX:
            return label
        size = max(MIN_LABEL_PX, size * 9 // 10)


fitted_label = functools.lru_cache(maxsize=LABEL_CACHE)(private_label)
""":func:`private_label`, cached: for the kiosk's own words. The surface is shared by every
caller with the same arguments: blit it, never draw on it."""


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
    outline = None if primary else theme.muted
    surface.blit(_shape(rect.size, fill, outline, metrics.gap_px), rect)
    padding = max(4, metrics.gap_px // 2)
    label = fitted_label(
        text, ink, metrics.body_px, (rect.width - 2 * padding, rect.height - 2 * padding)
    )
    placed = label.get_rect(center=rect.center)
    surface.blit(label, placed)
    return placed


def disabled_button(
    surface: pygame.Surface, rect: pygame.Rect, text: str, theme: Theme, metrics: Metrics
) -> None:
    """A button that cannot be pressed (an option that is full or closed): its label in the
    muted colour on the panel, with no outline."""
    surface.blit(_shape(rect.size, theme.panel, None, metrics.gap_px), rect)
    padding = max(4, metrics.gap_px // 2)
    label = fitted_label(
        text, theme.muted, metrics.body_px, (rect.width - 2 * padding, rect.height - 2 * padding)
    )
    surface.blit(label, label.get_rect(center=rect.center))


def panel(
    surface: pygame.Surface, rect: pygame.Rect, theme: Theme, metrics: Metrics, outline: bool
) -> None:
    """The theme's panel behind text, with a line round it if ``outline``."""
    surface.blit(
        _shape(rect.size, theme.panel, theme.muted if outline else None, metrics.gap_px), rect
    )


CORNER_KEY = (255, 0, 254)
"""The colour key of a shape's corners: no theme colour."""


@functools.lru_cache(maxsize=512)
def _shape(
    size: tuple[int, int], fill: Colour, outline: Colour | None, gap_px: int
) -> pygame.Surface:
    """A rounded rectangle of ``size`` (radius from the gap), drawn once and blitted after:
    a colour-keyed blit costs a fraction of drawing rounded corners every frame."""
    shape = pygame.Surface(size)
    shape.fill(CORNER_KEY)
    shape.set_colorkey(CORNER_KEY, pygame.RLEACCEL)
    area = shape.get_rect()
    radius = max(4, gap_px // 2)
    pygame.draw.rect(shape, fill, area, border_radius=radius)
    if outline is not None:
        pygame.draw.rect(shape, outline, area, width=max(2, gap_px // 6), border_radius=radius)
    return shape


def private_wrapped(text: str, size_px: int, width: int, max_lines: int) -> tuple[str, ...]:
    """``text`` broken into lines of at most ``width`` pixels at ``size_px`` (at word
    boundaries; a word longer than a line is broken), at most ``max_lines`` of them, the
    last ending in an ellipsis when the text goes on.

    Not cached: for text with a member's details, which must not outlive their screen.
    """
    measure = font(size_px).size
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}" if line else word
            if measure(candidate)[0] <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            line = word
            while len(line) > 1 and measure(line)[0] > width:  # a word wider than a line
                cut = len(line) - 1
                while cut > 1 and measure(line[:cut])[0] > width:
                    cut -= 1
                lines.append(line[:cut])
                line = line[cut:]
        lines.append(line)
    if len(lines) <= max_lines:
        return tuple(lines)
    last = lines[max_lines - 1]
    while last and measure(last + ELLIPSIS)[0] > width:
        last = last[:-1]
    return (*lines[: max_lines - 1], last.rstrip() + ELLIPSIS)


wrapped = functools.lru_cache(maxsize=256)(private_wrapped)
""":func:`private_wrapped`, cached: for the kiosk's own words."""


def keyboard(
    surface: pygame.Surface,
    placed: list[tuple[Key, pygame.Rect]],
    theme: Theme,
    metrics: Metrics,
) -> list[pygame.Rect]:
    """Every key of a laid-out keyboard page; returns where each label went."""
    return [button(surface, rect, key.label, theme, metrics) for key, rect in placed]
