"""SMS messages and opt-outs, kiosk configuration, job watermarks and admin users."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from storage.admins import hash_password, verify_password
from storage.errors import Conflict, NotFound, ValidationError
from storage.store import Store
from tests.helpers import wait_until


def test_a_retried_webhook_is_stored_once(store: Store) -> None:
    provider_id = "SM" + secrets.token_hex(16)
    first, created = store.sms_messages.record(
        "in", "+15556010001", "12345", "PICNIC 2", provider_id
    )
    again, created_again = store.sms_messages.record(
        "in", "+15556010001", "12345", "PICNIC 2", provider_id
    )
    assert created and not created_again
    assert again.message_id == first.message_id and again.at == first.at
    around = store.sms_messages.since(
        first.at - timedelta(seconds=1), first.at + timedelta(seconds=1)
    )
    assert [m.message_id for m in around if m.provider_id == provider_id] == [first.message_id]


def test_a_claims_paxos_state_is_kept_three_hours_not_ten_days(store: Store) -> None:
    provider_id = "SM" + secrets.token_hex(16)
    store.sms_messages.claim(provider_id)
    table = store.db.execute(
        "SELECT id, gc_grace_seconds FROM system_schema.tables "
        "WHERE keyspace_name = ? AND table_name = 'sms_provider_ids'",
        (store.db.keyspace,),
    )[0]
    assert table["gc_grace_seconds"] == 3 * 3600

    kept_for: list[int] = []  # seconds, as a coordinator's own system.paxos says

    def committed() -> bool:
        rows = store.db.execute(
            "SELECT TTL(most_recent_commit_at) AS ttl FROM system.paxos "
            "WHERE row_key = ? AND cf_id = ?",
            (provider_id.encode(), table["id"]),
        )
        kept_for[:] = [row["ttl"] for row in rows if row["ttl"] is not None]
        return bool(kept_for)

    # a replica's commit may land after the claim's quorum answered
    wait_until(committed, what="the claim's Paxos commit in system.paxos")
    assert 3 * 3600 - 600 < kept_for[0] <= 3 * 3600


def test_since_a_watermark_scans_across_days_in_order(store: Store) -> None:
    base = datetime(2031, 3, 9, 23, 59, 58, tzinfo=UTC)
    tag = secrets.token_hex(4)
    times = [base + timedelta(seconds=s) for s in (0, 1, 3, 5)]  # crosses midnight
    for i, at in enumerate(times):
        store.sms_messages.record("out", "12345", "+15556010002", f"{tag} {i}", at=at)
    found = [
        m for m in store.sms_messages.since(base, base + timedelta(seconds=10)) if tag in m.body
    ]
    assert [m.body for m in found] == [f"{tag} 1", f"{tag} 2", f"{tag} 3"]  # after, not at
    assert [m.at for m in found] == times[1:]
    upto = store.sms_messages.since(base - timedelta(seconds=1), times[2])
    assert [m.body for m in upto if tag in m.body] == [f"{tag} 0", f"{tag} 1", f"{tag} 2"]
    with pytest.raises(ValidationError) as failure:
        store.sms_messages.record("sideways", "1", "2", "x")
    assert failure.value.field == "direction"


def test_opt_outs(store: Store) -> None:
    phone = f"+1555601{secrets.randbelow(10_000):04d}"
    assert not store.sms_optouts.is_opted_out(phone)
    store.sms_optouts.opt_out(phone[2:], "stop")
    assert store.sms_optouts.is_opted_out(phone)
    assert any(o.phone == phone and o.keyword == "STOP" for o in store.sms_optouts.list())
    store.sms_optouts.opt_in(phone)
    assert not store.sms_optouts.is_opted_out(phone)


def test_kiosk_configuration(store: Store) -> None:
    kiosk = "kiosk-" + secrets.token_hex(3)
    events = [uuid.uuid4(), uuid.uuid4()]
    config = store.kiosks.put(kiosk, events, "Welcome!\nTap to sign up.", 90, "high-contrast")
    assert store.kiosks.get(kiosk) == config
    assert config.event_ids == tuple(events)
    assert config in store.kiosks.list()
    cases: list[tuple[dict[str, Any], str]] = [
        ({"idle_timeout_s": 5}, "idle_timeout_s"),
        ({"theme": "Bold!"}, "theme"),
        ({"event_ids": [events[0], events[0]]}, "event_ids"),
        ({"kiosk_id": "Kiosk 1"}, "kiosk_id"),
    ]
    for bad, field in cases:
        with pytest.raises(ValidationError) as failure:
            store.kiosks.put(**({"kiosk_id": kiosk, "event_ids": events} | bad))
        assert failure.value.field == field
    store.kiosks.delete(kiosk)
    with pytest.raises(NotFound):
        store.kiosks.get(kiosk)


def test_watermarks_only_move_forward(store: Store) -> None:
    job = "digest-" + secrets.token_hex(3)
    assert store.watermarks.get(job) is None
    later = datetime(2031, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    store.watermarks.advance(job, later, "42 messages")
    store.watermarks.advance(job, later - timedelta(hours=1))  # a slow, older run finishing late
    assert store.watermarks.get(job) == later
    store.watermarks.advance(job, later + timedelta(minutes=1))
    assert store.watermarks.all()[job] == later + timedelta(minutes=1)


def test_passwords_are_hashed_with_scrypt() -> None:
    encoded = hash_password("correct horse battery")
    assert encoded.startswith("scrypt$") and "correct" not in encoded
    assert encoded != hash_password("correct horse battery")  # salted
    assert verify_password("correct horse battery", encoded)
    assert not verify_password("wrong horse battery", encoded)
    assert not verify_password("correct horse battery", "garbage")
    with pytest.raises(ValidationError):
        hash_password("short")


def test_admin_users(store: Store) -> None:
    name = "admin" + secrets.token_hex(3)
    store.admins.create(name, "a long passphrase")
    with pytest.raises(Conflict):
        store.admins.create(name, "another passphrase")
    assert store.admins.verify(name.upper(), "a long passphrase")
    assert not store.admins.verify(name, "a wrong passphrase")
    assert not store.admins.verify("nobody-here", "a long passphrase")
    stored = store.db.execute("SELECT password_hash FROM admin_users WHERE username = ?", (name,))
    assert "passphrase" not in stored[0]["password_hash"]
    store.admins.set_password(name, "a new passphrase")
    assert store.admins.verify(name, "a new passphrase")
    assert name in store.admins.list()
    store.admins.delete(name)
    assert not store.admins.verify(name, "a new passphrase")
    with pytest.raises(NotFound):
        store.admins.set_password(name, "whatever it is")
