"""Pictures of the kiosk's screen for staff (the shell's ``screen``, the cluster page).

:func:`snapshot` (UI thread) copies the window, scaled down; a masked screen keeps only its
top bar (the kiosk's own words) and says the rest is hidden, so that no name, contact or
reference code leaves the kiosk. :func:`encode` (any thread) compresses the snapshot as
JPEG, smaller and smaller until it fits the byte limit the asker gave.
"""

from __future__ import annotations

import io

import pygame

from kiosk_ui import draw
from kiosk_ui.theme import Theme

WIDTH = 960
"""The widest snapshot: enough to read a screen's layout, small enough to send often."""
MIN_WIDTH = 120
MASK_TEXT = "A member is using this screen: hidden to keep their details private"


class PictureTooLarge(ValueError):
    """Even the smallest picture would not fit the byte limit asked for."""


def snapshot(window: pygame.Surface, masked: bool, theme: Theme) -> pygame.Surface:
    """The window as staff may see it, at most :data:`WIDTH` pixels wide."""
    frame = window.copy()
    if masked:
        metrics = theme.metrics(*frame.get_size())
        bar = metrics.target_px + 2 * metrics.gap_px
        hidden = pygame.Rect(0, bar, frame.get_width(), frame.get_height() - bar)
        frame.fill(theme.background, hidden)
        label = draw.fitted_label(
            MASK_TEXT,
            theme.muted,
            metrics.body_px,
            (hidden.width - 2 * metrics.gap_px, hidden.height),
        )
        frame.blit(label, label.get_rect(center=hidden.center))
    return _scaled(frame, WIDTH)


def encode(picture: pygame.Surface, max_bytes: int) -> tuple[bytes, int, int]:
    """``picture`` as JPEG bytes of at most ``max_bytes``, with the width and height it was
    sent at (halved until it fits); raises :class:`PictureTooLarge`."""
    while True:
        buffer = io.BytesIO()
        pygame.image.save(picture, buffer, "screen.jpg")
        data = buffer.getvalue()
        width, height = picture.get_size()
        if len(data) <= max_bytes:
            return data, width, height
        if width // 2 < MIN_WIDTH:
            raise PictureTooLarge(f"a picture of the screen does not fit in {max_bytes} bytes")
        picture = _scaled(picture, width // 2)


def _scaled(surface: pygame.Surface, width: int) -> pygame.Surface:
    if surface.get_width() <= width:
        return surface
    height = max(1, surface.get_height() * width // surface.get_width())
    return pygame.transform.smoothscale(surface, (width, height))
