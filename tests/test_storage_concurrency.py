"""Sign-ups under real concurrency: several processes (each with its own driver Cluster) racing
for the last seats, and sign-ups while a Cassandra node is down."""

from __future__ import annotations

import multiprocessing
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from config import cluster as cluster_config
from config.cluster import ClusterConfig
from devcluster import LocalCluster
from storage.errors import CassandraUnavailable
from storage.registrations import Registrations, SignupResult
from storage.session import Database
from storage.store import Store
from tests.helpers import make_event

PROCESSES = 4
THREADS = 4
SIGN_UPS = 200
SEATS = 50


def _with_retries(call: Callable[..., SignupResult], *args: Any, **kwargs: Any) -> SignupResult:
    """Retry a sign-up whose outcome Cassandra left uncertain, as callers are told to."""
    for _ in range(4):
        try:
            return call(*args, **kwargs)
        except CassandraUnavailable:
            time.sleep(0.5)
    return call(*args, **kwargs)


def _race(config_path: str, keyspace: str, option_id: uuid.UUID, people: list[int]) -> list[tuple]:
    """One process: sign ``people`` up with a few threads, retrying some; returns outcomes."""
    config = cluster_config.load(config_path)
    with Database(config, keyspace) as db:
        registrations = Registrations(db, node=f"racer-{people[0]}")

        def sign_up(person: int) -> tuple:
            contact = f"+1555301{person:04d}"
            sign = registrations.sign_up
            result = _with_retries(
                sign, option_id, f"Person {person}", contact, 1, "web", idempotency_key=f"p{person}"
            )
            if person % 7 == 0:  # a retried request, and the same person again with a new key
                retry = _with_retries(
                    sign, option_id, f"Person {person}", contact, idempotency_key=f"p{person}"
                )
                again = _with_retries(sign, option_id, f"Person {person}", contact)
                outcomes = (result, retry, again)
                assert retry.registration == again.registration == result.registration, outcomes
                assert not retry.created and not again.created, outcomes
            registration = result.registration
            return person, registration.ref, registration.number, registration.status

        with ThreadPoolExecutor(THREADS) as pool:
            return list(pool.map(sign_up, people))


def test_racing_processes_never_overbook_and_keep_the_waitlist_in_order(
    store: Store, config: ClusterConfig, short_code: str
) -> None:
    option_id = make_event(store, short_code, SEATS)[1].option_id
    people = list(range(SIGN_UPS))
    shares = [people[i::PROCESSES] for i in range(PROCESSES)]
    started = time.monotonic()
    with multiprocessing.get_context("spawn").Pool(PROCESSES) as pool:
        outcomes = [
            outcome
            for share in pool.starmap_async(
                _race,
                [(str(config.path), store.db.keyspace, option_id, share) for share in shares],
            ).get(timeout=240)
            for outcome in share
        ]
    print(f"{SIGN_UPS} racing sign-ups took {time.monotonic() - started:.1f} s")

    assert len(outcomes) == SIGN_UPS
    assert len({ref for _, ref, _, _ in outcomes}) == SIGN_UPS
    assert sorted(number for _, _, number, _ in outcomes) == list(range(1, SIGN_UPS + 1))
    confirmed = sorted(number for *_, number, status in outcomes if status == "confirmed")
    waitlisted = sorted(number for *_, number, status in outcomes if status == "waitlisted")
    # all parties are of one: the first 50 numbers got the seats, everyone after waits
    assert confirmed == list(range(1, SEATS + 1))
    assert waitlisted == list(range(SEATS + 1, SIGN_UPS + 1))

    stored = store.registrations.registrations(option_id)
    assert len(stored) == SIGN_UPS
    assert len({r.contact for r in stored}) == SIGN_UPS
    assert sum(r.party_size for r in stored if r.status == "confirmed") == SEATS
    seats = store.registrations.seats(option_id)
    assert (seats.taken, seats.waiting, seats.seq) == (SEATS, SIGN_UPS - SEATS, SIGN_UPS)

    # cancel ten confirmed ones concurrently: exactly the next ten waiting, in order, get in
    by_number = {r.number: r for r in stored}
    with ThreadPoolExecutor(THREADS) as pool:
        results = list(
            pool.map(store.registrations.cancel, [by_number[n].ref for n in range(1, 11)])
        )
    promoted = sorted(r.number for result in results for r in result.promoted)
    assert promoted == list(range(SEATS + 1, SEATS + 11))
    after = store.registrations.registrations(option_id, "confirmed")
    assert [r.number for r in after] == list(range(11, SEATS + 11))
    assert store.registrations.seats(option_id).waiting == SIGN_UPS - SEATS - 10


def test_sign_ups_keep_succeeding_with_a_node_down(
    store: Store, local_cluster: LocalCluster, short_code: str, tmp_path: Path
) -> None:
    option_id = make_event(store, short_code, 100)[1].option_id
    local_cluster.kill("node3")
    try:
        with ThreadPoolExecutor(THREADS) as pool:
            results = list(
                pool.map(
                    lambda i: store.registrations.sign_up(
                        option_id, f"P{i}", f"+1555302{i:04d}", idempotency_key=f"down-{i}"
                    ),
                    range(40),
                )
            )
        assert all(r.created and r.registration.status == "confirmed" for r in results)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and all(h.is_up for h in store.db.hosts()):
            time.sleep(0.5)
        assert [h.address for h in store.db.hosts() if not h.is_up] == ["127.0.0.3"]
        cancelled = store.registrations.cancel(results[0].registration.ref)
        assert cancelled.registration.status == "cancelled"
    finally:
        local_cluster.start("node3")
    seats = store.registrations.seats(option_id)
    assert (seats.taken, seats.seq) == (39, 40)
