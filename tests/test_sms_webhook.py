"""Two-way SMS against running nodes: signed webhook requests over real HTTP to the sms actor
of a node process, on the real Cassandra cluster; texts Gather sends reach a loopback stand-in
for the provider's REST API (sms.sandbox), the one outside service that cannot be reached
from here."""

from __future__ import annotations

import dataclasses
import secrets
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from config.cluster import ClusterConfig, NodeConfig, SecretSource, SmsConfig
from node.context import NodeContext
from node.logbuffer import LogBuffer
from signups import Client, sign_up
from sms.actor import SmsWebhook
from sms.sandbox import ProviderSandbox, twilio_webhook_request
from sms.segments import segments
from storage.errors import ValidationError
from storage.store import Store
from tests.helpers import SMS_NUMBER, Browser, free_port, make_event, new_phone, sms_cluster

OURS = SMS_NUMBER
LIMIT = 25
"""Texts one number may send per minute on the test cluster."""


class Phone:
    """A member's phone texting the site through Twilio's webhook."""

    def __init__(self, url: str, token: str, number: str | None = None) -> None:
        self.url = url
        self.token = token
        self.number = number or new_phone()

    def post(self, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        request = urllib.request.Request(self.url, body, headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def text(self, body: str, sid: str | None = None) -> str | None:
        """Send ``body``; the reply in the TwiML answer (None: no reply)."""
        data, headers = twilio_webhook_request(self.url, self.token, self.number, OURS, body, sid)
        status, answer = self.post(data, headers)
        assert status == 200, answer
        message = ET.fromstring(answer).find("Message")
        return None if message is None else message.text


@pytest.fixture(scope="module")
def sandbox() -> Iterator[ProviderSandbox]:
    with ProviderSandbox() as running:
        yield running


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory, sandbox: ProviderSandbox) -> Iterator[Any]:
    """An sms node (Twilio, confirming opt-outs itself) and a web node on the test keyspace;
    (processes, webhook, site)."""
    provider = {
        "provider": "twilio",
        "api_url": sandbox.url,
        "account": sandbox.twilio_account_sid,
        "provider_opt_outs": False,
        "rate_limit": {"messages": LIMIT, "per_s": 60},
    }
    folder = tmp_path_factory.mktemp("sms")
    with sms_cluster(folder, provider, sandbox.twilio_auth_token, web=True) as running:
        yield running


@pytest.fixture
def phone(nodes: Any, sandbox: ProviderSandbox) -> Phone:
    return Phone(nodes[1], sandbox.twilio_auth_token)


@pytest.fixture
def soon(store: Store) -> Iterator[tuple[str, Any, Any]]:
    """An event starting soon (so first in the EVENTS list) with options Main and Evening;
    (its code, the options). Closed afterwards, so that it leaves the list."""
    code = "S" + secrets.token_hex(3).upper()
    start = datetime.now(UTC) + timedelta(minutes=5)
    event = store.events.create(
        title=f"Soon {code}",
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        time_zone="UTC",
        short_code=code,
    )
    first = store.events.add_option(event.event_id, "Main", 1, True)
    second = store.events.add_option(event.event_id, "Evening", 5, True)
    yield code, first, second
    store.events.set_open(event.event_id, False)


def one_segment(reply: str | None) -> str:
    assert reply is not None
    assert segments(reply) == 1, f"{len(reply)} characters: {reply!r}"
    return reply


def test_a_whole_conversation(store: Store, phone: Phone, soon: tuple[str, Any, Any]) -> None:
    code, _, evening = soon
    assert code in one_segment(phone.text("events"))
    assert "1 for Main" in one_segment(phone.text(f"  {code.lower()} "))
    assert "what name" in one_segment(phone.text("2"))
    reply = one_segment(phone.text("Ada"))  # a one-word name, though it looks like a code
    assert "confirmed" in reply
    [registration] = store.registrations.registrations(evening.option_id)
    assert (registration.name, registration.contact, registration.channel) == (
        "Ada",
        phone.number,
        "sms",
    )
    assert registration.ref in reply
    assert registration.ref in one_segment(phone.text("STATUS"))
    assert "Cancelled" in one_segment(phone.text(f"cancel {registration.ref.lower()}"))
    assert store.registrations.get(registration.ref).status == "cancelled"
    # The name is remembered: the next sign-up asks for none.
    assert "1 for Main" in one_segment(phone.text(f"JOIN {code}"))
    assert "confirmed" in one_segment(phone.text("1"))
    # Opted out: confirmed once, then nothing is answered or sent.
    assert "no more texts" in one_segment(phone.text("STOP"))
    assert phone.text("STOP") is None
    assert phone.text("EVENTS") is None
    assert "CANCEL alone stops" in (phone.text("help") or "")
    assert "back on" in one_segment(phone.text("start"))
    assert phone.text("EVENTS") is not None
    log = store.sms_messages.of_number(phone.number)
    actions = [message.action for message in reversed(log) if message.direction == "in"]
    assert actions[:4] == ["events", "asked_option", "asked_name", "signed_up"]
    assert {"status", "cancelled", "opted_out", "ignored", "help", "opted_in"} <= set(actions)


def test_a_retried_message_gets_the_same_answer_and_changes_nothing(
    store: Store, phone: Phone
) -> None:
    code = "R" + secrets.token_hex(3).upper()
    _, option = make_event(store, code)
    sid = "SM" + secrets.token_hex(16)
    first = phone.text(f"JOIN {code} 2 Grace Hopper", sid)
    assert first is not None and "confirmed" in first
    assert phone.text(f"JOIN {code} 2 Grace Hopper", sid) == first
    assert len(store.registrations.registrations(option.option_id)) == 1
    inbound = [m for m in store.sms_messages.of_number(phone.number) if m.direction == "in"]
    assert len(inbound) == 1


def test_a_full_option_waitlists_with_the_position(store: Store, phone: Phone) -> None:
    code = "L" + secrets.token_hex(3).upper()
    _, option = make_event(store, code, capacity=1)
    store.registrations.sign_up(option.option_id, "First", new_phone(), channel="kiosk")
    reply = one_segment(phone.text(f"JOIN {code} 1 Second Person"))
    assert "no. 1 on the waitlist" in reply
    [waiting] = store.registrations.registrations(option.option_id, "waitlisted")
    assert waiting.ref in reply and waiting.contact == phone.number


def test_forged_and_missing_signatures_are_refused_and_store_nothing(
    store: Store, phone: Phone, sandbox: ProviderSandbox
) -> None:
    code = "F" + secrets.token_hex(3).upper()
    _, option = make_event(store, code)
    body, headers = twilio_webhook_request(
        phone.url, "not the token", phone.number, OURS, f"JOIN {code} 1 Eve"
    )
    assert phone.post(body, headers)[0] == 403
    unsigned = {k: v for k, v in headers.items() if k.lower() != "x-twilio-signature"}
    assert phone.post(body, unsigned)[0] == 403
    body, headers = twilio_webhook_request(
        phone.url, sandbox.twilio_auth_token, phone.number, OURS, f"JOIN {code} 1 Eve"
    )
    assert phone.post(body.replace(b"Eve", b"Mallory"), headers)[0] == 403
    assert store.registrations.registrations(option.option_id) == []
    assert store.sms_messages.of_number(phone.number) == []


def test_bad_input_is_answered_clearly_and_kept(store: Store, phone: Phone) -> None:
    long = "x" * 1700
    assert "longer than 1600" in one_segment(phone.text(long))
    assert "control characters" in one_segment(phone.text("JOIN\x07 ABC"))
    kept = {m.body for m in store.sms_messages.of_number(phone.number) if m.direction == "in"}
    assert long in kept and "JOIN\\u0007 ABC" in kept
    for keyword_and_more in ("YES 2", "STOP 2", "JOIN STOP", "HELP 1"):
        assert "person will read" in one_segment(phone.text(keyword_and_more))
    hint = one_segment(phone.text("Can I bring my dog to the picnic?"))
    assert "person will read" in hint
    waiting = store.sms_messages.needing_person(1)
    assert any(m.from_number == phone.number for m in waiting)


def test_a_message_id_out_of_bounds_is_refused_and_stores_nothing(
    store: Store, phone: Phone, sandbox: ProviderSandbox
) -> None:
    body, headers = twilio_webhook_request(
        phone.url, sandbox.twilio_auth_token, phone.number, OURS, "EVENTS", "SM" + "0" * 150
    )
    status, answer = phone.post(body, headers)
    assert (status, answer) == (400, b"provider_id must be at most 100 characters")
    assert store.sms_messages.of_number(phone.number) == []


def test_a_sender_over_the_rate_limit_is_stored_but_not_answered(
    store: Store, phone: Phone
) -> None:
    answers = [phone.text("EVENTS") for _ in range(LIMIT + 2)]
    assert all(answers[:LIMIT]) and answers[LIMIT:] == [None, None]
    actions = [m.action for m in store.sms_messages.of_number(phone.number) if m.direction == "in"]
    assert actions.count("rate_limited") == 2


def test_a_short_code_equal_to_a_keyword_is_refused(store: Store) -> None:
    for keyword in ("STOP", "help", "Yes", "EVENTS", "JOIN"):
        with pytest.raises(ValidationError, match="command"):
            make_event(store, keyword)


def texts_to(sandbox: ProviderSandbox, number: str, containing: str) -> list[str]:
    return [t.body for t in sandbox.texts(to=number) if containing in t.body]


def wait_texts(sandbox: ProviderSandbox, number: str, containing: str, count: int) -> list[str]:
    deadline = time.monotonic() + 20
    while len(texts_to(sandbox, number, containing)) < count:
        assert time.monotonic() < deadline, f"{count} text(s) with {containing!r} not received"
        time.sleep(0.1)
    time.sleep(1.5)  # a few notifier passes more: nothing is sent twice
    return texts_to(sandbox, number, containing)


def test_a_website_sign_up_with_a_phone_gets_its_code_by_text(
    store: Store, nodes: Any, sandbox: ProviderSandbox
) -> None:
    code = "W" + secrets.token_hex(3).upper()
    event, option = make_event(store, code)
    number = new_phone()
    browser = Browser(nodes[2])
    path = f"/events/{event.event_id}"
    fields = {
        "_xsrf": browser.xsrf(path),
        "name": "Katherine Johnson",
        "contact": number,
        "party_size": "1",
        "option": str(option.option_id),
        "key": secrets.token_hex(8),
    }
    status, _, _ = browser.get(f"{path}/signup", fields)
    assert status == 303
    [registration] = store.registrations.registrations(option.option_id)
    [text] = wait_texts(sandbox, number, registration.ref, 1)
    assert segments(text) == 1


def test_promotions_are_texted_once_after_a_cancellation_and_a_capacity_increase(
    store: Store, nodes: Any, sandbox: ProviderSandbox
) -> None:
    code = "P" + secrets.token_hex(3).upper()
    event, option = make_event(store, code, capacity=1)
    first, second, third, opted = (new_phone() for _ in range(4))
    held = store.registrations.sign_up(option.option_id, "One", first, channel="kiosk")
    for number in (second, third, opted):
        store.registrations.sign_up(option.option_id, "Waiting", number, channel="kiosk")
    store.sms_optouts.opt_out(opted, "STOP")
    # Cancelled on the web node's website.
    browser = Browser(nodes[2])
    fields = {"_xsrf": browser.xsrf("/cancel"), "ref": held.registration.ref, "contact": first}
    assert browser.get("/cancel", fields)[0] == 200
    assert len(wait_texts(sandbox, second, "seat opened", 1)) == 1
    # A capacity increase by staff (here, through storage as the management UI does).
    store.events.update_option(event.event_id, option.option_id, capacity=3)
    assert len(wait_texts(sandbox, third, "seat opened", 1)) == 1
    assert sandbox.texts(to=opted) == []
    states = {n.contact: n.state for n in store.notices.recent("sms", 1) if n.kind == "promoted"}
    assert states[opted] == "opted_out"


def test_a_send_refused_as_opted_out_by_the_provider_counts_as_an_opt_out(
    store: Store, sandbox: ProviderSandbox
) -> None:
    code = "O" + secrets.token_hex(3).upper()
    _, option = make_event(store, code)
    number = new_phone()
    sandbox.opt_out(number)
    sign_up(store, Client.kiosk("kiosk-t"), option.option_id, "Opted", number)
    deadline = time.monotonic() + 20
    while not store.sms_optouts.is_opted_out(number):
        assert time.monotonic() < deadline, "the provider's opt-out was not recorded"
        time.sleep(0.2)


def test_the_sms_actor_crashed_from_the_shell_serves_again(nodes: Any, phone: Phone) -> None:
    processes = nodes[0]
    assert "crash injected" in processes.output("sms-a", "crash root/sms/webhook")
    deadline = time.monotonic() + 20
    while True:
        try:
            if phone.text("EVENTS") is not None:
                break
        except (AssertionError, OSError):
            pass
        assert time.monotonic() < deadline, "the webhook did not come back"
        time.sleep(0.2)


def test_a_stopped_webhook_server_shuts_its_service_thread_pool_down(
    config: ClusterConfig, store: Store, sandbox: ProviderSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A restart of the webhook actor (one server stopped, a new one made) leaves no threads
    behind: the service's pool goes with its server."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/sms/twilio"
    monkeypatch.setenv("GATHER_TEST_SMS_SECRET", sandbox.twilio_auth_token)
    section = SmsConfig(
        provider="twilio",
        webhook_url=url,
        number=OURS,
        api_url=sandbox.url,
        account=sandbox.twilio_account_sid,
        public_key=None,
        secret=SecretSource(env="GATHER_TEST_SMS_SECRET", file=None, what="sms.secret"),
        provider_opt_outs=True,
        rate_limit=LIMIT,
        rate_period_s=60.0,
        conversation_ttl_s=900,
    )
    sms_config = dataclasses.replace(config, sms=section)
    node = NodeConfig(name="sms-t", host="127.0.0.1", port=0, roles=("sms",), sms_port=port)
    context = NodeContext(config=sms_config, node=node, cookie=b"t", logs=LogBuffer(), store=store)
    server = SmsWebhook(context).make_server()  # what the actor runs, made as it makes it
    executor = server.app.settings["executor"]
    server.start()
    try:
        assert Phone(url, sandbox.twilio_auth_token).text("EVENTS")  # read on the pool
    finally:
        server.stop()
    with pytest.raises(RuntimeError, match="shutdown"):
        executor.submit(int)
