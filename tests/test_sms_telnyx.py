"""Two-way SMS through Telnyx against a running sms node: Ed25519-signed webhook requests
over real HTTP, replies sent through the messaging API to the loopback sandbox (sms.sandbox),
the provider handling STOP and START itself (``provider_opt_outs``)."""

from __future__ import annotations

import base64
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from sms.sandbox import ProviderSandbox, telnyx_webhook_request
from sms.segments import segments
from storage.store import Store
from tests.helpers import SMS_NUMBER, new_phone, sms_cluster

KEY = Ed25519PrivateKey.generate()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[ProviderSandbox]:
    with ProviderSandbox() as running:
        yield running


@pytest.fixture(scope="module")
def webhook(tmp_path_factory: pytest.TempPathFactory, sandbox: ProviderSandbox) -> Iterator[str]:
    public = KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    provider = {
        "provider": "telnyx",
        "api_url": sandbox.url,
        "public_key": base64.b64encode(public).decode(),
        "provider_opt_outs": True,
        "rate_limit": {"messages": 30, "per_s": 60},
    }
    folder = tmp_path_factory.mktemp("sms-telnyx")
    with sms_cluster(folder, provider, sandbox.telnyx_api_key) as (_, url, _site):
        yield url


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, body, headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def text(url: str, sender: str, body: str, message_id: str | None = None, **signed: Any) -> int:
    data, headers = telnyx_webhook_request(
        url, signed.pop("key", KEY), sender, SMS_NUMBER, body, message_id, **signed
    )
    return post(url, data, headers)


def replies(sandbox: ProviderSandbox, number: str, count: int) -> list[str]:
    """The texts sent to ``number``, once ``count`` have arrived (and a moment more, so that
    a duplicate would show)."""
    sandbox.wait_for_texts(count, to=number, timeout=20)
    time.sleep(1.5)
    return [sent.body for sent in sandbox.texts(to=number)]


def test_a_text_is_answered_through_the_messaging_api_once(
    store: Store, webhook: str, sandbox: ProviderSandbox
) -> None:
    number = new_phone()
    message_id = secrets.token_hex(16)
    assert text(webhook, number, "HELP", message_id) == 200
    assert text(webhook, number, "HELP", message_id) == 200  # Telnyx delivering it again
    [reply] = replies(sandbox, number, 1)
    assert "CANCEL alone stops" in reply and segments(reply) <= 2
    log = store.sms_messages.of_number(number)
    assert [(m.direction, m.action) for m in log] == [("out", "reply"), ("in", "help")]


def test_forged_missing_and_stale_signatures_are_refused(store: Store, webhook: str) -> None:
    number = new_phone()
    assert text(webhook, number, "EVENTS", key=Ed25519PrivateKey.generate()) == 403
    assert text(webhook, number, "EVENTS", timestamp=int(time.time()) - 600) == 403
    data, headers = telnyx_webhook_request(webhook, KEY, number, SMS_NUMBER, "EVENTS")
    assert post(webhook, data, {"Content-Type": "application/json"}) == 403
    assert post(webhook, data.replace(b"EVENTS", b"STATUS"), headers) == 403
    assert store.sms_messages.of_number(number) == []


def test_invalid_utf8_is_kept_escaped_and_answered(
    store: Store, webhook: str, sandbox: ProviderSandbox
) -> None:
    number = new_phone()
    assert text(webhook, number, "JOIN \udcff\udcfe") == 200
    [reply] = replies(sandbox, number, 1)
    assert "not valid text" in reply and segments(reply) == 1
    [inbound] = [m for m in store.sms_messages.of_number(number) if m.direction == "in"]
    assert inbound.body == "JOIN \\xff\\xfe" and inbound.action == "unreadable"


def test_the_providers_opt_out_is_recorded_without_a_second_confirmation(
    store: Store, webhook: str, sandbox: ProviderSandbox
) -> None:
    number = new_phone()
    assert text(webhook, number, "stop") == 200
    assert text(webhook, number, "EVENTS") == 200
    assert store.sms_optouts.is_opted_out(number)
    assert text(webhook, number, "UNSTOP") == 200
    assert not store.sms_optouts.is_opted_out(number)
    time.sleep(1.5)
    assert sandbox.texts(to=number) == []
    actions = [m.action for m in reversed(store.sms_messages.of_number(number))]
    assert actions == ["opted_out", "ignored", "opted_in"]


def test_an_event_that_is_not_a_text_is_taken_and_ignored(store: Store, webhook: str) -> None:
    number = new_phone()
    assert text(webhook, number, "EVENTS", event_type="message.finalized") == 200
    assert store.sms_messages.of_number(number) == []
