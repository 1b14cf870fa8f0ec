"""Validators and normalisers for everything stored: each returns the clean value or raises
:class:`~storage.errors.ValidationError` naming the field. They never touch Cassandra.

Phone numbers become E.164 (``+15551234567``) with a configurable default country calling code
for numbers written the national way; e-mail addresses become lower-case ASCII.
"""

from __future__ import annotations

import functools
import re
import unicodedata
import zoneinfo
from collections.abc import Collection
from datetime import UTC, datetime

from storage.errors import ValidationError

DEFAULT_COUNTRY = "1"
_COUNTRY = re.compile(r"^[1-9][0-9]{0,2}$")
_PHONE_PUNCTUATION = frozenset(" -.()/\u00a0")
_DIGITS = frozenset("0123456789")
_LOCAL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+/=?^_`{|}~-.")
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_TLD = re.compile(r"^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_SHORT_CODE = re.compile(r"^[A-Z][A-Z0-9]{2,11}$")


def text(
    field: str, value: object, *, max_len: int, required: bool = True, lines: bool = False
) -> str:
    """Trimmed, NFC-normalised text of at most ``max_len`` characters, without control
    characters (new lines and tabs only when ``lines``); empty only when not ``required``."""
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise ValidationError(field, "must be text")
    clean = normalised(value)
    if required and not clean:
        raise ValidationError(field, "must not be empty")
    if len(clean) > max_len:
        raise ValidationError(field, f"must be at most {max_len} characters")
    allowed = "\n\t" if lines else ""
    if any(is_control(ch) and ch not in allowed for ch in clean):
        raise ValidationError(field, "must not contain control characters")
    return clean


def normalised(value: str) -> str:
    """``value`` NFC-normalised and trimmed, as :func:`text` stores it."""
    return unicodedata.normalize("NFC", value).strip()


def is_control(ch: str) -> bool:
    """Whether ``ch`` is a control character (or a lone surrogate), which :func:`text`
    refuses."""
    return unicodedata.category(ch) in ("Cc", "Cs")


def integer(field: str, value: object, low: int, high: int) -> int:
    """An int from ``low`` to ``high`` inclusive (booleans are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(field, "must be a whole number")
    if not low <= value <= high:
        raise ValidationError(field, f"must be from {low} to {high}")
    return value


def choice(field: str, value: object, options: Collection[str]) -> str:
    """One of ``options``."""
    if value not in options:
        raise ValidationError(field, f"must be one of {', '.join(sorted(options))}")
    return str(value)


def country_code(value: str) -> str:
    """A country calling code such as ``"1"`` or ``"44"`` (configuration, hence ValueError)."""
    if not isinstance(value, str) or not _COUNTRY.match(value):
        raise ValueError(f"country calling code {value!r} is not 1 to 3 digits")
    return value


def phone(value: object, default_country: str = DEFAULT_COUNTRY, field: str = "phone") -> str:
    """The E.164 form of a phone number.

    ``+`` or ``00`` (``011`` in North America) starts an international number; anything else
    is national to ``default_country`` (a calling code such as ``"1"`` or ``"44"``), whose
    trunk ``0`` is dropped. Spaces, dashes, dots, slashes and brackets are ignored.
    """
    country_code(default_country)
    if not isinstance(value, str):
        raise ValidationError(field, "must be text")
    raw = value.strip()
    international = raw.startswith("+")
    body = raw[1:] if international else raw
    if (
        not body
        or len(body) > 40
        or any(ch not in _DIGITS and ch not in _PHONE_PUNCTUATION for ch in body)
    ):
        raise ValidationError(field, "is not a phone number (digits, spaces, - . ( ) only)")
    digits = "".join(ch for ch in body if ch in _DIGITS)
    if international:
        number = digits
    elif digits.startswith("00"):
        number = digits[2:]
    elif default_country == "1" and digits.startswith("011"):
        number = digits[3:]
    elif default_country == "1":
        national = digits[1:] if len(digits) == 11 and digits[0] == "1" else digits
        if len(national) != 10:
            raise ValidationError(field, "a North American number has 10 digits")
        number = "1" + national
    else:
        number = default_country + (digits[1:] if digits.startswith("0") else digits)
    if not 7 <= len(number) <= 15 or number[0] == "0":
        raise ValidationError(field, "is not a valid international number (7 to 15 digits)")
    if number[0] == "1" and (len(number) != 11 or number[1] in "01" or number[4] in "01"):
        raise ValidationError(field, "is not a valid North American number")
    return "+" + number


def email(value: object, field: str = "email") -> str:
    """A lower-cased, trimmed ASCII e-mail address ``local@domain.tld``."""
    if not isinstance(value, str):
        raise ValidationError(field, "must be text")
    address = value.strip().lower()
    if not address.isascii():
        raise ValidationError(field, "must be an ASCII e-mail address")
    if len(address) > 254:
        raise ValidationError(field, "must be at most 254 characters")
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        raise ValidationError(field, "is not an e-mail address (name@domain)")
    if (
        len(local) > 64
        or any(ch not in _LOCAL_CHARS for ch in local)
        or local.startswith(".")
        or local.endswith(".")
        or ".." in local
    ):
        raise ValidationError(field, "has an invalid part before the @")
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise ValidationError(field, "has an invalid domain")
    if not _TLD.match(labels[-1]):
        raise ValidationError(field, "has an invalid top-level domain")
    return address


def contact(value: object, default_country: str = DEFAULT_COUNTRY, field: str = "contact") -> str:
    """A phone number (E.164) or an e-mail address, whichever ``value`` is."""
    if isinstance(value, str) and "@" in value:
        return email(value, field)
    return phone(value, default_country, field)


def short_code(value: object, field: str = "short_code") -> str:
    """An upper-case keyword members can text: a letter then 2-11 letters or digits."""
    if not isinstance(value, str) or not _SHORT_CODE.match(value.strip().upper()):
        raise ValidationError(field, "must be a letter then 2 to 11 letters or digits")
    return value.strip().upper()


def time_zone(value: object, field: str = "time_zone") -> str:
    """An IANA time zone name such as ``America/Chicago``."""
    if not isinstance(value, str) or value not in _zones():
        raise ValidationError(field, "must be an IANA time zone such as America/Chicago")
    return value


def moment(field: str, value: object) -> datetime:
    """A time-zone-aware datetime, in UTC and to the millisecond (Cassandra's precision)."""
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValidationError(field, "must be a date and time with a time zone")
    at = value.astimezone(UTC)
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())
