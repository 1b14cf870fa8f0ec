"""Sign-ups per second and latency: the repository against the raw driver, same LWT, same run.

Both sides do, per sign-up, the same lightweight transaction: the conditional batch of
``storage.registrations`` (seat CAS + idempotency-key, contact and reference-code claims +
registration row, with a random code from the same generator), at the ``signup`` class's
consistency, with the same number of threads. The raw side
binds precomputed values on its own driver ``Cluster`` (tuple rows, no validation, no objects);
the repository side calls ``Registrations.sign_up`` (validation, phone normalisation, result
objects). Each thread signs up into its own option (so neither side measures CAS contention),
and rounds alternate raw/repository; the ratio is the median of the rounds' ratios, which
cancels the drift of a shared machine. Run on the local 3-node cluster:

    .venv/bin/python bench/signups.py [--signups 400] [--threads 16] [--rounds 9]

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import itertools
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cassandra import ConsistencyLevel
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile, Session
from cassandra.policies import DCAwareRoundRobinPolicy, TokenAwarePolicy
from cassandra.query import tuple_factory

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (
    alternating_rounds,
    median_ratio,
    median_round,
    print_json,
    print_table,
    run_threads,
)
from config import cluster as cluster_config
from config.cluster import ClusterConfig
from storage import migrate
from storage.registrations import SIGN_UP_CONFIRMED, new_code
from storage.session import PROTOCOL_VERSION, Database
from storage.store import Store

CAPACITY = 100_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signups", type=int, default=400, help="per side and round")
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--keyspace", default="gather_bench")
    args = parser.parse_args()
    with store_and_raw_session(args.keyspace) as (store, session):
        sides = {
            "raw driver": RawSignups(store, session, args.threads),
            "repository": RepositorySignups(store, args.threads),
        }
        for side in sides.values():  # warm-up: connections, prepared statements, seat caches
            run_threads(side.sign_up, args.threads * 4, args.threads)
        rounds = alternating_rounds(
            {
                name: functools.partial(run_threads, side.sign_up, args.signups, args.threads)
                for name, side in sides.items()
            },
            args.rounds,
        )

    median = {name: median_round(figures) for name, figures in rounds.items()}
    ours, raw = median["repository"], median["raw driver"]
    ratio = median_ratio(rounds["repository"], rounds["raw driver"])
    print_table(
        f"sign-ups: {args.signups} per side and round, {args.threads} threads, median of "
        f"{args.rounds} alternating rounds; 1 LWT (conditional batch) per sign-up on both sides",
        median,
    )
    print(
        f"repository / raw driver: {ratio:.3f} (median of the rounds' ratios; goal >= 0.85); "
        f"ratio of the median rates {ours.per_s / raw.per_s:.3f}"
    )
    print_json(
        "signups",
        ours_per_s=round(ours.per_s, 1),
        raw_per_s=round(raw.per_s, 1),
        ratio=round(ratio, 3),
        p50_ms=round(ours.p50_ms, 2),
        p99_ms=round(ours.p99_ms, 2),
        raw_p50_ms=round(raw.p50_ms, 2),
        raw_p99_ms=round(raw.p99_ms, 2),
        errors=sum(f.errors for figures in rounds.values() for f in figures),
        signups=args.signups,
        threads=args.threads,
        rounds=args.rounds,
        lwts_per_signup=1,
    )
    return 0


class Side:
    """A set of options, one per thread: a thread's first call picks the next free one."""

    def __init__(self, store: Store, code: str, threads: int) -> None:
        self.options = _options(store, code, threads)
        self.numbers = itertools.count()
        self._indices = itertools.count()
        self._local = threading.local()

    def next(self) -> tuple[int, uuid.UUID]:
        """A fresh sign-up number and this thread's option."""
        if not hasattr(self._local, "option"):
            self._local.option = self.options[next(self._indices) % len(self.options)]
        return next(self.numbers), self._local.option

    def sign_up(self, _: int) -> None:
        """One sign-up (a worker thread's ``_``-th)."""
        raise NotImplementedError


class RepositorySignups(Side):
    """Sign-ups through the repository."""

    def __init__(self, store: Store, threads: int) -> None:
        super().__init__(store, "OURS", threads)
        self._registrations = store.registrations

    def sign_up(self, _: int) -> None:
        n, option_id = self.next()
        self._registrations.sign_up(
            option_id,
            f"Member {n}",
            member_phone(n),
            1,
            "kiosk",
            idempotency_key=f"ours-{n}",
        )


class RawSignups(Side):
    """The same conditional batch through the bare driver, values computed in place."""

    def __init__(self, store: Store, session: Session, threads: int) -> None:
        super().__init__(store, "RAW", threads)
        self._session = session
        self._prepared = session.prepare(SIGN_UP_CONFIRMED)
        self._state = {option_id: (0, 0) for option_id in self.options}  # version, taken

    def sign_up(self, _: int) -> None:
        n, option_id = self.next()
        version, taken = self._state[option_id]
        number = version + 1
        now = datetime.now(UTC)
        contact = "+1" + member_phone(n).replace("-", "")  # as storage normalises it
        key = f"raw-{n}"
        code = new_code()
        row = self._session.execute(
            self._prepared,
            (
                taken + 1,
                0,
                number,
                number,
                option_id,
                version,
                option_id,
                "k:" + key,
                number,
                option_id,
                "c:" + contact,
                number,
                option_id,
                "x:" + code,
                number,
                option_id,
                f"r:{number:09d}",
                number,
                f"Member {n}",
                contact,
                1,
                "kiosk",
                "bench",
                key,
                "confirmed",
                now,
                now,
                code,
            ),
        ).one()
        if not row[0]:
            raise RuntimeError(f"raw sign-up {n} did not apply: {row}")
        self._state[option_id] = (number, taken + 1)


def member_phone(n: int) -> str:
    """A distinct North American phone number for sign-up ``n``, written the national way."""
    return f"555-{n // 10_000 % 800 + 200:03d}-{n % 10_000:04d}"


@contextlib.contextmanager
def store_and_raw_session(keyspace: str) -> Iterator[tuple[Store, Session]]:
    """The bench keyspace brought up to date, then a Store and a bare driver session on it."""
    config = cluster_config.load()
    with Database(config) as db:
        migrate.apply(db, config, keyspace, say=lambda _: None)
    with (
        Store(config, node="bench", keyspace=keyspace) as store,
        raw_session(config, keyspace) as session,
    ):
        yield store, session


@contextlib.contextmanager
def raw_session(config: ClusterConfig, keyspace: str) -> Iterator[Session]:
    """A bare driver session with the signup class's settings from cluster.yaml."""
    signup = config.cassandra.consistency["signup"]
    profile = ExecutionProfile(
        load_balancing_policy=TokenAwarePolicy(DCAwareRoundRobinPolicy()),
        consistency_level=ConsistencyLevel.name_to_value[signup.level],
        serial_consistency_level=ConsistencyLevel.name_to_value[signup.serial],
        request_timeout=signup.timeout_s,
        row_factory=tuple_factory,
    )
    cluster = Cluster(
        list(config.cassandra.contact_points),
        port=config.cassandra.port,
        protocol_version=PROTOCOL_VERSION,
        execution_profiles={EXEC_PROFILE_DEFAULT: profile},
    )
    try:
        yield cluster.connect(keyspace)
    finally:
        cluster.shutdown()


def _options(store: Store, code: str, count: int) -> list[uuid.UUID]:
    start = datetime.now(UTC) + timedelta(days=30)
    event = store.events.create(
        title=f"Bench {code}",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        time_zone="UTC",
        short_code=f"B{code}{uuid.uuid4().hex[:6].upper()}",
    )
    return [
        store.events.add_option(event.event_id, f"Option {i}", CAPACITY).option_id
        for i in range(count)
    ]


if __name__ == "__main__":
    sys.exit(main())
