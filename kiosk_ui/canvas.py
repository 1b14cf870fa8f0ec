"""One frame of the kiosk, drawn and made touchable in the same pass.

A screen draws itself on a :class:`Canvas` each time the picture changes. Every button it
draws is registered with what a press on it does, so where a button is drawn and where it
answers a finger can never disagree::

    canvas = Canvas(window, theme, content.images)
    canvas.button(rect, "Next", lambda: form.next_step())
    ...
    canvas.press(x, y)      # runs the action of the button under (x, y), if any

Text is drawn through :mod:`kiosk_ui.draw`, whose rendered labels are cached, so that a
frame of unchanged text costs blits, not font rendering.

Not thread-safe: a canvas belongs to the UI's thread, like the window it draws on.
"""

from __future__ import annotations

from collections.abc import Callable

import pygame

from kiosk_ui import draw
from kiosk_ui.cache import Fit, Images
from kiosk_ui.catalog import AssetRef
from kiosk_ui.theme import Colour, Metrics, Theme

Action = Callable[[], None]


class Canvas:
    """The window, its theme's sizes, the images, and the buttons drawn on it so far."""

    def __init__(self, surface: pygame.Surface, theme: Theme, images: Images) -> None:
        self.surface = surface
        self.theme = theme
        self.metrics: Metrics = theme.metrics(*surface.get_size())
        self.images = images
        self.area = surface.get_rect()
        self._targets: list[tuple[pygame.Rect, Action, str]] = []
        self.wanted: list[tuple[AssetRef, tuple[int, int], Fit]] = []
        """The images this frame drew or will draw next (the cache keeps them)."""
        self.complete = True
        """False when an image this frame needs was not decoded yet."""
        self.shown: list[AssetRef] = []
        """The images this frame drew (decoded versions, in drawing order)."""
        self.texts: list[str] = []
        """Every line of text drawn, in order (what tests read; a frame's canvas is dropped
        with the frame)."""

    # -- touch ------------------------------------------------------------------------------

    def press(self, x: int, y: int) -> bool:
        """Run the action of the button at ``(x, y)``; False when the press hit none."""
        for rect, action, _ in reversed(self._targets):  # the last drawn is on top
            if rect.collidepoint(x, y):
                action()
                return True
        return False

    def target(self, rect: pygame.Rect, action: Action, label: str = "") -> None:
        """Make ``rect`` answer a press with ``action`` (for areas drawn another way);
        ``label`` names it to :meth:`buttons` (never a member's text)."""
        self._targets.append((rect, action, label))

    def cover(self) -> None:
        """Make everything drawn so far untouchable (a prompt drawn over a screen)."""
        self._targets.clear()

    def buttons(self) -> list[tuple[str, pygame.Rect]]:
        """Every touchable rectangle with its label, in drawing order (what an operator's
        or a test's tap aims at; tests check their sizes)."""
        return [(label, rect) for rect, _, label in self._targets]

    # -- drawing ----------------------------------------------------------------------------

    def fill(self, colour: Colour | None = None) -> None:
        self.surface.fill(colour or self.theme.background)

    def button(
        self,
        rect: pygame.Rect,
        text: str,
        action: Action | None,
        primary: bool = False,
    ) -> None:
        """A button; ``action`` None draws it disabled (muted, not touchable)."""
        self.texts.append(text)
        if action is None:
            draw.disabled_button(self.surface, rect, text, self.theme, self.metrics)
            return
        draw.button(self.surface, rect, text, self.theme, self.metrics, primary=primary)
        self.target(rect, action, text)

    def panel(self, rect: pygame.Rect, outline: bool = False) -> None:
        """The theme's panel colour behind text, ``outline``d where it must stand out (a
        field, a prompt) even when the panel is the background's colour."""
        draw.panel(self.surface, rect, self.theme, self.metrics, outline)

    def text(
        self,
        text: str,
        at: tuple[int, int],
        size_px: int | None = None,
        colour: Colour | None = None,
        width: int | None = None,
        anchor: str = "topleft",
        private: bool = False,
    ) -> pygame.Rect:
        """One line of ``text`` at ``at`` (by ``anchor``), shrunk to ``width`` if given;
        returns the rectangle it took. ``private`` text (what a member typed) is rendered
        afresh, never cached."""
        size = size_px or self.metrics.body_px
        room = (width or self.area.width, size * 2)
        render = draw.private_label if private else draw.fitted_label
        label = render(text, colour or self.theme.text, size, room)
        self.texts.append(text)
        placed = label.get_rect(**{anchor: at})
        self.surface.blit(label, placed)
        return placed

    def paragraph(
        self,
        text: str,
        rect: pygame.Rect,
        size_px: int | None = None,
        colour: Colour | None = None,
        private: bool = False,
    ) -> int:
        """``text`` wrapped to ``rect``'s width, as many lines as fit its height; the
        height used. A text too long for the room ends in an ellipsis. ``private`` text
        (with a member's code) is rendered afresh, never cached."""
        size = size_px or self.metrics.body_px
        wrap, render = (
            (draw.private_wrapped, draw.private_label)
            if private
            else (draw.wrapped, draw.fitted_label)
        )
        lines = wrap(text, size, rect.width, max_lines=max(1, rect.height // (size + 4)))
        y = rect.top
        for line in lines:
            label = render(line, colour or self.theme.text, size, (rect.width, size * 2))
            self.texts.append(line)
            self.surface.blit(label, (rect.left, y))
            y += label.get_height() + 4
        return y - rect.top

    def image(self, ref: AssetRef | None, rect: pygame.Rect, fit: Fit = "cover") -> None:
        """The image ``ref`` in ``rect`` when the cache has it decoded (else nothing yet,
        and the frame is not :attr:`complete`)."""
        if ref is None:
            return
        size = (rect.width, rect.height)
        self.wanted.append((ref, size, fit))
        surface = self.images.get(ref, size, fit)
        if surface is None:
            self.complete = False
            return
        if self.images.ready([(ref, size, fit)]):
            self.shown.append(ref)
        else:  # the older version, until this one is decoded
            self.complete = False
        self.surface.blit(surface, surface.get_rect(center=rect.center))

    def want(self, ref: AssetRef | None, size: tuple[int, int], fit: Fit = "cover") -> None:
        """An image the next page will show: decoded ahead, so paging never waits."""
        if ref is not None:
            self.wanted.append((ref, size, fit))
