"""Presses from a touchscreen (and, for development, a mouse), in window pixels.

SDL reports a touch twice: as a finger event, whose coordinates are normalised to 0..1 of the
window, and as a mouse event it synthesises from it, marked ``touch``. :func:`presses` takes
the finger's and drops the synthesised mouse's, so that one tap is one press; a real mouse's
left button still counts, so the kiosk works on a development machine.

Call it on the UI's thread, with the events of one turn of its loop::

    for press in presses(pygame.event.get(), screen.get_size()):
        screen_now.press(press)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pygame

LEFT_BUTTON = 1


@dataclass(frozen=True)
class Press:
    """A finger (or the mouse's left button) going down at ``(x, y)`` window pixels."""

    x: int
    y: int
    by_touch: bool


def presses(events: Iterable[pygame.event.Event], size: tuple[int, int]) -> list[Press]:
    """The presses among ``events`` on a window of ``size``, in order; one per tap."""
    width, height = size
    found = []
    for event in events:
        if event.type == pygame.FINGERDOWN:
            x = min(width - 1, max(0, int(event.x * width)))
            y = min(height - 1, max(0, int(event.y * height)))
            found.append(Press(x, y, by_touch=True))
        elif (
            event.type == pygame.MOUSEBUTTONDOWN
            and event.button == LEFT_BUTTON
            and not getattr(event, "touch", False)
        ):
            x, y = event.pos
            found.append(Press(x, y, by_touch=False))
    return found
