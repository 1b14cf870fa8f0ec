"""Admin sessions and failed logins: kept in Cassandra, so every web node sees the same."""

from __future__ import annotations

import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from config.cluster import ClusterConfig
from storage.admin_sessions import NETWORK_S, SESSION_S
from storage.errors import CassandraUnavailable, Throttled, ValidationError
from storage.failed_attempts import MAX_ATTEMPT_KEY, WINDOW_S, FailedAttempts
from storage.session import Database
from storage.store import Store


def unique_key() -> str:
    """A throttle key no other test (or earlier run) has failures for."""
    return "test:" + secrets.token_hex(8)


def default_ttl(store: Store, table: str) -> int:
    rows = store.db.execute(
        "SELECT default_time_to_live FROM system_schema.tables "
        "WHERE keyspace_name = ? AND table_name = ?",
        (store.db.keyspace, table),
    )
    return rows[0]["default_time_to_live"]


def an_admin(store: Store) -> str:
    """A new admin user's name."""
    username = "t" + secrets.token_hex(6)
    store.admins.create(username, "correct horse battery")
    return username


def test_a_session_signs_its_user_in_until_it_ends(store: Store) -> None:
    alice = an_admin(store)
    session_id = store.admin_sessions.start(alice)
    assert len(session_id) == 43 and session_id != store.admin_sessions.start(alice)
    assert store.admin_sessions.user(session_id) == alice
    store.admin_sessions.end(session_id)
    assert store.admin_sessions.user(session_id) is None
    store.admin_sessions.end(session_id)  # ending it again changes nothing


def test_a_new_password_or_a_removed_admin_ends_the_sessions(store: Store) -> None:
    alice, bob = an_admin(store), an_admin(store)
    alices, bobs = store.admin_sessions.start(alice), store.admin_sessions.start(bob)
    store.admins.set_password(alice, "another long password")
    store.admins.delete(bob)
    assert store.admin_sessions.user(alices) is None
    assert store.admin_sessions.user(bobs) is None
    assert store.admin_sessions.user(store.admin_sessions.start(alice)) == alice
    assert store.admin_sessions.user(store.admin_sessions.start(bob)) is None


def test_an_unknown_or_malformed_session_id_signs_nobody_in(store: Store) -> None:
    for session_id in (secrets.token_urlsafe(32), "", "x", '{"user": "alice"}', None, 42):
        assert store.admin_sessions.user(session_id) is None  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="session_id"):
        store.admin_sessions.end("x")
    for username in ("", "a" * 33, None):
        with pytest.raises(ValidationError, match="username"):
            store.admin_sessions.start(username)  # type: ignore[arg-type]


def test_sessions_and_failures_expire_after_their_length(store: Store) -> None:
    assert default_ttl(store, "admin_sessions") == SESSION_S
    assert default_ttl(store, "login_failures") == WINDOW_S
    session_id = store.admin_sessions.start("bob")
    ttl = store.db.execute(
        "SELECT TTL(username) AS ttl FROM admin_sessions WHERE session_id = ?", (session_id,)
    )[0]["ttl"]
    assert SESSION_S - 60 < ttl <= SESSION_S


def test_failures_recorded_on_one_node_throttle_another(
    config: ClusterConfig, store: Store
) -> None:
    key, other_key = unique_key(), unique_key()
    here = FailedAttempts(store.db)
    with Database(config, store.db.keyspace) as other_db:  # another node's connection
        there = FailedAttempts(other_db)
        for _ in range(4):
            here.attempt(key)  # never succeeded: failures
        there.release(there.attempt(key))  # a fifth, right one does not count
        here.attempt(key, other_key)
        with pytest.raises(Throttled) as refused:
            there.attempt(other_key, key)
        assert WINDOW_S - 30 < refused.value.wait_s <= WINDOW_S
        there.attempt(other_key)  # the refused attempt counted nothing


def test_attempts_made_at_once_count_each_other(config: ClusterConfig, store: Store) -> None:
    failures = FailedAttempts(store.db, max_failures=3)
    key = unique_key()
    with Database(config, store.db.keyspace) as other_db:
        nodes = [failures, FailedAttempts(other_db, max_failures=3)]
        start = threading.Barrier(12)

        def guess(n: int) -> bool:
            start.wait()
            try:
                nodes[n % 2].attempt(key)
            except Throttled:
                return False
            return True

        with ThreadPoolExecutor(12) as pool:
            allowed = sum(pool.map(guess, range(12)))
    assert allowed <= 3  # however many arrive at once, at most max_failures get checked
    for _ in range(3 - allowed):  # the refused ones counted nothing, the allowed ones count
        failures.attempt(key)
    with pytest.raises(Throttled):
        failures.attempt(key)


def test_a_check_counts_only_a_wrong_password(store: Store) -> None:
    failures = FailedAttempts(store.db, max_failures=2)
    key = unique_key()

    def outage() -> bool:
        raise CassandraUnavailable("no replica answered")

    for _ in range(3):
        assert failures.check([key], lambda: True)  # right: forgotten
        with pytest.raises(CassandraUnavailable):
            failures.check([key], outage)  # not a wrong password: forgotten too
    assert counted(store, key) == 0
    assert not failures.check([key], lambda: False)
    assert not failures.check([key], lambda: False)
    with pytest.raises(Throttled):
        failures.check([key], lambda: pytest.fail("a throttled login checked its password"))


def test_a_throttled_key_is_refused_without_writing(store: Store) -> None:
    failures = FailedAttempts(store.db, max_failures=2)
    key = unique_key()
    failures.attempt(key)
    failures.attempt(key)
    for _ in range(20):
        with pytest.raises(Throttled):
            failures.attempt(key)
    assert counted(store, key) == 2


def counted(store: Store, key: str) -> int:
    """How many attempts count against ``key`` now."""
    rows = store.db.execute("SELECT at FROM login_failures WHERE key = ?", (key,))
    return len(rows)


def test_the_wait_runs_until_the_oldest_of_the_latest_failures_is_out_of_the_window(
    store: Store,
) -> None:
    failures = FailedAttempts(store.db, max_failures=2, window_s=5)
    key = unique_key()
    before_first = time.monotonic()
    failures.attempt(key)
    after_first = time.monotonic()
    time.sleep(1.5)
    failures.attempt(key)
    before_third = time.monotonic()
    with pytest.raises(Throttled) as refused:
        failures.attempt(key)
    after_third = time.monotonic()
    # the first failure leaves the window first: the wait is the rest of its 5 s, however
    # slowly the cluster answered
    slack = 0.05  # Cassandra's clock (the failure's time UUID) against this one
    assert 5 - (after_third - before_first) - slack <= refused.value.wait_s
    assert refused.value.wait_s <= 5 - (before_third - after_first) + slack


def test_failures_older_than_the_window_no_longer_count(store: Store) -> None:
    window_s = 3  # long enough for the second attempt to start inside it on a slow cluster
    failures = FailedAttempts(store.db, max_failures=1, window_s=window_s)
    key = unique_key()
    failures.attempt(key)
    with pytest.raises(Throttled) as refused:
        failures.attempt(key)
    assert 0 < refused.value.wait_s <= window_s
    time.sleep(refused.value.wait_s + 0.2)
    failures.release(failures.attempt(key))


def test_keys_and_settings_are_checked(store: Store) -> None:
    for key in ("", "k" * (MAX_ATTEMPT_KEY + 1), None):
        with pytest.raises(ValidationError, match="key"):
            store.failed_attempts.attempt(key)  # type: ignore[arg-type]
        with pytest.raises(ValidationError, match="key"):
            store.failed_attempts.attempt(unique_key(), key)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="max_failures"):
        FailedAttempts(store.db, max_failures=0)
    with pytest.raises(ValidationError, match="window_s"):
        FailedAttempts(store.db, window_s=0)


def test_networks_an_admin_signed_in_from_are_remembered(store: Store) -> None:
    user = "n" + secrets.token_hex(5)
    assert not store.admin_sessions.knows_network(user, "192.0.2.10")
    store.admin_sessions.remember_network(user, "192.0.2.10")
    assert store.admin_sessions.knows_network(user, "192.0.2.10")
    assert not store.admin_sessions.knows_network(user, "192.0.2.11")
    assert not store.admin_sessions.knows_network("x" * 200, "192.0.2.10")  # no such admin
    assert default_ttl(store, "admin_networks") == NETWORK_S
