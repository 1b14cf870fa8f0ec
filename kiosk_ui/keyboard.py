"""The kiosk's on-screen keyboards, as data: keys, their layout on the screen, what they type.

Three keyboards, each fitted to what it types:

- :data:`NAME`: letters, space, hyphen and apostrophe, and a page of accented letters
  (``ÀÉÑ``). Keys show capitals; a letter is typed as a capital at the start of a word (after
  the start, a space, a hyphen or an apostrophe: ``Anne-Marie O'Neill``), else in lower case,
  so nobody needs a shift key.
- :data:`PHONE`: a keypad of digits and ``+``.
- :data:`EMAIL`: lower-case letters, digits and ``@ . - _``.

:func:`layout` places a page's keys in an area of the screen, every key at least the theme's
key size; :func:`key_at` finds the key a press lands on, and :func:`typed` what a key does
to the text so far. Validation of what was typed stays with the shared sign-up rules
(:mod:`signups`): a keyboard only limits what can be typed.

Pure functions of immutable data: safe on any thread; the UI calls them on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pygame

from kiosk_ui.theme import Metrics

KeyKind = Literal["char", "space", "backspace", "page"]


@dataclass(frozen=True)
class Key:
    """One key: its ``label``, what it does, and how many key widths it takes."""

    label: str
    kind: KeyKind = "char"
    value: str = ""
    """The character typed (``char``), or the page shown (``page``)."""
    units: int = 1


def _chars(row: str, lower: bool = False) -> tuple[Key, ...]:
    return tuple(Key(ch, value=ch.lower() if lower else ch) for ch in row)


SPACE = Key("Space", "space", " ", units=4)
BACKSPACE = Key("Delete", "backspace", units=2)

Rows = tuple[tuple[Key, ...], ...]


@dataclass(frozen=True)
class Keyboard:
    """A keyboard: its pages of rows of keys (the first page shows first) and the most
    characters its field takes."""

    name: str
    pages: dict[str, Rows]
    max_length: int
    word_capitals: bool = False
    """Type a letter as a capital at the start of a word, else in lower case."""

    @property
    def first_page(self) -> str:
        return next(iter(self.pages))


NAME = Keyboard(
    name="name",
    pages={
        "letters": (
            _chars("QWERTYUIOP"),
            _chars("ASDFGHJKL'"),
            _chars("ZXCVBNM-"),
            (Key("ÀÉÑ", "page", "accents", units=2), SPACE, BACKSPACE),
        ),
        "accents": (
            _chars("ÀÁÂÄÃÅÆÇÈÉ"),
            _chars("ÊËÌÍÎÏÑÒÓÔ"),
            _chars("ÖÕØŒÙÚÛÜÝŸ"),
            (Key("ABC", "page", "letters", units=2), SPACE, BACKSPACE),
        ),
    },
    max_length=120,
    word_capitals=True,
)

PHONE = Keyboard(
    name="phone",
    pages={
        "digits": (
            _chars("123"),
            _chars("456"),
            _chars("789"),
            (Key("+", value="+"), Key("0", value="0"), Key("Delete", "backspace")),
        )
    },
    max_length=20,
)

EMAIL = Keyboard(
    name="email",
    pages={
        "letters": (
            _chars("1234567890"),
            _chars("QWERTYUIOP", lower=True),
            _chars("ASDFGHJKL@", lower=True),
            _chars("ZXCVBNM._-", lower=True),
            (BACKSPACE,),
        )
    },
    max_length=254,
)

KEYBOARDS = (NAME, PHONE, EMAIL)


def layout(
    keyboard: Keyboard, page: str, area: pygame.Rect, metrics: Metrics
) -> list[tuple[Key, pygame.Rect]]:
    """The keys of ``page`` placed in ``area``: rows of equal height, keys as wide as their
    units, each row centred, ``metrics.gap_px`` between keys. Keys are as large as the area
    allows, up to twice the target size; raises ValueError if they would be smaller than
    ``metrics.key_px`` (the area is too small for this keyboard)."""
    rows = keyboard.pages[page]
    gap = metrics.gap_px
    widest = max(sum(key.units for key in row) for row in rows)  # in keys of one unit

    def span(units: int) -> int:  # the width of ``units`` unit keys side by side
        return units * unit + gap * (units - 1)

    unit = min((area.width - gap * (widest - 1)) // widest, 2 * metrics.target_px)
    height = min((area.height - gap * (len(rows) - 1)) // len(rows), 2 * metrics.target_px)
    if min(unit, height) < metrics.key_px:
        raise ValueError(
            f"the {keyboard.name} keyboard does not fit {area.width}x{area.height} px with "
            f"{metrics.key_px} px keys"
        )
    placed = []
    top = area.top + (area.height - len(rows) * height - (len(rows) - 1) * gap) // 2
    for index, row in enumerate(rows):
        left = area.left + (area.width - span(sum(key.units for key in row))) // 2
        y = top + index * (height + gap)
        for key in row:
            placed.append((key, pygame.Rect(left, y, span(key.units), height)))
            left += span(key.units) + gap
    return placed


def key_at(placed: list[tuple[Key, pygame.Rect]], x: int, y: int) -> Key | None:
    """The key at ``(x, y)``, or None for a press between keys or off the keyboard."""
    for key, rect in placed:
        if rect.collidepoint(x, y):
            return key
    return None


def typed(keyboard: Keyboard, text: str, key: Key) -> str:
    """``text`` after ``key`` (a page key changes nothing typed)."""
    if key.kind == "backspace":
        return text[:-1]
    if key.kind == "page" or len(text) >= keyboard.max_length:
        return text
    if key.kind == "space":
        return text if not text or text.endswith(" ") else text + " "
    char = key.value
    if keyboard.word_capitals and char.isalpha():
        char = char.upper() if not text or text[-1] in " -'" else char.lower()
    return text + char
