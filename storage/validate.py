"""Validators and normalisers for everything stored: each returns the clean value or raises
:class:`~storage.errors.ValidationError` naming the field. They never touch Cassandra.

Phone numbers become E.164 (``+15551234567``), read with the numbering plans of
``phonenumbers`` and the site's region for numbers written the national way; e-mail addresses
become lower-case ASCII.
"""

from __future__ import annotations

import functools
import re
import unicodedata
import zoneinfo
from collections.abc import Collection
from datetime import UTC, datetime, timedelta

import phonenumbers

from storage.errors import ValidationError

DEFAULT_REGION = "US"
"""The phone region of numbers written without ``+`` when none is given (``site.phone_region``
in cluster.yaml gives the site's own)."""
_POSSIBLE = phonenumbers.ValidationResult.IS_POSSIBLE
_IMPOSSIBLE = {
    phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "has an unknown country code",
    phonenumbers.ValidationResult.TOO_SHORT: "is too short for a phone number of its country",
    phonenumbers.ValidationResult.TOO_LONG: "is too long for a phone number of its country",
    phonenumbers.ValidationResult.INVALID_LENGTH: "has a length no number of its country has",
    phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "needs its area code",
}
_PHONE_PUNCTUATION = frozenset(" -.()/\u00a0")
_DIGITS = frozenset("0123456789")
_LOCAL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+/=?^_`{|}~-.")
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_TLD = re.compile(r"^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_JOINERS = frozenset("\u200c\u200d")
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")
_SHORT_CODE = re.compile(r"^[A-Z][A-Z0-9]{2,11}$")


def text(
    field: str, value: object, *, max_len: int, required: bool = True, lines: bool = False
) -> str:
    """Trimmed, NFC-normalised text of at most ``max_len`` characters, without control
    characters (new lines and tabs only when ``lines``) and without the invisible format
    characters :func:`normalised` removes; when ``required``, with something visible in it."""
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise ValidationError(field, "must be text")
    clean = normalised(value, lines=lines)
    if required and not clean:
        raise ValidationError(field, "must not be empty")
    if required and not is_visible(clean):
        raise ValidationError(field, "must contain a visible letter, digit or sign")
    if len(clean) > max_len:
        raise ValidationError(field, f"must be at most {max_len} characters")
    allowed = "\n\t" if lines else ""
    if any(is_control(ch) and ch not in allowed for ch in clean):
        raise ValidationError(field, "must not contain control characters")
    return clean


def normalised(value: str, lines: bool = False) -> str:
    """``value`` as :func:`text` stores it: NFC-normalised, trimmed, and without format
    characters (bidi overrides and isolates, zero-width spaces, byte order marks, tags), which
    would show one text as another. A zero-width (non-)joiner between two visible characters
    is kept: Persian and Indic words and emoji sequences need it. Line and paragraph
    separators become new lines (``lines``) or spaces."""
    if value.isascii():  # no format characters: the common case, kept fast
        return value.strip()
    value = unicodedata.normalize("NFC", value)
    kept = []
    for i, ch in enumerate(value):
        category = unicodedata.category(ch)
        if category == "Cf":
            inside = 0 < i < len(value) - 1 and _joins(value[i - 1]) and _joins(value[i + 1])
            if ch in _JOINERS and inside:
                kept.append(ch)
        elif category in ("Zl", "Zp"):
            kept.append("\n" if lines else " ")
        else:
            kept.append(ch)
    return "".join(kept).strip()


def is_visible(value: str) -> bool:
    """Whether ``value`` shows anything: a letter, digit, punctuation or symbol that is not
    one of the blank Hangul fillers."""
    if value.isascii():
        return not value.isspace() and any(ch.isprintable() and ch != " " for ch in value)
    return any(unicodedata.category(ch)[0] in "LNPS" and ch not in _BLANK_LETTERS for ch in value)


def _joins(ch: str) -> bool:
    """Whether a joiner next to ``ch`` is inside a word (not next to a space or format)."""
    return unicodedata.category(ch) not in ("Zs", "Zl", "Zp", "Cc", "Cf")


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


def phone_region(value: str) -> str:
    """A region whose phone numbers ``phonenumbers`` knows, such as ``"GB"`` or ``"US"``
    (configuration, hence ValueError)."""
    if value not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"phone region {value!r} is not a region code such as GB or US")
    return value


def phone(value: object, region: str = DEFAULT_REGION, field: str = "phone") -> str:
    """The E.164 form of a phone number, read with the numbering plans of ``phonenumbers``.

    ``+`` or ``00`` (``011`` in North America) starts an international number; anything else
    is national to ``region``, as members write it there (``07700 900123`` in ``GB``).
    Spaces, dashes, dots, slashes and brackets are ignored; letters, extensions and other
    digits than 0-9 are refused. A number is taken when its length is possible for its
    country (the plan's *possible* check): the stricter *valid* check would refuse the
    fictional ranges of tests and examples (+1 555, the UK's 07700 900xxx) and, as plans
    change, real members. Unknown country codes and impossible lengths are refused.
    """
    phone_region(region)
    if not isinstance(value, str):
        raise ValidationError(field, "must be text")
    raw = value.strip()
    body = raw[1:] if raw.startswith("+") else raw
    if (
        not body
        or len(body) > 40
        or any(ch not in _DIGITS and ch not in _PHONE_PUNCTUATION for ch in body)
    ):
        raise ValidationError(field, "is not a phone number (digits, spaces, - . ( ) only)")
    if not raw.startswith("+") and body.startswith("00"):
        raw = "+" + body[2:]  # the international prefix of most of the world
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise ValidationError(field, "is not a phone number of a known country") from None
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason != _POSSIBLE:
        raise ValidationError(field, _IMPOSSIBLE.get(reason, "is not a possible phone number"))
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if number.country_code == 1 and (e164[2] in "01" or e164[5] in "01"):
        raise ValidationError(field, "is not a valid North American number")
    return e164


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


def contact(value: object, region: str = DEFAULT_REGION, field: str = "contact") -> str:
    """A phone number (E.164; national ones of ``region``) or an e-mail address, whichever
    ``value`` is."""
    if isinstance(value, str) and "@" in value:
        return email(value, field)
    return phone(value, region, field)


OPT_OUT_WORDS = frozenset(
    ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT")
)
"""Texts that opt a number out of every text (carriers' and providers' rules)."""
OPT_IN_WORDS = frozenset(("START", "YES", "UNSTOP"))
"""Texts that opt a number back in."""
HELP_WORDS = frozenset(("HELP", "INFO"))
COMMAND_WORDS = frozenset(("EVENTS", "JOIN", "STATUS"))
"""The SMS conversation's own commands (``CANCEL <code>`` shares the opt-out word)."""
SMS_KEYWORDS = OPT_OUT_WORDS | OPT_IN_WORDS | HELP_WORDS | COMMAND_WORDS
"""Every word the SMS conversation reads as a keyword: no event's short code may be one."""


def short_code(value: object, field: str = "short_code") -> str:
    """An upper-case keyword members can text: a letter then 2-11 letters or digits, and not
    one of the :data:`SMS_KEYWORDS` (which win over event codes)."""
    if not isinstance(value, str) or not _SHORT_CODE.match(value.strip().upper()):
        raise ValidationError(field, "must be a letter then 2 to 11 letters or digits")
    code = value.strip().upper()
    if code in SMS_KEYWORDS:
        raise ValidationError(field, f"must not be {code}, a word texts use as a command")
    return code


def time_zone(value: object, field: str = "time_zone") -> str:
    """An IANA time zone name such as ``America/Chicago``."""
    if not isinstance(value, str) or value not in _zones():
        raise ValidationError(field, "must be an IANA time zone such as America/Chicago")
    return value


def moment(field: str, value: object, within: timedelta | None = None) -> datetime:
    """A time-zone-aware datetime, in UTC and to the millisecond (Cassandra's precision);
    with ``within``, at most that far from now, before or after."""
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValidationError(field, "must be a date and time with a time zone")
    try:
        at = value.astimezone(UTC)
    except OverflowError:  # year 1 east of UTC, year 9999 west of it
        raise ValidationError(field, "is out of the range of dates") from None
    if within is not None and abs(at - datetime.now(UTC)) > within:
        years = within.days // 365
        raise ValidationError(field, f"must be within {years} years from now")
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


@functools.cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())
