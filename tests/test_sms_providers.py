"""SMS segments, the Twilio and Telnyx adapters (webhook signatures, parsing, answers) and
sending through them to the loopback provider sandbox (sms.sandbox). No Cassandra needed."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import socket
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from twilio.twiml.messaging_response import MessagingResponse  # type: ignore[import-untyped]

from sms import segments
from sms.providers import (
    PROVIDERS,
    Inbound,
    Provider,
    SendKind,
    SendOutcome,
    TelnyxProvider,
    TwilioProvider,
    WebhookRefused,
)
from sms.providers.base import sendable
from sms.sandbox import ProviderSandbox, telnyx_webhook_request, twilio_webhook_request
from tests.helpers import free_port

OURS = "+15550001000"
MEMBER = "+15550002000"
TWILIO_URL = "https://gather.example.org/sms/twilio"
TELNYX_URL = "https://gather.example.org/sms/telnyx"


def _refusal(call: object, *args: object) -> WebhookRefused:
    """The WebhookRefused that ``call(*args)`` raises."""
    assert callable(call)
    with pytest.raises(WebhookRefused) as caught:
        call(*args)
    return caught.value


# --- segments ---


def test_the_gsm_basic_and_extension_tables_are_gsm7() -> None:
    assert len(segments.GSM7_BASIC_TABLE) == 128
    table = segments.GSM7_BASIC_TABLE.replace("\x1b", "") + segments.GSM7_EXTENSION
    assert segments.encoding(table) == "GSM-7"
    assert segments.encoding("£¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà\n\r @$#") == "GSM-7"
    for outside in ("`", "ç", "…", "\N{GRINNING FACE}", "\t", "\x1b"):
        assert segments.encoding(f"plain {outside}") == "UCS-2", repr(outside)


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("✓" * 70, 1),
        ("✓" * 71, 2),
        ("✓" * 134, 2),
        ("✓" * 135, 3),
        ("€" * 80, 1),  # extension characters take two septets each
        ("€" * 81, 2),
        ("a" * 159 + "{", 2),
        ("\N{GRINNING FACE}" * 35, 1),  # outside the BMP: two UTF-16 units each
        ("\N{GRINNING FACE}" * 36, 2),
        ("a" * 159 + "\N{GRINNING FACE}", 3),  # one emoji makes all of it UCS-2: 161 units
        ("a" * 152 + "€" + "a" * 152, 3),  # the escape pair is not split across parts
    ],
)
def test_segments(text: str, count: int) -> None:
    assert segments.segments(text) == count
    assert segments.fits_one(text) is (count == 1)


def test_shorten_keeps_a_text_that_fits() -> None:
    assert segments.shorten("See you there!") == "See you there!"
    assert segments.shorten("a" * 300, limit_segments=2) == "a" * 300


@pytest.mark.parametrize("limit", [1, 2])
@pytest.mark.parametrize("word", ["word", "wörd", "w✓rd"])
def test_shorten_cuts_at_a_word_boundary_with_three_dots(word: str, limit: int) -> None:
    text = " ".join(f"{word}{i}" for i in range(200))
    short = segments.shorten(text, limit_segments=limit)
    assert short.endswith(segments.ELLIPSIS)
    assert segments.segments(short) == limit
    kept = short.removesuffix(segments.ELLIPSIS)
    assert text.startswith(kept)
    assert text[len(kept)] == " "
    assert segments.encoding(short) == segments.encoding(text)  # "..." keeps GSM-7 GSM-7
    # Not a word more would fit.
    longer = text[: text.index(" ", len(kept) + 1)] + segments.ELLIPSIS
    assert segments.segments(longer) > limit


def test_shorten_cuts_a_single_long_word() -> None:
    short = segments.shorten("x" * 500)
    assert short == "x" * 157 + "..."
    with pytest.raises(ValueError):
        segments.shorten("x", limit_segments=0)


# --- Twilio webhook ---

VECTOR_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
VECTOR_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
    "Caller": "+14158675309",
}
VECTOR_SIGNATURE = "RSOYDt4T1cUTdK1PDd93/VVr8B8="


@pytest.fixture
def twilio() -> TwilioProvider:
    return TwilioProvider("AC" + "0" * 32, "test-auth-token", OURS)


@pytest.mark.parametrize("url", [VECTOR_URL, "https://mycompany.com:443/myapp.php?foo=1&bar=2"])
def test_twilio_published_vector_passes_the_signature_check(url: str) -> None:
    provider = TwilioProvider("AC" + "0" * 32, "12345", OURS)
    body = urlencode(VECTOR_PARAMS).encode()
    # The signature is right: what stops the request is what the vector lacks (it is a call).
    refused = _refusal(provider.parse, url, {"X-Twilio-Signature": VECTOR_SIGNATURE}, body, 0.0)
    assert (refused.status, refused.reason) == (400, "missing MessageSid")
    other_token = TwilioProvider("AC" + "0" * 32, "54321", OURS)
    forged = _refusal(other_token.parse, url, {"X-Twilio-Signature": VECTOR_SIGNATURE}, body, 0.0)
    assert (forged.status, forged.reason) == (403, "bad signature")


@pytest.mark.parametrize(
    ("signed_url", "parsed_url"),
    [
        (TWILIO_URL, TWILIO_URL),
        ("https://gather.example.org:443/sms/twilio", TWILIO_URL),
        (TWILIO_URL, "https://gather.example.org:443/sms/twilio"),
    ],
)
def test_twilio_inbound_text(twilio: TwilioProvider, signed_url: str, parsed_url: str) -> None:
    body, headers = twilio_webhook_request(
        signed_url, "test-auth-token", MEMBER, OURS, "JOIN picnic & <more>", "SM" + "a" * 32
    )
    inbound = twilio.parse(parsed_url, headers, body, time.time())
    assert inbound == Inbound("SM" + "a" * 32, MEMBER, OURS, "JOIN picnic & <more>")


def test_twilio_refuses_forged_missing_or_tampered_signatures(twilio: TwilioProvider) -> None:
    body, headers = twilio_webhook_request(TWILIO_URL, "test-auth-token", MEMBER, OURS, "YES")
    lower = {name.lower(): value for name, value in headers.items()}
    assert twilio.parse(TWILIO_URL, lower, body, 0.0).body == "YES"  # any case of the name
    cases = {
        "missing signature": (TWILIO_URL, {}, body),
        "bad signature": (TWILIO_URL, {**headers, "X-Twilio-Signature": "AAAA"}, body),
    }
    for reason, (url, given, raw) in cases.items():
        refused = _refusal(twilio.parse, url, given, raw, 0.0)
        assert (refused.status, refused.reason) == (403, reason)
    for url, raw in [
        (TWILIO_URL, body.replace(b"Body=YES", b"Body=NO")),  # another text
        ("https://gather.example.org/sms/other", body),  # another URL
    ]:
        assert _refusal(twilio.parse, url, headers, raw, 0.0).status == 403


def _twilio_signature(token: str, url: str, pairs: list[tuple[str, str]]) -> str:
    """Twilio's algorithm by hand: the URL, then each name with each of its values, sorted."""
    data = url + "".join(name + value for name, value in sorted(pairs))
    mac = hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(mac).decode()


def test_twilio_ignores_unknown_fields_and_signs_repeated_ones(twilio: TwilioProvider) -> None:
    pairs = [
        ("MessageSid", "SM" + "b" * 32),
        ("From", MEMBER),
        ("To", OURS),
        ("Body", ""),
        ("SomethingNew", "2"),
        ("SomethingNew", "1"),
        ("MediaUrl0", ""),
    ]
    signature = _twilio_signature("test-auth-token", TWILIO_URL, pairs)
    body = urlencode(pairs).encode()
    inbound = twilio.parse(TWILIO_URL, {"X-Twilio-Signature": signature}, body, 0.0)
    assert inbound == Inbound("SM" + "b" * 32, MEMBER, OURS, "")  # Body may be empty
    missing = [pair for pair in pairs if pair[0] != "Body"]
    signature = _twilio_signature("test-auth-token", TWILIO_URL, missing)
    refused = _refusal(
        twilio.parse, TWILIO_URL, {"X-Twilio-Signature": signature}, urlencode(missing).encode(), 0
    )
    assert (refused.status, refused.reason) == (400, "missing Body")


def test_twilio_refuses_a_body_that_is_not_utf8_or_not_ascii(twilio: TwilioProvider) -> None:
    # Twilio always sends percent-encoded UTF-8: anything else cannot be its request.
    not_utf8 = b"MessageSid=SM1&From=%2B1555&To=%2B1666&Body=caf%E9"
    signature = _twilio_signature("test-auth-token", TWILIO_URL, [])
    for body in (not_utf8, "Body=café".encode()):
        refused = _refusal(twilio.parse, TWILIO_URL, {"X-Twilio-Signature": signature}, body, 0)
        assert (refused.status, refused.reason) == (403, "bad signature")


def test_twilio_answers_twiml(twilio: TwilioProvider) -> None:
    answer = twilio.answer("You're in: <Picnic> & games")
    assert (answer.status, answer.content_type) == (200, "text/xml; charset=utf-8")
    assert b"<Message>You're in: &lt;Picnic&gt; &amp; games</Message>" in answer.body
    root = ET.fromstring(answer.body)
    assert root.tag == "Response"
    assert [(child.tag, child.text) for child in root] == [
        ("Message", "You're in: <Picnic> & games")
    ]
    for silent in (None, ""):
        empty = ET.fromstring(twilio.answer(silent).body)
        assert (empty.tag, list(empty)) == ("Response", [])
    assert twilio.replies_inline


@pytest.mark.parametrize(
    "reply",
    [
        None,
        "",
        "plain",
        "a < b & c > d",
        "quotes \" ' and ]]>",
        "line\nbreak\ttab\r",
        "\x07\ufffe",
        "caf\u00e9 \u20ac \U0001f600",
        "lone \udc80 byte",
    ],
)
def test_twilio_twiml_is_what_twilios_library_writes(
    twilio: TwilioProvider, reply: str | None
) -> None:
    response = MessagingResponse()
    if reply:
        response.message(re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", "", sendable(reply)))
    assert twilio.answer(reply).body == response.to_xml().encode("utf-8")


# --- Telnyx webhook ---


@pytest.fixture(scope="module")
def telnyx_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def _public_b64(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode()


@pytest.fixture
def telnyx(telnyx_key: Ed25519PrivateKey) -> TelnyxProvider:
    return TelnyxProvider("KEYtest", _public_b64(telnyx_key), OURS)


def _signed(key: Ed25519PrivateKey, body: bytes, timestamp: int) -> dict[str, str]:
    signature = key.sign(f"{timestamp}|".encode() + body)
    return {
        "telnyx-signature-ed25519": base64.b64encode(signature).decode(),
        "telnyx-timestamp": str(timestamp),
    }


def test_telnyx_inbound_text(telnyx: TelnyxProvider, telnyx_key: Ed25519PrivateKey) -> None:
    body, headers = telnyx_webhook_request(
        TELNYX_URL, telnyx_key, MEMBER, OURS, "JOIN picnic", message_id="msg-1"
    )
    assert telnyx.parse(TELNYX_URL, headers, body, time.time()) == Inbound(
        "msg-1", MEMBER, OURS, "JOIN picnic"
    )
    upper = {name.upper(): value for name, value in headers.items()}
    assert telnyx.parse(TELNYX_URL, upper, body, time.time()) is not None
    assert telnyx.answer("ignored") == telnyx.answer(None)
    assert (telnyx.answer(None).status, telnyx.answer(None).body) == (200, b"")
    assert not telnyx.replies_inline


def test_telnyx_refuses_forged_missing_and_stale_signatures(
    telnyx: TelnyxProvider, telnyx_key: Ed25519PrivateKey
) -> None:
    now = time.time()
    body, headers = telnyx_webhook_request(TELNYX_URL, telnyx_key, MEMBER, OURS, "YES")
    other_key = Ed25519PrivateKey.generate()
    _, forged = telnyx_webhook_request(TELNYX_URL, other_key, MEMBER, OURS, "YES")
    stale_body, stale = telnyx_webhook_request(
        TELNYX_URL, telnyx_key, MEMBER, OURS, "YES", timestamp=int(now) - 600
    )
    ahead_body, ahead = telnyx_webhook_request(
        TELNYX_URL, telnyx_key, MEMBER, OURS, "YES", timestamp=int(now) + 600
    )
    cases = [
        ({}, body, "missing signature"),
        ({"telnyx-timestamp": headers["telnyx-timestamp"]}, body, "missing signature"),
        (
            {"telnyx-signature-ed25519": headers["telnyx-signature-ed25519"]},
            body,
            "missing signature",
        ),
        (forged, body, "bad signature"),
        ({**headers, "telnyx-signature-ed25519": "not base64!"}, body, "bad signature"),
        (headers, body.replace(b'"YES"', b'"NO"'), "bad signature"),
        (
            {**headers, "telnyx-timestamp": str(int(headers["telnyx-timestamp"]) + 1)},
            body,
            "bad signature",
        ),
        (stale, stale_body, "stale timestamp"),
        (ahead, ahead_body, "stale timestamp"),
    ]
    for given, raw, reason in cases:
        refused = _refusal(telnyx.parse, TELNYX_URL, given, raw, now)
        assert (refused.status, refused.reason) == (403, reason)
    # Within the window (five minutes by default) a signature is good.
    recent_body, recent = telnyx_webhook_request(
        TELNYX_URL, telnyx_key, MEMBER, OURS, "YES", timestamp=int(now) - 290
    )
    assert telnyx.parse(TELNYX_URL, recent, recent_body, now) is not None


@pytest.mark.parametrize("event_type", ["message.sent", "message.finalized", "other.new"])
def test_telnyx_other_events_are_not_texts(
    telnyx: TelnyxProvider, telnyx_key: Ed25519PrivateKey, event_type: str
) -> None:
    body, headers = telnyx_webhook_request(
        TELNYX_URL, telnyx_key, OURS, MEMBER, "our reply", event_type=event_type
    )
    assert telnyx.parse(TELNYX_URL, headers, body, time.time()) is None


def test_telnyx_ignores_unknown_fields(
    telnyx: TelnyxProvider, telnyx_key: Ed25519PrivateKey
) -> None:
    body, _ = telnyx_webhook_request(TELNYX_URL, telnyx_key, MEMBER, OURS, "HELP", "msg-2")
    event = json.loads(body)
    event["new_top_level"] = {"x": 1}
    event["data"]["payload"]["brand_new"] = [1, 2]
    event["data"]["payload"]["from"]["carrier_v2"] = None
    raw = json.dumps(event).encode()
    now = int(time.time())
    inbound = telnyx.parse(TELNYX_URL, _signed(telnyx_key, raw, now), raw, now)
    assert inbound == Inbound("msg-2", MEMBER, OURS, "HELP")


def test_telnyx_keeps_invalid_utf8_as_surrogates(
    telnyx: TelnyxProvider, telnyx_key: Ed25519PrivateKey
) -> None:
    body, headers = telnyx_webhook_request(TELNYX_URL, telnyx_key, MEMBER, OURS, "caf\udce9 ok")
    assert b"caf\xe9 ok" in body
    inbound = telnyx.parse(TELNYX_URL, headers, body, time.time())
    assert inbound is not None
    assert inbound.body == "caf\udce9 ok"
    assert inbound.body.encode("utf-8", errors="surrogateescape") == b"caf\xe9 ok"


def test_telnyx_refuses_a_signed_body_it_cannot_read(
    telnyx: TelnyxProvider, telnyx_key: Ed25519PrivateKey
) -> None:
    now = int(time.time())
    payload = {"id": "m", "from": {"phone_number": MEMBER}, "to": [{"phone_number": OURS}]}
    cases = {
        b"not json": "not JSON",
        b"[]": "missing data.event_type",
        json.dumps(
            {"data": {"event_type": "message.received"}}
        ).encode(): "missing data.payload.id",
        json.dumps(
            {"data": {"event_type": "message.received", "payload": {**payload, "to": []}}}
        ).encode(): "missing data.payload.to.0.phone_number",
        json.dumps(
            {"data": {"event_type": "message.received", "payload": {**payload, "text": 5}}}
        ).encode(): "missing data.payload.text",
    }
    for raw, reason in cases.items():
        refused = _refusal(telnyx.parse, TELNYX_URL, _signed(telnyx_key, raw, now), raw, now)
        assert (refused.status, refused.reason) == (400, reason)
    # A picture-only MMS has no text.
    raw = json.dumps({"data": {"event_type": "message.received", "payload": payload}}).encode()
    inbound = telnyx.parse(TELNYX_URL, _signed(telnyx_key, raw, now), raw, now)
    assert inbound == Inbound("m", MEMBER, OURS, "")


def test_telnyx_needs_a_real_public_key() -> None:
    for bad in ("not base64!", base64.b64encode(b"short").decode()):
        with pytest.raises(ValueError):
            TelnyxProvider("KEYtest", bad, OURS)


# --- sending, against the sandbox ---


@pytest.fixture(scope="module")
def sandbox() -> Iterator[ProviderSandbox]:
    with ProviderSandbox() as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh_sandbox(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "sandbox" in request.fixturenames:
        request.getfixturevalue("sandbox").clear()


def _provider(name: str, sandbox: ProviderSandbox, *, credentials_ok: bool = True) -> Provider:
    wrong = "" if credentials_ok else "wrong"
    if name == "twilio":
        return TwilioProvider(
            sandbox.twilio_account_sid, sandbox.twilio_auth_token + wrong, OURS, sandbox.url
        )
    key = Ed25519PrivateKey.generate()
    return TelnyxProvider(
        sandbox.telnyx_api_key + wrong, _public_b64(key), OURS, api_url=sandbox.url
    )


def _send(provider: Provider, to: str, body: str, timeout_s: float = 5.0) -> SendOutcome:
    return asyncio.run(provider.send(to, body, timeout_s))


ID_FORMS = {
    "twilio": r"SM[0-9a-f]{32}",
    "telnyx": r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
}


@pytest.mark.parametrize("name", PROVIDERS)
def test_send_is_sent_with_the_providers_id(name: str, sandbox: ProviderSandbox) -> None:
    outcome = _send(_provider(name, sandbox), MEMBER, "You're in: Picnic ✓ caf\udce9")
    assert outcome.kind is SendKind.SENT
    assert outcome.provider_id is not None
    assert re.fullmatch(ID_FORMS[name], outcome.provider_id)
    [text] = sandbox.wait_for_texts(1, to=MEMBER)
    assert (text.provider, text.to, text.sender, text.provider_id) == (
        name,
        MEMBER,
        OURS,
        outcome.provider_id,
    )
    assert text.body == "You're in: Picnic ✓ caf\N{REPLACEMENT CHARACTER}"  # sendable
    assert sandbox.texts(to=OURS) == []


@pytest.mark.parametrize(("name", "code"), [("twilio", "21610"), ("telnyx", "40300")])
def test_send_to_an_opted_out_number(name: str, code: str, sandbox: ProviderSandbox) -> None:
    sandbox.opt_out(MEMBER)
    outcome = _send(_provider(name, sandbox), MEMBER, "Reminder")
    assert (outcome.kind, outcome.code) == (SendKind.OPTED_OUT, code)
    assert MEMBER.removeprefix("+") not in outcome.detail  # Telnyx's detail quotes it
    assert sandbox.texts() == []


@pytest.mark.parametrize("name", PROVIDERS)
@pytest.mark.parametrize("status", [429, 500, 503])
def test_send_to_a_failing_provider_is_retried(
    name: str, status: int, sandbox: ProviderSandbox
) -> None:
    sandbox.fail_next(1, status=status)
    provider = _provider(name, sandbox)
    outcome = _send(provider, MEMBER, "Reminder")
    assert outcome.kind is SendKind.RETRY
    assert f"HTTP {status}" in outcome.detail
    assert sandbox.texts() == []
    assert _send(provider, MEMBER, "Reminder").kind is SendKind.SENT


@pytest.mark.parametrize(
    ("name", "bad_number", "empty_text"),
    [("twilio", "21211", "21602"), ("telnyx", "40310", "10004")],
)
def test_send_refused_for_good(
    name: str, bad_number: str, empty_text: str, sandbox: ProviderSandbox
) -> None:
    provider = _provider(name, sandbox)
    invalid = _send(provider, "+1555 0100", "Hello")
    assert (invalid.kind, invalid.code) == (SendKind.FAILED, bad_number)
    assert "0100" not in invalid.detail  # Twilio's message quotes the number
    empty = _send(provider, MEMBER, "")
    assert (empty.kind, empty.code) == (SendKind.FAILED, empty_text)
    assert sandbox.texts() == []


@pytest.mark.parametrize(("name", "code"), [("twilio", "20003"), ("telnyx", "10009")])
def test_send_with_wrong_credentials_fails(name: str, code: str, sandbox: ProviderSandbox) -> None:
    outcome = _send(_provider(name, sandbox, credentials_ok=False), MEMBER, "Hello")
    assert (outcome.kind, outcome.code) == (SendKind.FAILED, code)
    assert "HTTP 401" in outcome.detail


@pytest.mark.parametrize("name", PROVIDERS)
def test_send_without_an_answer_in_time_is_uncertain(name: str, sandbox: ProviderSandbox) -> None:
    sandbox.stall_next(1, seconds=5.0)
    started = time.monotonic()
    outcome = _send(_provider(name, sandbox), MEMBER, "Hello", timeout_s=0.5)
    assert outcome.kind is SendKind.UNCERTAIN
    assert time.monotonic() - started < 3.0
    # The provider took the text all the same.
    [text] = sandbox.wait_for_texts(1, to=MEMBER)
    assert text.body == "Hello"


@pytest.mark.parametrize("name", PROVIDERS)
def test_send_to_an_unreachable_provider_is_retried(name: str) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    provider: Provider
    if name == "twilio":
        provider = TwilioProvider("AC" + "0" * 32, "token", OURS, api_url=url)
    else:
        key = _public_b64(Ed25519PrivateKey.generate())
        provider = TelnyxProvider("KEYtest", key, OURS, api_url=url)
    outcome = _send(provider, MEMBER, "Hello")
    assert outcome.kind is SendKind.RETRY


def test_send_that_cannot_connect_in_time_is_retried() -> None:
    # A listener whose accept queue is full: the kernel drops (or resets) new connections.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fillers = [socket.socket() for _ in range(3)]
        try:
            for filler in fillers:
                filler.setblocking(False)
                filler.connect_ex(("127.0.0.1", port))
            provider = TwilioProvider("AC" + "0" * 32, "t", OURS, f"http://127.0.0.1:{port}")
            outcome = _send(provider, MEMBER, "Hello", timeout_s=0.5)
        finally:
            for filler in fillers:
                filler.close()
    assert outcome.kind is SendKind.RETRY


def test_the_sandbox_stays_on_loopback_and_waits_for_texts(sandbox: ProviderSandbox) -> None:
    for host in ("0.0.0.0", "localhost", "::1", "192.168.1.10"):
        with pytest.raises(ValueError):
            ProviderSandbox(host)
    with pytest.raises(RuntimeError):
        _ = ProviderSandbox().url
    assert sandbox.url.startswith("http://127.0.0.1:")
    with pytest.raises(TimeoutError):
        sandbox.wait_for_texts(1, timeout=0.2)
    with pytest.raises(ValueError):
        sandbox.fail_next(1, status=200)
