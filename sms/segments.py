"""How many SMS segments a text takes: GSM-7 or UCS-2, and cutting a text down to fit.

A text whose every character is in the GSM 03.38 default alphabet (basic table and extension
table) goes as GSM-7: 160 septets in one SMS, 153 per part when it has to be concatenated (the
user data header takes the rest). An extension-table character costs two septets (an escape
and the character). One character outside the alphabet makes the whole text UCS-2: 70 UTF-16
units in one SMS, 67 per part, a character outside the Basic Multilingual Plane (most emoji)
costing two units. An escape pair or a surrogate pair is never split across two parts (the
phone could not put it back together), so a part may hold one unit less than it could.
"""

from __future__ import annotations

from typing import Literal

Encoding = Literal["GSM-7", "UCS-2"]

GSM7_BASIC_TABLE = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "\N{GREEK CAPITAL LETTER DELTA}_\N{GREEK CAPITAL LETTER PHI}"
    "\N{GREEK CAPITAL LETTER GAMMA}\N{GREEK CAPITAL LETTER LAMDA}"
    "\N{GREEK CAPITAL LETTER OMEGA}\N{GREEK CAPITAL LETTER PI}"
    "\N{GREEK CAPITAL LETTER PSI}\N{GREEK CAPITAL LETTER SIGMA}"
    "\N{GREEK CAPITAL LETTER THETA}\N{GREEK CAPITAL LETTER XI}\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
"""The GSM 03.38 basic table, in code order (0x00 to 0x7F). 0x1B is the escape to the
extension table, not a character of its own."""

GSM7_EXTENSION = "\f^{}\\[]~|€"
"""The characters of the GSM 03.38 extension table: two septets each (escape, character)."""

ELLIPSIS = "..."
"""What :func:`shorten` ends a cut text with: three dots, as "…" is not GSM-7."""

_GSM7 = frozenset(GSM7_BASIC_TABLE.replace("\x1b", "") + GSM7_EXTENSION)
_EXTENSION = frozenset(GSM7_EXTENSION)
_SINGLE: dict[Encoding, int] = {"GSM-7": 160, "UCS-2": 70}
_PART: dict[Encoding, int] = {"GSM-7": 153, "UCS-2": 67}


def encoding(text: str) -> Encoding:
    """``"GSM-7"`` when every character of ``text`` is in the GSM 03.38 alphabet, else
    ``"UCS-2"``."""
    return "GSM-7" if _GSM7.issuperset(text) else "UCS-2"


def _units(text: str, enc: Encoding) -> list[int]:
    """What each character of ``text`` costs: septets in GSM-7, UTF-16 units in UCS-2."""
    if enc == "GSM-7":
        return [2 if char in _EXTENSION else 1 for char in text]
    return [2 if ord(char) > 0xFFFF else 1 for char in text]


def segments(text: str) -> int:
    """How many SMS ``text`` is sent as (an empty text is one SMS)."""
    enc = encoding(text)
    units = _units(text, enc)
    if sum(units) <= _SINGLE[enc]:
        return 1
    parts, room = 1, _PART[enc]
    for cost in units:
        if cost > room:
            parts, room = parts + 1, _PART[enc]
        room -= cost
    return parts


def fits_one(text: str) -> bool:
    """Whether ``text`` goes as a single SMS."""
    return segments(text) == 1


def shorten(text: str, limit_segments: int = 1) -> str:
    """``text`` when it fits in ``limit_segments`` SMS; else its longest start that fits with
    :data:`ELLIPSIS` added, cut at a word boundary (mid-word only when the first word alone
    does not fit)."""
    if limit_segments < 1:
        raise ValueError("limit_segments must be at least 1")
    if segments(text) <= limit_segments:
        return text
    # The number of segments only grows with the length of the start kept (a GSM-7 segment
    # holds more characters than a UCS-2 one), so the longest start that fits is a bisection.
    fits, too_long = 0, len(text)
    while too_long - fits > 1:
        middle = (fits + too_long) // 2
        if segments(text[:middle] + ELLIPSIS) <= limit_segments:
            fits = middle
        else:
            too_long = middle
    # text[fits] is the first character left out: a cut there is at a word boundary when it
    # is a space; otherwise go back to the last space within the start kept.
    cut = next((i for i in range(fits, 0, -1) if text[i].isspace()), fits)
    return text[:cut].rstrip() + ELLIPSIS
