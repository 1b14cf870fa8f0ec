"""QR codes for the result screen, encoded by segno and drawn as a Pygame surface.

The code is black on white with its four-module quiet zone whatever the theme (phone
cameras read dark on light most reliably), each module a whole number of pixels so that
edges stay sharp::

    surface = qr_surface("https://example.org/registrations/ABC?proof=...", 320)

Pure (no state): call from the UI's thread, where surfaces are drawn.
"""

from __future__ import annotations

import pygame
import segno

QUIET_ZONE = 4
"""Modules of white around the code, as ISO/IEC 18004 asks."""
DARK = (0, 0, 0)
LIGHT = (255, 255, 255)


def qr_surface(data: str, max_px: int) -> pygame.Surface:
    """``data`` as a QR code (error correction M) at most ``max_px`` pixels square."""
    code = segno.make(data, error="m", micro=False)
    matrix = code.matrix
    modules = len(matrix) + 2 * QUIET_ZONE
    module_px = max(1, max_px // modules)
    surface = pygame.Surface((modules * module_px, modules * module_px))
    surface.fill(LIGHT)
    for row, bits in enumerate(matrix):
        for column, bit in enumerate(bits):
            if bit:
                surface.fill(
                    DARK,
                    pygame.Rect(
                        (column + QUIET_ZONE) * module_px,
                        (row + QUIET_ZONE) * module_px,
                        module_px,
                        module_px,
                    ),
                )
    return surface
