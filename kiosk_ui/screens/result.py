"""The Result screen: confirmed or waitlisted, the reference code in large type, a QR code
that opens the registration's page on the member's phone, and how to cancel (on the website,
through the organisers, and, for a phone when the site has SMS, by texting CANCEL and the code).

It goes back to Welcome after :data:`SHOW_S` seconds or a tap anywhere. It shows the
member's code, so pictures of it leave the kiosk masked.
"""

from __future__ import annotations

import pygame

from kiosk_ui.canvas import Canvas
from kiosk_ui.qr import qr_surface
from kiosk_ui.screens import Kiosk, Screen
from kiosk_ui.screens.parts import bottom_row, top_bar, when
from storage.registrations import Registration

SHOW_S = 30.0
"""Long enough to photograph the code or scan it; a tap goes back sooner."""
QR_SHARE = 0.34
"""The share of the screen's width the QR code may take."""


class ResultScreen(Screen):
    """What ``registration`` got; ``position`` on the waitlist when waitlisted (None when it
    could not be read)."""

    name = "result"
    masked = True
    timeout_s = SHOW_S

    def __init__(self, registration: Registration, position: int | None = None) -> None:
        self.registration: Registration | None = registration
        self.position = position
        self._qr: tuple[int, pygame.Surface] | None = None

    def forget(self) -> None:
        self.registration = None
        self._qr = None

    def draw(self, canvas: Canvas, kiosk: Kiosk) -> None:
        m = canvas.metrics
        canvas.fill()
        canvas.target(canvas.area, kiosk.home, "anywhere")  # below every button
        area = top_bar(canvas, kiosk, "Thank you")
        registration = self.registration
        if registration is None:
            return
        qr_side = min(round(canvas.area.width * QR_SHARE), area.height - 3 * m.target_px)
        qr_rect = pygame.Rect(area.right - qr_side, area.top, qr_side, qr_side)
        text_width = qr_rect.left - area.left - 2 * m.gap_px
        if registration.status == "waitlisted":
            headline = "You are on the waitlist"
            if self.position is not None:
                headline += f": number {self.position}"
        else:
            headline = "You are signed up"
        y = canvas.text(headline, area.topleft, m.heading_px, width=text_width).bottom
        card = kiosk.catalog.event(registration.event_id)
        if card is not None:
            option = next((o for o in card.options if o.option_id == registration.option_id), None)
            what = f"{card.title}, {when(card)}" + (f": {option.label}" if option else "")
            people = (
                "1 person" if registration.party_size == 1 else f"{registration.party_size} people"
            )
            y = canvas.text(
                f"{what}, {people}",
                (area.left, y + m.gap_px),
                colour=canvas.theme.muted,
                width=text_width,
            ).bottom
        y = canvas.text(
            "Your reference code", (area.left, y + 2 * m.gap_px), width=text_width
        ).bottom
        y = canvas.text(
            registration.ref, (area.left, y), m.code_px, width=text_width, private=True
        ).bottom
        row = bottom_row(canvas, area, round(1.5 * m.target_px))
        cancel = (
            f"To cancel, go to {kiosk.site.public_url}/cancel with this code, "
            f"or ask {kiosk.site.contact}."
        )
        y += m.gap_px
        y += canvas.paragraph(
            cancel,
            pygame.Rect(area.left, y, text_width, 3 * (m.body_px + 4)),
            colour=canvas.theme.muted,
        )
        if kiosk.sms_number is not None and registration.contact_kind == "phone":
            canvas.paragraph(
                f"Or text CANCEL {registration.ref} to {kiosk.sms_number}.",
                pygame.Rect(area.left, y, text_width, 2 * (m.body_px + 4)),
                colour=canvas.theme.muted,
                private=True,
            )
        if self._qr is None or self._qr[0] != qr_side:
            url = kiosk.registration_url(registration.ref)
            self._qr = (qr_side, qr_surface(url, qr_side))
        code = self._qr[1]
        canvas.surface.blit(code, code.get_rect(midtop=qr_rect.midtop))
        canvas.text(
            "Scan to see it on your phone",
            (qr_rect.centerx, qr_rect.top + code.get_height() + m.gap_px),
            m.body_px * 4 // 5,
            width=qr_rect.width,
            anchor="midtop",
        )
        canvas.button(row, "Done", kiosk.home, primary=True)
