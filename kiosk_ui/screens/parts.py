"""What several screens draw alike: the top bar (Back, the title, the large-text switch),
the row of buttons along the bottom, and the words for dates, seats and phone numbers.

UI thread only, like every screen.
"""

from __future__ import annotations

from datetime import datetime

import phonenumbers
import pygame

from kiosk_ui.canvas import Action, Canvas
from kiosk_ui.catalog import EventCard, OptionCard
from kiosk_ui.screens import Kiosk
from signups import seats

LARGE_ON = "Larger text"
LARGE_OFF = "Standard text"


def top_bar(
    canvas: Canvas, kiosk: Kiosk, title: str, back: Action | None = None, back_label: str = "Back"
) -> pygame.Rect:
    """The bar across the top; returns the area below it, inset by the gap."""
    m = canvas.metrics
    area = canvas.area
    height = m.target_px + 2 * m.gap_px
    canvas.panel(pygame.Rect(0, 0, area.width, height))
    left = m.gap_px
    if back is not None:
        width = 3 * m.target_px
        canvas.button(pygame.Rect(left, m.gap_px, width, m.target_px), back_label, back)
        left += width + m.gap_px
    switch_width = 4 * m.target_px
    switch = pygame.Rect(area.width - m.gap_px - switch_width, m.gap_px, switch_width, m.target_px)
    canvas.button(switch, LARGE_OFF if kiosk.large else LARGE_ON, kiosk.toggle_large)
    canvas.text(
        title,
        (left + m.gap_px, height // 2),
        size_px=m.heading_px * 3 // 4,
        width=switch.left - left - 2 * m.gap_px,
        anchor="midleft",
    )
    return pygame.Rect(
        m.gap_px, height + m.gap_px, area.width - 2 * m.gap_px, area.height - height - 2 * m.gap_px
    )


def bottom_row(canvas: Canvas, area: pygame.Rect, height: int | None = None) -> pygame.Rect:
    """The strip along the bottom of ``area`` where a screen's main buttons go."""
    height = height or canvas.metrics.target_px
    return pygame.Rect(area.left, area.bottom - height, area.width, height)


def as_dialled(number: str, region: str) -> str:
    """An E.164 ``number`` as people in ``region`` dial it: nationally (``(555) 010-0100``)
    when it is of their country, else internationally (``+44 7700 900123``)."""
    parsed = phonenumbers.parse(number)
    national = parsed.country_code == phonenumbers.country_code_for_region(region)
    style = phonenumbers.PhoneNumberFormat
    return phonenumbers.format_number(parsed, style.NATIONAL if national else style.INTERNATIONAL)


def when(card: EventCard) -> str:
    """The event's day and time in its own time zone: ``Sun 6 Dec, 10:30``."""
    return _day_and_time(card.local_start())


def when_long(card: EventCard) -> str:
    """Day, start and end: ``Sunday 6 December 2026, 10:30 to 12:00``."""
    start = card.local_start()
    end = card.ends_at.astimezone(start.tzinfo)
    last = f"{end:%H:%M}" if end.date() == start.date() else _day_and_time(end)
    return f"{start:%A} {start.day} {start:%B %Y, %H:%M} to {last}"


def _day_and_time(moment: datetime) -> str:
    return f"{moment:%a} {moment.day} {moment:%b, %H:%M}"


def event_availability(card: EventCard) -> str:
    """How an event stands, as its card on Welcome says it."""
    if card.state == "open":
        return f"{seats(card.seats_left)} left"
    return {
        "waitlist": "Full: waitlist open",
        "full": "Full",
        "closed": "Closed",
        "cancelled": "Cancelled",
    }[card.state]


def option_availability(option: OptionCard) -> str:
    """How one option stands, as its button on the event screen says it."""
    if option.state == "open":
        return f"{seats(option.free)} left"
    return {"waitlist": "full: join the waitlist", "full": "full", "closed": "closed"}[option.state]
