"""The Sign-up screen: name, phone or e-mail, party size, review, one large Confirm.

Each step is one question, answered on a keyboard fitted to it (:mod:`kiosk_ui.keyboard`)
or, for the party, a stepper. What the member typed is drawn uncached
(:meth:`Canvas.text` with ``private``) and lives only in the :class:`SignupForm`, which
:meth:`SignupScreen.forget` empties. A refusal shows its words on the step it names (a
wrong field) or on the review (full, closed, already signed up, storage out of reach).
Pictures of this screen leave the kiosk masked.
"""

from __future__ import annotations

from uuid import UUID

import pygame

from kiosk_ui import keyboard
from kiosk_ui.canvas import Action, Canvas
from kiosk_ui.form import Refusal, SignupForm, Step
from kiosk_ui.keyboard import Key, Keyboard, typed
from kiosk_ui.screens import Kiosk, Screen
from kiosk_ui.screens.parts import bottom_row, option_availability, top_bar, when
from storage.registrations import MAX_PARTY_SIZE

KEYBOARD_SHARE = 0.55
"""The lower part of the screen a keyboard takes."""
QUESTIONS: dict[Step, str] = {
    "name": "What is your name?",
    "contact": "How can we reach you?",
    "party": "How many people are coming, including you?",
    "review": "Is this right?",  # said by the review's layout, not drawn
}
PREVIOUS: dict[Step, Step] = {"contact": "name", "party": "contact", "review": "party"}


class SignupScreen(Screen):
    """Filling in ``form``; Back from its first step returns to ``back``."""

    name = "signup"
    masked = True

    def __init__(self, form: SignupForm, back: Screen) -> None:
        self.form = form
        self.back = back
        self.contact_keyboard: Keyboard = keyboard.PHONE
        self.page = keyboard.NAME.first_page
        self.refusal: Refusal | None = None

    def events(self) -> tuple[UUID, ...]:
        return (self.form.event_id,)

    def forget(self) -> None:
        self.form.forget()
        self.refusal = None

    def refused(self, refusal: Refusal) -> None:
        """Show why the Confirm did not sign up, on the step to correct if one is named."""
        self.refusal = refusal
        self.form.go_to(refusal.step or "review")

    # -- drawing ----------------------------------------------------------------------------

    def draw(self, canvas: Canvas, kiosk: Kiosk) -> None:
        form = self.form
        card = kiosk.catalog.event(form.event_id)
        option = (
            next((o for o in card.options if o.option_id == form.option_id), None) if card else None
        )
        title = f"{card.title}: {option.label}" if card and option else "Sign up"
        canvas.fill()
        step = form.step
        back: Action | None = None
        if not kiosk.confirming:
            back = (lambda: self._go(PREVIOUS[step])) if step in PREVIOUS else self._leave(kiosk)
        area = top_bar(canvas, kiosk, title, back=back)
        if step == "review":
            about = f"{card.title}, {when(card)}" if card else ""
            if option is not None:
                about += f": {option.label} ({option_availability(option)})"
            waitlist = option is not None and option.state == "waitlist"
            self._review(canvas, kiosk, area, about, waitlist)
            return
        below = self._question(canvas, area, step == "contact")
        if step == "name":
            self._typing(canvas, below, keyboard.NAME, form.name, "Your first and last name")
        elif step == "contact":
            placeholder = (
                "Your mobile number"
                if self.contact_keyboard is keyboard.PHONE
                else "Your e-mail address"
            )
            self._typing(canvas, below, self.contact_keyboard, form.contact, placeholder)
        else:
            self._party(canvas, below)

    def _leave(self, kiosk: Kiosk) -> Action:
        return lambda: kiosk.show(self.back)

    def _go(self, step: Step) -> None:
        self.form.go_to(step)
        self.refusal = None
        self.page = (keyboard.NAME if step == "name" else self.contact_keyboard).first_page

    def _refusal_here(self) -> str | None:
        """The refusal's words when they concern the step shown."""
        if self.refusal is None or (self.refusal.step or "review") != self.form.step:
            return None
        return self.refusal.words

    def _question(self, canvas: Canvas, area: pygame.Rect, choices: bool) -> pygame.Rect:
        """The step's question (or, after a refusal, why the answer was wrong) in a row with
        the phone and e-mail choice on the contact step; returns the area below."""
        m = canvas.metrics
        row = pygame.Rect(area.left, area.top, area.width, m.target_px)
        if choices:
            width = round(3.5 * m.target_px)
            for index, (board, label) in enumerate(
                ((keyboard.EMAIL, "E-mail"), (keyboard.PHONE, "Mobile number"))
            ):
                rect = pygame.Rect(
                    row.right - (index + 1) * width - index * m.gap_px, row.top, width, row.height
                )
                canvas.button(
                    rect, label, self._choose(board), primary=board is self.contact_keyboard
                )
            row.width -= 2 * (width + m.gap_px)
        refusal = self._refusal_here()
        if refusal is not None:
            canvas.paragraph(refusal, row, m.body_px * 4 // 5, canvas.theme.danger)
        else:
            canvas.text(
                QUESTIONS[self.form.step],
                row.midleft,
                m.heading_px * 3 // 4,
                width=row.width,
                anchor="midleft",
            )
        top = row.bottom + m.gap_px
        return pygame.Rect(area.left, top, area.width, area.bottom - top)

    def _field(self, canvas: Canvas, rect: pygame.Rect, text: str, placeholder: str) -> None:
        m = canvas.metrics
        canvas.panel(rect, outline=True)
        inner = rect.inflate(-2 * m.gap_px, 0)
        if text:
            canvas.text(
                text + "|", inner.midleft, width=inner.width, anchor="midleft", private=True
            )
        else:
            canvas.text(
                placeholder,
                inner.midleft,
                colour=canvas.theme.muted,
                width=inner.width,
                anchor="midleft",
            )

    def _typing(
        self, canvas: Canvas, area: pygame.Rect, board: Keyboard, text: str, placeholder: str
    ) -> None:
        """A field, Next beside it, and the keyboard in the lower part of the screen."""
        m = canvas.metrics
        next_width = 3 * m.target_px
        field = pygame.Rect(area.left, area.top, area.width - next_width - m.gap_px, m.target_px)
        self._field(canvas, field, text, placeholder)
        canvas.button(
            pygame.Rect(field.right + m.gap_px, field.top, next_width, m.target_px),
            "Next",
            self._next if text.strip() else None,
            primary=True,
        )
        if self.page not in board.pages:
            self.page = board.first_page
        lowest = canvas.area.height - round(canvas.area.height * KEYBOARD_SHARE)
        keys_top = max(field.bottom + m.gap_px // 2, lowest)
        keys = pygame.Rect(area.left, keys_top, area.width, canvas.area.bottom - keys_top)
        for key, rect in keyboard.layout(board, self.page, keys, m):
            canvas.button(rect, key.label, self._key(board, key))

    def _key(self, board: Keyboard, key: Key) -> Action:
        def press() -> None:
            if key.kind == "page":
                self.page = key.value
                return
            if board is keyboard.NAME:
                self.form.name = typed(board, self.form.name, key)
            else:
                self.form.contact = typed(board, self.form.contact, key)
            self.refusal = None

        return press

    def _next(self) -> None:
        self.form.next_step()
        self._go(self.form.step)

    def _choose(self, board: Keyboard) -> Action:
        def choose() -> None:
            if board is not self.contact_keyboard:
                self.contact_keyboard = board
                self.form.contact = ""
                self.page = board.first_page

        return choose

    def _party(self, canvas: Canvas, area: pygame.Rect) -> None:
        m = canvas.metrics
        row = bottom_row(canvas, area)
        side = min(2 * m.target_px, row.top - m.gap_px - area.top)
        middle = area.centerx
        y = area.top
        form = self.form
        canvas.button(
            pygame.Rect(middle - 2 * side, y, side, side),
            "-",
            (lambda: form.change_party(-1)) if form.party_size > 1 else None,
        )
        canvas.text(
            str(form.party_size), (middle, y + side // 2), min(m.code_px, side), anchor="center"
        )
        canvas.button(
            pygame.Rect(middle + side, y, side, side),
            "+",
            (lambda: form.change_party(1)) if form.party_size < MAX_PARTY_SIZE else None,
        )
        width = 4 * m.target_px
        canvas.button(
            pygame.Rect(row.right - width, row.top, width, row.height),
            "Next",
            self._next,
            primary=True,
        )

    def _review(
        self, canvas: Canvas, kiosk: Kiosk, area: pygame.Rect, about: str, waitlist: bool
    ) -> None:
        m = canvas.metrics
        form = self.form
        small = m.body_px * 4 // 5
        y = (
            canvas.text(about, area.topleft, small, canvas.theme.muted, area.width).bottom
            + m.gap_px
        )
        change_width = 3 * m.target_px
        label_width = 3 * m.target_px
        for label, value, step, private in (
            ("Name", form.name, "name", True),
            ("Contact", form.contact, "contact", True),
            ("People", str(form.party_size), "party", False),
        ):
            row = pygame.Rect(area.left, y, area.width, m.target_px)
            canvas.text(
                label, row.midleft, colour=canvas.theme.muted, width=label_width, anchor="midleft"
            )
            value_width = row.width - label_width - change_width - 2 * m.gap_px
            canvas.text(
                value,
                (row.left + label_width + m.gap_px, row.centery),
                width=value_width,
                anchor="midleft",
                private=private,
            )
            if not kiosk.confirming:
                canvas.button(
                    pygame.Rect(row.right - change_width, row.top, change_width, row.height),
                    "Change",
                    self._change(step),  # type: ignore[arg-type]
                )
            y += m.target_px + m.gap_px // 2
        row = bottom_row(
            canvas,
            area,
            max(
                m.target_px,
                min(round(1.5 * m.target_px), area.bottom - y - 2 * (small + 4) - m.gap_px),
            ),
        )
        notes = [
            note
            for note in (
                self._refusal_here(),
                "This is full: you will join its waitlist." if waitlist else None,
            )
            if note
        ]
        if notes:
            canvas.paragraph(
                " ".join(notes),
                pygame.Rect(area.left, y, area.width, row.top - y),
                small,
                canvas.theme.danger if self._refusal_here() else canvas.theme.text,
            )
        final = self.refusal is not None and self.refusal.step is None and not self.refusal.retry
        if final:
            half = (row.width - m.gap_px) // 2
            canvas.button(
                pygame.Rect(row.left, row.top, half, row.height),
                "Choose another",
                self._leave(kiosk),
            )
            canvas.button(
                pygame.Rect(row.right - half, row.top, half, row.height), "Start again", kiosk.home
            )
        elif kiosk.confirming:
            canvas.button(row, "Saving...", None)
        else:
            label = "Try again" if self.refusal is not None and self.refusal.retry else "Confirm"
            canvas.button(row, label, lambda: kiosk.confirm(form), primary=True)

    def _change(self, step: Step) -> Action:
        return lambda: self._go(step)
