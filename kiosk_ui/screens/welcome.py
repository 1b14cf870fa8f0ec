"""The Welcome screen: the kiosk's welcome text and its events, a page at a time.

Events come in the order the kiosk's configuration gives; those that have ended are left
out. Each card shows the event's icon, title, day and time (in the event's time zone), place
and seats, on an opaque panel over the left of the event's background image (so text keeps
its contrast whatever the image).
Previous and Next page through them; the images of the pages either side are decoded
ahead, so paging never waits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

import pygame

from kiosk_ui.canvas import Action, Canvas
from kiosk_ui.catalog import EventCard
from kiosk_ui.screens import Kiosk, Screen
from kiosk_ui.screens.event import EventScreen
from kiosk_ui.screens.parts import bottom_row, event_availability, top_bar, when

CARD_WIDTH = 860
"""A card's least width at the design size with standard targets (96 px): two columns on a
landscape screen; it grows with the theme's targets (one column in large text)."""
STANDARD_TARGET_PX = 96
CARD_HEIGHT_TARGETS = 2.2
"""A card is this many touch targets tall."""
PANEL_SHARE = 0.68
"""How much of a card's width its text panel takes (the rest shows the background)."""


@dataclass(frozen=True)
class Grid:
    """Where the cards of a page go."""

    cards: list[pygame.Rect]
    pager: pygame.Rect

    @property
    def per_page(self) -> int:
        return len(self.cards)


def grid(canvas: Canvas, area: pygame.Rect) -> Grid:
    """The cards that fit ``area`` above a row for the pager."""
    m = canvas.metrics
    pager = bottom_row(canvas, area)
    room = pygame.Rect(area.left, area.top, area.width, pager.top - m.gap_px - area.top)
    least = CARD_WIDTH * m.target_px // STANDARD_TARGET_PX  # targets are already scaled
    columns = max(1, (room.width + m.gap_px) // (least + m.gap_px))
    height = round(CARD_HEIGHT_TARGETS * m.target_px)
    rows = max(1, (room.height + m.gap_px) // (height + m.gap_px))
    width = (room.width - (columns - 1) * m.gap_px) // columns
    cards = [
        pygame.Rect(
            room.left + column * (width + m.gap_px),
            room.top + row * (height + m.gap_px),
            width,
            height,
        )
        for row in range(rows)
        for column in range(columns)
    ]
    return Grid(cards, pager)


class WelcomeScreen(Screen):
    """The first screen, and the one every member comes back to."""

    name = "welcome"

    def __init__(self) -> None:
        self.page = 0
        self._shown: tuple[UUID, ...] = ()

    def events(self) -> tuple[UUID, ...]:
        return self._shown

    def forget(self) -> None:
        self.page = 0

    def draw(self, canvas: Canvas, kiosk: Kiosk) -> None:
        catalog = kiosk.catalog
        m = canvas.metrics
        canvas.fill()
        area = top_bar(canvas, kiosk, kiosk.site.name)
        if catalog.welcome:
            used = canvas.paragraph(
                catalog.welcome,
                pygame.Rect(area.left, area.top, area.width, 2 * (m.body_px + 4)),
            )
            top = area.top + used + m.gap_px
            area = pygame.Rect(area.left, top, area.width, area.bottom - top)
        now = datetime.now(UTC)
        events = [card for card in catalog.events if card.ends_at > now]
        layout = grid(canvas, area)
        pages = max(1, -(-len(events) // layout.per_page))
        self.page = min(self.page, pages - 1)
        first = self.page * layout.per_page
        shown = events[first : first + layout.per_page]
        self._shown = tuple(card.event_id for card in shown)
        if not events:
            canvas.text(
                "There is nothing to sign up for at the moment.",
                area.center,
                colour=canvas.theme.muted,
                width=area.width,
                anchor="center",
            )
        for card, rect in zip(shown, layout.cards, strict=False):
            self._card(canvas, kiosk, card, rect)
        for neighbour in (self.page - 1, self.page + 1):
            if 0 <= neighbour < pages:
                start = neighbour * layout.per_page
                for card, rect in zip(
                    events[start : start + layout.per_page], layout.cards, strict=False
                ):
                    canvas.want(card.background, rect.size)
                    canvas.want(card.icon, _icon_size(canvas, rect), "contain")
        self._pager(canvas, layout.pager, pages, offline=catalog.offline)

    def _card(self, canvas: Canvas, kiosk: Kiosk, card: EventCard, rect: pygame.Rect) -> None:
        m = canvas.metrics
        canvas.image(card.background, rect)
        panel = pygame.Rect(rect.left, rect.top, round(rect.width * PANEL_SHARE), rect.height)
        canvas.panel(panel)
        icon = _icon_size(canvas, rect)
        icon_rect = pygame.Rect(panel.left + m.gap_px, panel.top + m.gap_px, *icon)
        canvas.image(card.icon, icon_rect, "contain")
        left = icon_rect.right + m.gap_px
        width = panel.right - m.gap_px - left
        small = m.body_px * 4 // 5
        y = panel.top + m.gap_px
        step = m.gap_px // 4
        y = canvas.text(card.title, (left, y), width=width).bottom + step
        for detail in (when(card), card.location):
            if detail:
                y = canvas.text(detail, (left, y), small, canvas.theme.muted, width).bottom + step
        canvas.text(event_availability(card), (left, y), small, width=width)
        canvas.target(rect, lambda: kiosk.show(EventScreen(card.event_id)), card.title)

    def _pager(self, canvas: Canvas, row: pygame.Rect, pages: int, offline: bool) -> None:
        m = canvas.metrics
        width = 4 * m.target_px
        previous = pygame.Rect(row.left, row.top, width, row.height)
        following = pygame.Rect(row.right - width, row.top, width, row.height)
        canvas.button(previous, "Previous", self._turn(-1) if self.page > 0 else None)
        canvas.button(following, "Next", self._turn(1) if self.page < pages - 1 else None)
        label = f"Page {self.page + 1} of {pages}"
        if offline:
            label += "  ·  seat counts may be out of date"
        canvas.text(
            label,
            row.center,
            m.body_px * 4 // 5,
            canvas.theme.muted,
            following.left - previous.right - 2 * m.gap_px,
            anchor="center",
        )

    def _turn(self, by: int) -> Action:
        def turn() -> None:
            self.page += by

        return turn


def _icon_size(canvas: Canvas, card: pygame.Rect) -> tuple[int, int]:
    side = card.height - 2 * canvas.metrics.gap_px
    return side, side
