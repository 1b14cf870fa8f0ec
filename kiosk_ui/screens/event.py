"""The Event screen: one event's description and its options, each with its seats.

The background image fills the screen; the text sits on an opaque panel over its left part.
An option that is open or takes a waitlist is a button to the sign-up screen; one that is
full or closed is shown, disabled, with why. A cancelled event says so in place of its
options, in the website's words.
"""

from __future__ import annotations

from uuid import UUID

import pygame

from kiosk_ui.canvas import Action, Canvas
from kiosk_ui.catalog import EventCard, OptionCard
from kiosk_ui.form import SignupForm
from kiosk_ui.screens import Kiosk, Screen
from kiosk_ui.screens.parts import option_availability, top_bar, when_long
from kiosk_ui.screens.signup import SignupScreen
from signups import EVENT_CANCELLED

PANEL_SHARE = 0.62
DESCRIPTION_LINES = 6


class EventScreen(Screen):
    """Event ``event_id`` as the catalog has it now (seats refresh while it is shown)."""

    name = "event"

    def __init__(self, event_id: UUID) -> None:
        self.event_id = event_id
        self.first_option = 0

    def events(self) -> tuple[UUID, ...]:
        return (self.event_id,)

    def draw(self, canvas: Canvas, kiosk: Kiosk) -> None:
        m = canvas.metrics
        canvas.fill()
        card = kiosk.catalog.event(self.event_id)
        title = card.title if card is not None else "Event"
        area = top_bar(canvas, kiosk, title, back=kiosk.home)
        if card is None:
            canvas.text(
                "This event is no longer shown here.",
                area.center,
                width=area.width,
                anchor="center",
            )
            return
        canvas.image(card.background, pygame.Rect(0, area.top - m.gap_px, *canvas.area.size))
        panel = pygame.Rect(area.left, area.top, round(area.width * PANEL_SHARE), area.height)
        canvas.panel(panel)
        inner = panel.inflate(-2 * m.gap_px, -2 * m.gap_px)
        small = m.body_px * 4 // 5
        y = canvas.text(
            when_long(card), inner.topleft, small, canvas.theme.muted, inner.width
        ).bottom
        if card.location:
            y = canvas.text(
                card.location,
                (inner.left, y + m.gap_px // 2),
                small,
                canvas.theme.muted,
                inner.width,
            ).bottom
        y += m.gap_px
        if card.description:
            lines = pygame.Rect(inner.left, y, inner.width, DESCRIPTION_LINES * (small + 4))
            y += canvas.paragraph(card.description, lines, small) + m.gap_px
        rest = pygame.Rect(inner.left, y, inner.width, inner.bottom - y)
        if card.cancelled:
            canvas.paragraph(EVENT_CANCELLED, rest)
        else:
            self._options(canvas, kiosk, card, rest)

    def _options(self, canvas: Canvas, kiosk: Kiosk, card: EventCard, area: pygame.Rect) -> None:
        m = canvas.metrics
        step = m.target_px + m.gap_px
        if not card.options:
            canvas.text("Nothing to sign up for yet.", area.topleft, colour=canvas.theme.muted)
            return
        fits = max(1, (area.height + m.gap_px) // step)
        paged = len(card.options) > fits
        if paged:
            fits = max(1, fits - 1)  # a row for the option pager
        self.first_option = min(self.first_option, (len(card.options) - 1) // fits * fits)
        shown = card.options[self.first_option : self.first_option + fits]
        for index, option in enumerate(shown):
            rect = pygame.Rect(area.left, area.top + index * step, area.width, m.target_px)
            action = (
                self._sign_up(kiosk, card, option) if option.state in ("open", "waitlist") else None
            )
            canvas.button(rect, f"{option.label}: {option_availability(option)}", action)
        if paged:
            row = pygame.Rect(area.left, area.top + fits * step, area.width, m.target_px)
            half = (row.width - m.gap_px) // 2
            before = self.first_option > 0
            after = self.first_option + fits < len(card.options)
            canvas.button(
                pygame.Rect(row.left, row.top, half, row.height),
                "Earlier options",
                self._page(-fits) if before else None,
            )
            canvas.button(
                pygame.Rect(row.right - half, row.top, half, row.height),
                "More options",
                self._page(fits) if after else None,
            )

    def _page(self, by: int) -> Action:
        def page() -> None:
            self.first_option = max(0, self.first_option + by)

        return page

    def _sign_up(self, kiosk: Kiosk, card: EventCard, option: OptionCard) -> Action:
        return lambda: kiosk.show(
            SignupScreen(SignupForm(card.event_id, option.option_id), back=self)
        )
