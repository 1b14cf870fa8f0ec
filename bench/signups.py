"""Sign-ups per second and latency: the sign-up rules against the raw driver, same statements.

Both sides send, per sign-up, the same two statements: the lightweight transaction of
``storage.registrations`` (the conditional batch: seat CAS + idempotency-key, contact and
reference-code claims + registration row, with a random code from the same generator) at the
``signup`` class's consistency, then, once it has applied, the insert into ``member_notices``
that owes the member its reference code (``signups.signing_up`` writes it for a website or
kiosk sign-up) at the ``write`` class's, with the same number of threads. The raw side binds
precomputed values on its own driver ``Cluster`` (tuple rows, no validation, no objects); our
side calls ``signups.sign_up`` as a kiosk (the rules every frontend applies: validation, phone
normalisation, the repository's flow, result objects). Each thread signs up into its own option
(so neither side measures CAS contention), and rounds alternate raw/ours; the ratio is the
median of the rounds' ratios, which cancels the drift of a shared machine. Run on the local
3-node cluster:

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

import signups
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
from signups import Client
from storage import migrate
from storage.registrations import SIGN_UP_CONFIRMED, new_code
from storage.registrations.refs import make_ref
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
        sides: dict[str, Side] = {
            "raw driver": RawSignups(store, session, args.threads),
            "ours (sign-up rules)": RuleSignups(store, args.threads),
        }
        try:
            for side in sides.values():  # warm-up: connections, prepared statements, seat caches
                run_threads(side.sign_up, args.threads * 4, args.threads)
            rounds = alternating_rounds(
                {
                    name: functools.partial(run_threads, side.sign_up, args.signups, args.threads)
                    for name, side in sides.items()
                },
                args.rounds,
            )
        finally:
            for side in sides.values():
                side.close()

    median = {name: median_round(figures) for name, figures in rounds.items()}
    ours, raw = median["ours (sign-up rules)"], median["raw driver"]
    ratio = median_ratio(rounds["ours (sign-up rules)"], rounds["raw driver"])
    print_table(
        f"sign-ups: {args.signups} per side and round, {args.threads} threads, median of "
        f"{args.rounds} alternating rounds; per sign-up on both sides 1 LWT (the conditional "
        "batch), then the code notice's insert",
        median,
    )
    print(
        f"ours / raw driver: {ratio:.3f} (median of the rounds' ratios; goal >= 0.85); "
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
        statements_per_signup=2,
    )
    return 0


class Side:
    """A set of options of one event, one per thread: a thread's first call picks the next free
    one. A closed event (``is_open`` false) is for raw statements only: they do not look, and
    the SMS webhook's catalog leaves it out."""

    def __init__(self, store: Store, code: str, threads: int, *, is_open: bool = True) -> None:
        self._store = store
        self.event_id, self.options = _options(store, code, threads, is_open)
        self.numbers = itertools.count()
        self._indices = itertools.count()
        self._local = threading.local()

    def close(self) -> None:
        """Close the event for sign-ups, so that it is no longer upcoming for later runs (the
        SMS webhook reads every upcoming event's options every few seconds)."""
        self._store.events.set_open(self.event_id, False)

    def next(self) -> tuple[int, uuid.UUID]:
        """A fresh sign-up number and this thread's option."""
        if not hasattr(self._local, "option"):
            self._local.option = self.options[next(self._indices) % len(self.options)]
        return next(self.numbers), self._local.option

    def sign_up(self, _: int) -> None:
        """One sign-up (a worker thread's ``_``-th)."""
        raise NotImplementedError


class RepositorySignups(Side):
    """Sign-ups through the repository alone (``Registrations.sign_up``: the conditional batch,
    no notice), as ``bench/paxos.py`` measures them."""

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


class RuleSignups(Side):
    """Sign-ups through the sign-up rules, as a kiosk makes them (``signups.sign_up``: the
    repository's conditional batch, then the code notice it owes the member)."""

    def __init__(self, store: Store, threads: int) -> None:
        super().__init__(store, "RULE", threads)
        self._store = store
        self._client = Client.kiosk("bench")

    def sign_up(self, _: int) -> None:
        n, option_id = self.next()
        signups.sign_up(
            self._store,
            self._client,
            option_id,
            f"Member {n}",
            member_phone(n),
            1,
            key=f"rule-{n}",
        )


class RawSignups(Side):
    """The same statements through the bare driver, values computed in place: the conditional
    batch, then (``notice``, as ``signups.signing_up`` does for a website or kiosk sign-up) the
    insert that owes the member its reference code, at the ``write`` class's consistency."""

    def __init__(
        self, store: Store, session: Session, threads: int, *, notice: bool = True
    ) -> None:
        super().__init__(store, "RAW", threads)
        self._session = session
        self._prepared = session.prepare(SIGN_UP_CONFIRMED)
        self._notice = (
            session.prepare(store.notices.owing("code", "code:", "+15550100100").cql)
            if notice
            else None
        )
        self._state = {option_id: (0, 0) for option_id in self.options}  # version, taken
        self._prefix = {
            option_id: store.registrations.seats(option_id).ref_prefix for option_id in self.options
        }

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
        if self._notice is not None:
            self._session.execute(
                self._notice,
                (
                    "sms",  # storage.notices.channel_of a phone number
                    now.date(),
                    f"code:{option_id}:{number}",
                    "code",
                    contact,
                    make_ref(self._prefix[option_id], code, number),
                    option_id,
                    number,
                    None,
                    now,
                ),
                execution_profile="write",
            )


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
    """A bare driver session with an execution profile per operation class of cluster.yaml
    (``read``, ``write``, ``signup``, ``report``: level, serial level, timeout), as
    ``storage.session`` builds them but with tuple rows; the default is ``signup``'s."""
    profiles = {
        name: ExecutionProfile(
            load_balancing_policy=TokenAwarePolicy(DCAwareRoundRobinPolicy()),
            consistency_level=ConsistencyLevel.name_to_value[level.level],
            serial_consistency_level=(
                ConsistencyLevel.name_to_value[level.serial] if level.serial else None
            ),
            request_timeout=level.timeout_s,
            row_factory=tuple_factory,
        )
        for name, level in config.cassandra.consistency.items()
    }
    cluster = Cluster(
        list(config.cassandra.contact_points),
        port=config.cassandra.port,
        protocol_version=PROTOCOL_VERSION,
        execution_profiles={**profiles, EXEC_PROFILE_DEFAULT: profiles["signup"]},
    )
    try:
        yield cluster.connect(keyspace)
    finally:
        cluster.shutdown()


def _options(
    store: Store, code: str, count: int, is_open: bool = True
) -> tuple[uuid.UUID, list[uuid.UUID]]:
    start = datetime.now(UTC) + timedelta(days=30)
    event = store.events.create(
        title=f"Bench {code}",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        time_zone="UTC",
        short_code=f"B{code}{uuid.uuid4().hex[:6].upper()}",
        is_open=is_open,
    )
    return event.event_id, [
        store.events.add_option(event.event_id, f"Option {i}", CAPACITY).option_id
        for i in range(count)
    ]


if __name__ == "__main__":
    sys.exit(main())
