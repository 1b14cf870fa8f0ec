"""Registration reference codes such as ``KQMT-17``: the option's reference prefix and the
registration's number. Only this module knows the codes' format."""

from __future__ import annotations

import re
import secrets

from storage.errors import ValidationError

REF_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
_REF = re.compile(r"^([A-HJ-NP-Z]{4})[-\s]?0*([1-9][0-9]{0,8})$")


def new_prefix() -> str:
    """A random reference prefix for a new option (to claim in ``option_refs``)."""
    return "".join(secrets.choice(REF_LETTERS) for _ in range(4))


def make_ref(prefix: str, number: int) -> str:
    """The reference of registration ``number`` of the option with reference ``prefix``."""
    return f"{prefix}-{number}"


def parse_ref(ref: str) -> tuple[str, int]:
    """Split a reference such as ``kqmt 17`` or ``KQMT-17`` into prefix and number."""
    match = _REF.match(ref.strip().upper()) if isinstance(ref, str) else None
    if match is None:
        raise ValidationError("ref", "is not a registration reference such as KQMT-17")
    return match.group(1), int(match.group(2))
