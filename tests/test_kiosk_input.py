"""Touch input and the on-screen keyboards, with real Pygame on SDL's dummy video driver."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pygame
import pytest

from kiosk_ui import draw
from kiosk_ui.keyboard import (
    EMAIL,
    KEYBOARDS,
    NAME,
    PHONE,
    Key,
    Keyboard,
    key_at,
    layout,
    typed,
)
from kiosk_ui.theme import SCREEN_SIZES, STANDARD, THEMES
from kiosk_ui.touch import presses
from tests.helpers import KIOSK_FRAMES


@pytest.fixture
def window() -> Iterator[pygame.Surface]:
    os.environ["SDL_VIDEODRIVER"] = "dummy"  # headless: real SDL, no display
    pygame.display.init()
    try:
        yield pygame.display.set_mode((1920, 1080))
    finally:
        pygame.display.quit()


def keyboard_area(width: int, height: int) -> pygame.Rect:
    """Where a sign-up screen puts its keyboard: the lower 55 % of the screen."""
    return pygame.Rect(0, height * 45 // 100, width, height - height * 45 // 100)


def tap(window: pygame.Surface, placed: list[tuple[Key, pygame.Rect]], label: str) -> None:
    """Post what SDL posts for one finger tap on ``label``: the finger, then its mouse twin."""
    rect = next(rect for key, rect in placed if key.label == label)
    width, height = window.get_size()
    finger = {
        "x": rect.centerx / width,
        "y": rect.centery / height,
        "touch_id": 1,
        "finger_id": 1,
        "dx": 0.0,
        "dy": 0.0,
        "pressure": 1.0,
    }
    pygame.event.post(pygame.event.Event(pygame.FINGERDOWN, finger))
    pygame.event.post(
        pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=rect.center, button=1, touch=True)
    )


def type_posted(window: pygame.Surface, placed: list[tuple[Key, pygame.Rect]]) -> str:
    text = ""
    for press in presses(pygame.event.get(), window.get_size()):
        key = key_at(placed, press.x, press.y)
        if key is not None:
            text = typed(NAME, text, key)
    return text


def test_one_tap_with_its_synthesised_mouse_event_types_one_character(
    window: pygame.Surface,
) -> None:
    placed = layout(NAME, "letters", keyboard_area(1920, 1080), STANDARD.metrics(1920, 1080))
    pygame.event.get()  # what the window's opening posted
    tap(window, placed, "A")
    assert type_posted(window, placed) == "A"


def test_a_real_mouse_still_clicks_and_other_buttons_do_not(window: pygame.Surface) -> None:
    placed = layout(NAME, "letters", keyboard_area(1920, 1080), STANDARD.metrics(1920, 1080))
    pygame.event.get()
    q = next(rect for key, rect in placed if key.label == "Q")
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=q.center, button=1))
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=q.center, button=3))
    assert type_posted(window, placed) == "Q"


@pytest.mark.parametrize("size", SCREEN_SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_every_keyboard_fits_every_screen_with_touchable_keys(size: tuple[int, int]) -> None:
    area = keyboard_area(*size)
    for theme in THEMES:
        metrics = theme.metrics(*size)
        for keyboard in KEYBOARDS:
            for page in keyboard.pages:
                placed = layout(keyboard, page, area, metrics)
                rects = [rect for _, rect in placed]
                assert all(area.contains(rect) for rect in rects), (keyboard.name, page)
                assert all(min(rect.size) >= metrics.key_px >= 48 for rect in rects)
                assert not any(
                    a.colliderect(b) for i, a in enumerate(rects) for b in rects[i + 1 :]
                ), (keyboard.name, page, theme.name)


def test_a_keyboard_that_cannot_fit_says_so() -> None:
    with pytest.raises(ValueError, match="name keyboard does not fit 400x200 px"):
        layout(NAME, "letters", pygame.Rect(0, 0, 400, 200), STANDARD.metrics(1920, 1080))


def type_keys(keyboard: Keyboard, text: str) -> str:
    """``text`` typed on ``keyboard`` key by key, each character by the key that types it."""
    board = {
        key.value.upper(): key for page in keyboard.pages.values() for row in page for key in row
    }
    out = ""
    for ch in text:
        out = typed(keyboard, out, board[ch.upper()])
    return out


def test_names_get_capitals_at_the_start_of_each_word_and_accents_from_their_page() -> None:
    assert type_keys(NAME, "ANNE-MARIE O'NEILL") == "Anne-Marie O'Neill"
    assert type_keys(NAME, "ZOË") == "Zoë"
    assert type_keys(NAME, "ÉLODIE") == "Élodie"
    backspace = next(key for key in NAME.pages["letters"][-1] if key.kind == "backspace")
    assert typed(NAME, "Ada", backspace) == "Ad"
    assert typed(NAME, "", backspace) == ""


def test_spaces_never_lead_or_double_and_a_field_stops_at_its_length() -> None:
    space = next(key for key in NAME.pages["letters"][-1] if key.kind == "space")
    assert typed(NAME, "", space) == ""
    assert typed(NAME, "Ada ", space) == "Ada "
    full = "A" * NAME.max_length
    assert typed(NAME, full, NAME.pages["letters"][0][0]) == full


def test_the_phone_keypad_types_digits_and_plus_and_email_types_lower_case() -> None:
    assert type_keys(PHONE, "+447700900123") == "+447700900123"
    assert type_keys(EMAIL, "ada@example.org") == "ada@example.org"


@pytest.mark.parametrize("size", [(1920, 1080), (1024, 600)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_key_label_is_drawn_whole_inside_its_key(size: tuple[int, int]) -> None:
    os.environ["SDL_VIDEODRIVER"] = "dummy"
    pygame.display.init()
    try:
        KIOSK_FRAMES.mkdir(parents=True, exist_ok=True)
        for theme in THEMES:
            metrics = theme.metrics(*size)
            for keyboard in KEYBOARDS:
                for page in keyboard.pages:
                    frame = pygame.Surface(size)
                    frame.fill(theme.background)
                    placed = layout(keyboard, page, keyboard_area(*size), metrics)
                    labels = draw.keyboard(frame, placed, theme, metrics)
                    for (key, rect), label in zip(placed, labels, strict=True):
                        assert rect.contains(label), (keyboard.name, key.label, theme.name)
                        assert label.height >= metrics.body_px * 0.6, (keyboard.name, key.label)
                    name = f"keyboard-{keyboard.name}-{page}-{theme.name.split(',')[0]}"
                    pygame.image.save(frame, KIOSK_FRAMES / f"{name}-{size[0]}x{size[1]}.png")
    finally:
        pygame.display.quit()
