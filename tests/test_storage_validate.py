"""Property tests for the validators and the phone / e-mail normalisation (no Cassandra)."""

from __future__ import annotations

import re
import string
import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from storage import validate
from storage.errors import ValidationError
from storage.registrations import CODE_ALPHABET, CODE_LENGTH, REF_LETTERS, Ref, new_code, parse_ref

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
NANP = st.from_regex(r"\A[2-9][0-9]{2}[2-9][0-9]{6}\Z")
SEPARATORS = st.sampled_from(["", " ", "-", ".", "\u00a0"])


LAYOUTS = st.sampled_from(
    [
        "{a}{s}{e}{s}{n}",
        "({a}){s}{e}{s}{n}",
        "1{s}{a}{s}{e}{s}{n}",
        "+1{s}{a}{s}{e}{s}{n}",
        "011{s}1{s}{a}{s}{e}{s}{n}",
        "001{s}{a}{s}{e}{s}{n}",
    ]
)


@given(NANP, SEPARATORS, LAYOUTS)
def test_every_way_of_writing_a_north_american_number_gives_one_e164(
    number: str, sep: str, layout: str
) -> None:
    written = layout.format(a=number[:3], e=number[3:6], n=number[6:], s=sep)
    assert validate.phone(written) == "+1" + number


@given(st.text(max_size=30), st.sampled_from(["US", "GB", "IE"]))
def test_phone_gives_e164_or_a_validation_error_naming_the_field(raw: str, country: str) -> None:
    try:
        normalised = validate.phone(raw, country, field="contact")
    except ValidationError as error:
        assert error.field == "contact"
        return
    assert E164.match(normalised)
    assert validate.phone(normalised, country) == normalised  # idempotent


@given(st.text(alphabet=string.digits + " -().+", max_size=25), st.sampled_from(["US", "GB"]))
def test_phone_normalisation_is_idempotent_on_phone_like_text(raw: str, region: str) -> None:
    try:
        normalised = validate.phone(raw, region)
    except ValidationError:
        return
    assert validate.phone(normalised, "GB" if region == "US" else "US") == normalised


@given(st.from_regex(r"\A[1-9][0-9]{8,9}\Z"))
def test_a_national_number_with_a_trunk_zero_gets_the_regions_country(national: str) -> None:
    assert validate.phone("0" + national, "GB") == "+44" + national


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "+",
        "555-0100",
        "call me",
        "+1 555 012 3456 x12",
        "+0123456789",
        "1234",
        "(055) 201-0000",
    ],
)
def test_not_phone_numbers(raw: str) -> None:
    with pytest.raises(ValidationError):
        validate.phone(raw)


def test_an_unknown_phone_region_is_a_configuration_error() -> None:
    with pytest.raises(ValueError):
        validate.phone("5552010000", "+1")


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("07700 900123", "GB", "+447700900123"),  # refused when the calling code 1 was fixed
        ("+44 7700 900123", "US", "+447700900123"),
        ("011 44 7700 900123", "US", "+447700900123"),
        ("0044 7700 900123", "US", "+447700900123"),
        ("(555) 201-0001", "US", "+15552010001"),
        ("+353 1 234 5678", "GB", "+35312345678"),
    ],
)
def test_numbers_are_read_with_the_numbering_plan_of_their_region(
    raw: str, region: str, e164: str
) -> None:
    assert validate.phone(raw, region) == e164


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("+999999999999999", "known country"),  # accepted when any 15 digits passed
        ("+44 7700 9001234567", "too long"),
        ("+44 77", "too short"),
        ("201-0001", "area code"),
        ("555 201 0001 x12", "digits, spaces"),
        ("\u0665\u0665\u0665 201 0001", "digits, spaces"),  # Arabic-Indic digits
        ("555 CALL NOW", "digits, spaces"),  # letters are not dialled here
    ],
)
def test_impossible_numbers_are_refused_saying_why(raw: str, reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        validate.phone(raw, "US", field="contact")


LOCAL = st.from_regex(r"\A[a-z0-9!#$%&'*+/=?^_`{|}~-]{1,20}(\.[a-z0-9_+-]{1,10}){0,2}\Z")
DOMAIN = st.from_regex(r"\A([a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?\.){1,3}[a-z]{2,8}\Z")


@given(LOCAL, DOMAIN, st.sampled_from(["", " ", "\t"]))
def test_email_is_case_and_space_insensitive(local: str, domain: str, pad: str) -> None:
    address = f"{local}@{domain}"
    assert validate.email(f"{pad}{address.upper()}{pad}") == address
    assert validate.contact(address) == address


@given(st.text(max_size=40))
def test_email_gives_an_address_or_a_validation_error(raw: str) -> None:
    try:
        address = validate.email(raw, field="contact")
    except ValidationError as error:
        assert error.field == "contact"
        return
    assert address == address.strip().lower() and address.count("@") >= 1
    assert validate.email(address) == address


@pytest.mark.parametrize(
    "raw",
    [
        "ada",
        "ada@",
        "@example.org",
        "ada@example",
        "a..b@example.org",
        ".a@example.org",
        "ada@-x.org",
        "ada@exa_mple.org",
        "adä@example.org",
        "ada@example.123",
    ],
)
def test_not_email_addresses(raw: str) -> None:
    with pytest.raises(ValidationError):
        validate.email(raw)


@given(st.text(max_size=60), st.integers(1, 50), st.booleans())
def test_text_is_trimmed_bounded_and_printable(raw: str, max_len: int, lines: bool) -> None:
    try:
        clean = validate.text("title", raw, max_len=max_len, lines=lines)
    except ValidationError as error:
        assert error.field == "title"
        return
    assert clean and clean == clean.strip() and len(clean) <= max_len
    allowed = "\n\t" if lines else ""
    assert not any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in clean)
    assert not any(unicodedata.category(ch) == "Cf" and ch not in "\u200c\u200d" for ch in clean)
    assert validate.is_visible(clean)


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("evil\u202egnp.exe", "evilgnp.exe"),  # a right-to-left override
        ("Ad\u200ba\ufeff", "Ada"),  # zero-width space, byte order mark
        ("\u2066Bo\u2069", "Bo"),  # isolates
        ("Cy\U000e0041\U000e007f", "Cy"),  # tag characters
        ("Di\u2028Ed", "Di Ed"),  # a line separator
        ("\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", None),  # Persian: ZWNJ kept
        ("\U0001f469\u200d\U0001f467", None),  # an emoji sequence: ZWJ kept
        ("a \u200d b", "a  b"),  # a joiner between spaces joins nothing
    ],
)
def test_format_characters_are_removed_but_joiners_inside_words_kept(
    raw: str, stored: str | None
) -> None:
    assert validate.text("name", raw, max_len=50) == (raw if stored is None else stored)


@pytest.mark.parametrize("raw", ["\u200b", "\u202e\u202c", " \u3164 ", "\u0301"])
def test_a_name_with_nothing_visible_is_refused(raw: str) -> None:
    with pytest.raises(ValidationError, match="name"):
        validate.text("name", raw, max_len=50)


@pytest.mark.parametrize(
    ("written", "zone"),
    [("0001-01-01T00:00", "Asia/Tokyo"), ("9999-12-31T23:00", "America/Chicago")],
)
def test_dates_at_the_ends_of_the_calendar_are_refused_not_crashed(written: str, zone: str) -> None:
    moment = datetime.fromisoformat(written).replace(tzinfo=ZoneInfo(zone))
    with pytest.raises(ValidationError, match="starts_at"):
        validate.moment("starts_at", moment)


def test_a_horizon_bounds_moments_both_ways() -> None:
    now, ten_years = datetime.now(UTC), timedelta(days=3653)
    assert validate.moment("ends_at", now + timedelta(days=3000), within=ten_years)
    for far in (now + timedelta(days=4000), now - timedelta(days=4000)):
        with pytest.raises(ValidationError, match="within 10 years"):
            validate.moment("ends_at", far, within=ten_years)


@given(st.one_of(st.integers(-5, 30), st.booleans(), st.floats(), st.text(max_size=3)))
def test_integers_in_range_only(value: object) -> None:
    try:
        assert 1 <= validate.integer("party_size", value, 1, 20) <= 20
    except ValidationError as error:
        assert error.field == "party_size"
        assert isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 20


PREFIXES = st.text(alphabet=REF_LETTERS, min_size=4, max_size=4)
CODES = st.text(alphabet=CODE_ALPHABET, min_size=CODE_LENGTH, max_size=CODE_LENGTH)


@given(PREFIXES, CODES.filter(lambda code: not code.isdigit()))
def test_references_round_trip(prefix: str, code: str) -> None:
    for written in (f"{prefix}-{code}", f"{prefix.lower()} {code.lower()}", f" {prefix}{code} "):
        assert parse_ref(written) == Ref(prefix, code=code)
        assert str(parse_ref(written)) == f"{prefix}-{code}"


@given(PREFIXES, st.integers(1, 999_999_999))
def test_numbered_references_of_earlier_registrations_still_parse(prefix: str, number: int) -> None:
    for written in (f"{prefix}-{number}", f"{prefix.lower()} {number}", f" {prefix}{number} "):
        assert parse_ref(written) == Ref(prefix, number=number)


def test_new_codes_are_random_readable_and_never_all_digits() -> None:
    codes = {new_code() for _ in range(2000)}
    assert len(codes) == 2000  # about a billion codes: no repeats in 2,000
    for code in codes:
        assert len(code) == CODE_LENGTH and set(code) <= set(CODE_ALPHABET)
        assert not code.isdigit()
    assert not set(CODE_ALPHABET) & set("01IO")


@given(st.text(max_size=14))
def test_short_codes_are_upper_case_keywords(raw: str) -> None:
    try:
        code = validate.short_code(raw)
    except ValidationError:
        return
    assert re.match(r"^[A-Z][A-Z0-9]{2,11}$", code) and code == raw.strip().upper()


@given(st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5))])))
def test_moments_become_utc_milliseconds(at: datetime) -> None:
    assume(datetime.min.replace(tzinfo=UTC) + timedelta(days=1) < at)
    clean = validate.moment("starts_at", at)
    assert clean.tzinfo == UTC and clean.microsecond % 1000 == 0
    assert timedelta(0) <= at - clean < timedelta(milliseconds=1)


def test_naive_datetimes_and_unknown_zones_are_refused() -> None:
    with pytest.raises(ValidationError, match="starts_at"):
        validate.moment("starts_at", datetime(2030, 1, 1))
    with pytest.raises(ValidationError, match="time_zone"):
        validate.time_zone("Mars/Olympus")
    assert validate.time_zone("Europe/Dublin") == "Europe/Dublin"
