"""What a text says, read as one command of the SMS conversation.

Keywords are case-insensitive, ignore surrounding spaces and win over event codes (no short
code may be one: :data:`storage.validate.SMS_KEYWORDS`). ``CANCEL`` alone is the carriers'
opt-out word; ``CANCEL <code>`` cancels one sign-up.

    >>> read("  join choir 2 Ada Lovelace ")
    Join(code='CHOIR', party=2, name='Ada Lovelace', alone=False)
    >>> read("stop")
    OptOut(word='STOP')
    >>> read("2")
    Choice(number=2)
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from storage.errors import ValidationError
from storage.registrations import parse_ref
from storage.sms_messages import MAX_BODY
from storage.validate import HELP_WORDS, OPT_IN_WORDS, OPT_OUT_WORDS, SMS_KEYWORDS

_CODE = re.compile(r"^[A-Z][A-Z0-9]{2,11}$")
MAX_PARTY = 20


@dataclass(frozen=True)
class OptOut:
    """Stop every text to this number."""

    word: str


@dataclass(frozen=True)
class OptIn:
    """Texts to this number may start again."""


@dataclass(frozen=True)
class Help:
    """Who we are and how to reach a person."""


@dataclass(frozen=True)
class Events:
    """The upcoming open events and their codes."""


@dataclass(frozen=True)
class Status:
    """This number's upcoming registrations."""


@dataclass(frozen=True)
class Cancel:
    """Cancel registration ``ref``."""

    ref: str


@dataclass(frozen=True)
class Join:
    """Sign up for the event with short code ``code`` (``JOIN`` is optional)."""

    code: str
    party: int
    name: str | None
    alone: bool = False
    """The code was the whole text (``CHOIR``): it may be a one-word name asked for."""


@dataclass(frozen=True)
class Choice:
    """A number alone: the answer to "Reply 1 for ..., 2 for ..."."""

    number: int


@dataclass(frozen=True)
class Text:
    """Anything else: a name asked for, or a message for a person."""

    text: str


@dataclass(frozen=True)
class Unreadable:
    """A text that cannot be read as a command (:attr:`problem` says why, for the reply)."""

    problem: str


Command = OptOut | OptIn | Help | Events | Status | Cancel | Join | Choice | Text | Unreadable


def read(body: str) -> Command:
    """The command ``body`` is."""
    problem = _problem(body)
    if problem is not None:
        return Unreadable(problem)
    words = body.split()
    if not words:
        return Text("")
    head = words[0].upper()
    whole = " ".join(words).upper()
    if whole in OPT_OUT_WORDS:
        return OptOut(whole)
    if whole in OPT_IN_WORDS:
        return OptIn()
    if whole in HELP_WORDS:
        return Help()
    if whole == "EVENTS":
        return Events()
    if whole == "STATUS":
        return Status()
    if head == "CANCEL" and len(words) in (2, 3):
        ref = _ref(" ".join(words[1:]))
        if ref is not None:
            return Cancel(ref)
    if head == "JOIN" and len(words) >= 2 and _is_code(words[1].upper()):
        return _join(words[1], words[2:])
    if len(words) == 1 and whole.isdigit() and len(whole) <= 2:
        return Choice(int(whole))
    if _is_code(head) and (len(words) == 1 or words[1].isdigit()):
        return _join(words[0], words[1:], bare=True)
    return Text(" ".join(words))


def _is_code(word: str) -> bool:
    """Whether ``word`` (upper case) can be an event's short code (never a keyword)."""
    return bool(_CODE.match(word)) and word not in SMS_KEYWORDS


def _ref(text: str) -> str | None:
    """``text`` as a registration reference (``KQMT-7KQ2MX``, also ``kqmt 7kq2mx``)."""
    try:
        return str(parse_ref(text))
    except ValidationError:
        return None


def _join(code: str, rest: list[str], bare: bool = False) -> Command:
    party = 1
    if rest and rest[0].isdigit():
        party = int(rest[0])
        if not 1 <= party <= MAX_PARTY:
            return Unreadable(f"a party is 1 to {MAX_PARTY} people")
        rest = rest[1:]
    return Join(code.upper(), party, " ".join(rest) or None, bare and not rest and party == 1)


def _problem(body: str) -> str | None:
    """Why ``body`` cannot be a command, or None."""
    if len(body) > MAX_BODY:
        return f"it is longer than {MAX_BODY} characters"
    for ch in body:
        if 0xD800 <= ord(ch) <= 0xDFFF:
            return "it is not valid text"
        if ch not in "\n\r\t" and unicodedata.category(ch) == "Cc":
            return "it contains control characters"
    return None
