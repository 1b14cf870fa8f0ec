"""Registration reference codes such as ``KQMT-7KQ2MX``: the option's reference prefix and a
random code. Only this module knows the codes' format.

A code is :data:`CODE_LENGTH` characters drawn at random from :data:`CODE_ALPHABET` (no 0, 1,
I or O, so it is read off a kiosk and typed into a phone without doubt), with at least one
letter, so that it is never taken for the numbered form of registrations made before
codes were random (``KQMT-17``). Those keep working: :func:`parse_ref` reads both forms, and
only a registration without a code answers to its number. Codes are unique within their
option (claimed inside the sign-up's own conditional batch), prefixes across options, so a
reference names one registration.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from storage import entropy
from storage.errors import ValidationError

REF_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
"""The letters of reference prefixes."""
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
"""The characters of random codes: 32, so a code of 6 is one of about a billion."""
CODE_LENGTH = 6
assert len(CODE_ALPHABET) == 32  # new_code takes a byte modulo 32
_DIGITS = frozenset("0123456789")
_REF = re.compile(r"^([A-HJ-NP-Z]{4})[-\s]?([0-9A-Z]{1,9})$")
_NUMBERED = re.compile(r"^0*([1-9][0-9]{0,8})$")
_CODE = re.compile(f"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")


@dataclass(frozen=True)
class Ref:
    """A parsed reference: the option's ``prefix`` and either the registration's random
    ``code`` or, for a registration made before codes were random, its ``number``."""

    prefix: str
    code: str | None = None
    number: int | None = None

    def __str__(self) -> str:
        return f"{self.prefix}-{self.code if self.code is not None else self.number}"


def new_prefix() -> str:
    """A random reference prefix for a new option (to claim in ``option_refs``)."""
    return "".join(secrets.choice(REF_LETTERS) for _ in range(4))


def new_code() -> str:
    """A random code for a new registration (to claim in its option's ledger): one system
    random byte per character, modulo 32 (which divides 256, so every character is equally
    likely), from :mod:`storage.entropy`, since this is on the sign-up path."""
    while True:
        code = "".join(CODE_ALPHABET[byte % 32] for byte in entropy.token_bytes(CODE_LENGTH))
        if not _DIGITS.issuperset(code):
            return code


def make_ref(prefix: str, code: str | None, number: int) -> str:
    """The reference of a registration: its prefix and code, or its number if it has none."""
    return str(Ref(prefix, code=code) if code is not None else Ref(prefix, number=number))


def parse_ref(ref: object) -> Ref:
    """Read a reference as a person writes it (``kqmt 7kq2mx``, ``KQMT-7KQ2MX``, ``KQMT-17``)."""
    match = _REF.match(ref.strip().upper()) if isinstance(ref, str) else None
    if match is not None:
        prefix, rest = match.groups()
        if _CODE.match(rest) and not _DIGITS.issuperset(rest):
            return Ref(prefix, code=rest)
        numbered = _NUMBERED.match(rest)
        if numbered is not None:
            return Ref(prefix, number=int(numbered.group(1)))
    raise ValidationError("ref", "is not a registration reference such as KQMT-7KQ2MX")
