"""Building one digest against a bare driver scan of the same rows: time and peak memory.

Our side builds the digest of one period as the mail role does (``mail.digest.read`` on a
``Store``: the SMS day buckets the period touches through ``SmsMessages.rows_since``, then the whole
``signup_ledger`` through ``Database.stream``, both folded as they stream, then the events and
options it names). The raw side sends the same scans on a bare driver session with the same
row factory (dict rows) and the same execution profiles (those of cluster.yaml's ``read`` and
``report`` classes), with the same statements, values and page sizes (checked at run time
against what ours streams), and only counts the rows. Two periods, on data loaded once into a
keyspace of the bench's own and reused by later runs: 100,000 texts in from 2,000 numbers over
three UTC days, with 50,000 registrations made in those days over 500 options of 50 events;
and three later days of 10,000 texts from the same 2,000 numbers (the same ledger, none of it
made then). Rounds alternate raw and ours, both periods; each figure is the median round.
Peak memory (Python allocations, ``tracemalloc``) is measured in runs of its own, since tracing
slows everything. Run on the local 3-node cluster:

    .venv/bin/python bench/digest.py [--rounds 3] [--reload] [--profile]

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import gc
import inspect
import io
import ipaddress
import itertools
import pstats
import random
import sys
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple, TypeVar
from unittest import mock

from cassandra.cluster import ExecutionProfile, Session
from cassandra.concurrent import execute_concurrent_with_args
from cassandra.query import dict_factory
from cassandra.util import max_uuid_from_time, uuid_from_time

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import mail.digest
from bench.harness import Figures, alternating_rounds, median_ratio, median_round, print_json
from bench.signups import store_and_raw_session
from config import cluster as cluster_config
from mail.digest import Digest
from mail.period import Period
from node.process import settle_interpreter
from storage import times
from storage.flow import OpClass
from storage.registrations import CODE_ALPHABET, CODE_LENGTH
from storage.session import Database
from storage.store import Store

T = TypeVar("T")

MESSAGES_LARGE = 100_000
MESSAGES_SMALL = 10_000
NUMBERS = 2_000
EVENTS = 50
OPTIONS_PER_EVENT = 10
OPTIONS = EVENTS * OPTIONS_PER_EVENT
REGISTRATIONS_PER_OPTION = 100
REGISTRATIONS = OPTIONS * REGISTRATIONS_PER_OPTION
MAX_LISTED = 50
"""The digest's ``max_listed`` (texts that need a person listed in full, opt-outs)."""
LAYOUT = 1
"""The data's shape: a keyspace loaded with another layout (or other counts) is loaded again."""
MARKER = "bench-digest-loaded"
"""The ``job_watermarks`` row that says the keyspace holds the bench's data, with its counts."""
SITE_NUMBER = "+15550100100"
NODE = "bench-digest"
CONCURRENCY = 64
"""Writes in flight while loading."""
CHUNK = 5_000
"""Rows generated and written at a time while loading (progress is printed after each)."""

LARGE = Period(datetime(2026, 10, 5, tzinfo=UTC), datetime(2026, 10, 8, tzinfo=UTC), False, 1)
"""The period of the 100,000 texts and of every registration."""
SMALL = Period(datetime(2026, 10, 12, tzinfo=UTC), datetime(2026, 10, 15, tzinfo=UTC), False, 1)
"""The period of the 10,000 texts: the same numbers, nothing in the ledger made in it."""

# The scans the digest makes (storage.sms_messages.SmsMessages.rows_since, mail.digest.read),
# written out for the raw side and checked at run time against what ours streams.
SCAN_DAY = (
    "SELECT day, at, direction, from_number, to_number, body, provider_id, node, action, "
    "reply, handled FROM sms_messages WHERE day = ? AND at > ? AND at <= ?"
)
SCAN_LEDGER = (
    "SELECT option_id, entry, event_id, capacity, taken, waiting, status, channel, party_size, "
    "created_at, updated_at FROM signup_ledger"
)
DAY_PAGE = 500
"""``Database.stream``'s default page size, which ``SmsMessages.rows_since`` keeps."""
LEDGER_PAGE = 1000
"""The page size ``mail.digest.read`` gives its ledger scan."""

# What the bench loads, with plain writes (as storage writes these rows, not through its flows).
INSERT_MESSAGE = (
    "INSERT INTO sms_messages (day, at, direction, from_number, to_number, body, provider_id, "
    "node, action, reply, handled) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_REGISTRATION = (
    "INSERT INTO signup_ledger (option_id, entry, number, name, contact, party_size, channel, "
    "node, idempotency_key, status, created_at, updated_at, code) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_SEATS = (
    "INSERT INTO signup_ledger (option_id, event_id, ref_prefix, capacity, waitlist, is_open, "
    "taken, waiting, seq, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_EVENT = (
    "INSERT INTO events (event_id, title, description, icon_asset, background_asset, "
    "starts_at, ends_at, time_zone, location, short_code, is_open, created_at, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_OPTION = (
    "INSERT INTO event_options (event_id, option_id, label, position) VALUES (?, ?, ?, ?)"
)
TABLES = ("sms_messages", "signup_ledger", "events", "event_options")

# What the texts did, as often as in a busy week's log (storage.sms_messages.ACTIONS).
ACTIONS = {
    "signed_up": 30,
    "events": 12,
    "asked_option": 8,
    "asked_name": 6,
    "again": 6,
    "status": 6,
    "cancelled": 5,
    "waitlisted": 4,
    "refused": 3,
    "help": 3,
    "needs_person": 10,
    "unreadable": 2,
    "ignored": 2,
    "opted_out": 1,
    "opted_in": 1,
    "rate_limited": 1,
}
QUESTIONS = (
    "Hi, is there parking near the hall on Saturday? My mum uses a wheelchair.",
    "Can I bring my two kids to the morning session or is it adults only",
    "I signed up twice by mistake, can you take one off please? Thanks, Sam",
    "what time does it finish, I need to pick someone up at 4",
    "Is the food bank collection still on this week after the flooding?",
)
FIRST = ("Alex", "Sam", "Jo", "Priya", "Tom", "Maria", "Wei", "Fatima", "Owen", "Grace")
LAST = ("Smith", "Jones", "Patel", "Nguyen", "Brown", "Okafor", "Evans", "Garcia", "Khan", "Li")


class Scan(NamedTuple):
    """One streamed query: its CQL, values, operation class and page size."""

    cql: str
    params: tuple[Any, ...]
    op: OpClass
    page_size: int


def days_of(period: Period) -> list[date]:
    """The UTC days whose buckets ``SmsMessages.rows_since`` reads for ``period``."""
    day, last = period.start.astimezone(UTC).date(), period.end.astimezone(UTC).date()
    found = []
    while day <= last:
        found.append(day)
        day += timedelta(days=1)
    return found


def planned_scans(period: Period) -> list[Scan]:
    """What the raw side sends for ``period``: each day bucket's range scan at the ``read``
    class, then the whole ledger at the ``report`` class."""
    after = max_uuid_from_time(period.start.timestamp())
    through = max_uuid_from_time(period.end.timestamp())
    return [
        *(Scan(SCAN_DAY, (day, after, through), "read", DAY_PAGE) for day in days_of(period)),
        Scan(SCAN_LEDGER, (), "report", LEDGER_PAGE),
    ]


# -- the two sides ----------------------------------------------------------------------------


class RawScan:
    """The digest's scans on a bare driver session: prepared once, dict rows, the profiles of
    cluster.yaml's operation classes, every row consumed (counted) and nothing more."""

    def __init__(self, session: Session) -> None:
        self._session = session
        ops: tuple[OpClass, ...] = ("read", "report")
        self.profiles: dict[OpClass, ExecutionProfile] = {
            op: session.execution_profile_clone_update(op, row_factory=dict_factory) for op in ops
        }
        self._prepared = {cql: session.prepare(cql) for cql in (SCAN_DAY, SCAN_LEDGER)}

    def run(self, scans: Sequence[Scan]) -> int:
        """Send ``scans`` one after the other, page by page; the rows read."""
        rows = 0
        for scan in scans:
            statement = self._prepared[scan.cql].bind(scan.params)
            statement.fetch_size = scan.page_size
            for _ in self._session.execute(statement, execution_profile=self.profiles[scan.op]):
                rows += 1
        return rows


def build(store: Store, period: Period) -> Digest:
    """Our side: the digest of ``period``, as the mail role reads it."""
    return mail.digest.read(store, period, max_listed=MAX_LISTED)


def recorded_build(store: Store, period: Period) -> tuple[Digest, list[Scan], int]:
    """:func:`build`, recording what it streams (as :class:`Scan`) and how many single
    requests it sends besides (``Database.submit``: naming the events and options)."""
    signature = inspect.signature(Database.stream)
    db = store.db
    with (
        mock.patch.object(db, "stream", wraps=db.stream) as stream,
        mock.patch.object(db, "submit", wraps=db.submit) as submit,
    ):
        digest = build(store, period)
    scans = []
    for call in stream.call_args_list:
        bound = signature.bind(db, *call.args, **call.kwargs)
        bound.apply_defaults()
        args = bound.arguments
        scans.append(Scan(args["cql"], tuple(args["params"]), args["op"], args["page_size"]))
    return digest, scans, submit.call_count


def same_profiles(store: Store, raw: RawScan) -> bool:
    """Whether the raw side's profiles are storage's: levels, timeout, row factory, policy."""

    def shape(profile: ExecutionProfile) -> tuple[Any, ...]:
        policy = profile.load_balancing_policy
        return (
            profile.consistency_level,
            profile.serial_consistency_level,
            profile.request_timeout,
            profile.row_factory,
            type(policy),
            type(getattr(policy, "_child_policy", None)),
        )

    return all(shape(store.db.profile(op)) == shape(raw.profiles[op]) for op in raw.profiles)


# -- measuring --------------------------------------------------------------------------------


def timed(run: Callable[[], object], rows: int) -> Figures:
    """One build or scan of ``rows`` rows, timed: its rate, and its time as both percentiles."""
    began = time.perf_counter()
    run()
    took = time.perf_counter() - began
    return Figures(
        ops=rows, seconds=took, per_s=rows / took, p50_ms=took * 1000, p99_ms=took * 1000, errors=0
    )


def peak_mb(run: Callable[[], T]) -> tuple[float, T]:
    """``run()``'s peak of traced Python allocations (all threads, the driver's too), in MB
    (2**20 bytes), with what it returned (kept until the peak is read)."""
    gc.collect()
    tracemalloc.start()
    try:
        found = run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20, found


def profiled(run: Callable[[], object], lines: int = 25) -> str:
    """``run()`` under cProfile (this thread only): the top ``lines`` functions by own time."""
    profiler = cProfile.Profile()
    profiler.enable()
    run()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(lines)
    return out.getvalue()


# -- the data ---------------------------------------------------------------------------------


def expected_counts() -> dict[str, int]:
    """The rows the loaded keyspace holds, by what they are."""
    return {
        "sms_large": MESSAGES_LARGE,
        "sms_small": MESSAGES_SMALL,
        "ledger": REGISTRATIONS,
        "events": EVENTS,
        "options": OPTIONS,
    }


def marker_note() -> str:
    """The marker row's note: the layout and the counts loaded."""
    counts = ", ".join(f"{name} {count}" for name, count in expected_counts().items())
    return f"layout {LAYOUT}: {counts}, numbers {NUMBERS}"


def numbers() -> list[str]:
    """The senders' numbers, E.164 as storage keeps them."""
    return [f"+1202555{index:04d}" for index in range(NUMBERS)]


def sender_order(rng: random.Random, count: int) -> list[int]:
    """Which number sends each of ``count`` texts: every number at least once, the rest skewed
    (a few numbers text much more than most)."""
    weights = [1 / (rank + 20) for rank in range(NUMBERS)]
    order = list(range(NUMBERS)) + rng.choices(range(NUMBERS), weights, k=count - NUMBERS)
    rng.shuffle(order)
    return order


def name(rng: random.Random) -> str:
    """A member's name."""
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def body_and_reply(action: str, rng: random.Random) -> tuple[str, str | None]:
    """A text that does ``action`` and the reply Gather gave it."""
    code = f"BD{rng.randrange(EVENTS):02d}"
    ref = f"B{rng.randrange(OPTIONS):03d}-{rng.randrange(1, 100)}"
    party = rng.randint(1, 4)
    texts: dict[str, tuple[str, str | None]] = {
        "signed_up": (
            f"JOIN {code} {party} {name(rng)}",
            f"You're confirmed for Bench event {code} Sat 10 Oct 10:00. Code {ref}. "
            f"To cancel text CANCEL {ref}",
        ),
        "events": ("EVENTS", f"Upcoming: {code} Bench event, BD01 Bench event. Text JOIN CODE"),
        "asked_option": (f"JOIN {code}", "Which session? Reply 1 for 10:00, 2 for 14:00"),
        "asked_name": (str(party), "What name should we put it under?"),
        "again": ("AGAIN", f"You're already signed up for {code}: code {ref}"),
        "status": ("STATUS", f"You're confirmed for {code} (code {ref}) and waitlisted for BD02"),
        "cancelled": (f"CANCEL {ref}", f"Cancelled {ref}. Text JOIN {code} to sign up again"),
        "waitlisted": (f"JOIN {code} 2 {name(rng)}", f"{code} is full: you're on the waitlist"),
        "refused": (f"JOIN {code} 9 {name(rng)}", "Parties of at most 4, please"),
        "help": ("HELP", "Text EVENTS for what's on, JOIN CODE to sign up, STOP to stop"),
        "needs_person": (rng.choice(QUESTIONS), "Thanks, someone from the office will reply"),
        "unreadable": ("\u2753\u2753", "Sorry, we didn't understand that. Text HELP"),
        "ignored": ("JOIN", None),
        "opted_out": ("STOP", None),
        "opted_in": ("START", "You're subscribed again. Text HELP for help"),
        "rate_limited": ("EVENTS", None),
    }
    return texts[action]


def message_rows(store: Store, count: int, period: Period, seed: int) -> Iterator[tuple[Any, ...]]:
    """``count`` texts in, evenly spread over ``period`` (inside it), each built by
    ``SmsMessages.new`` (validated, stored form), as rows of :data:`INSERT_MESSAGE`; a third of
    those that need a person are marked handled."""
    rng = random.Random(seed)
    senders = numbers()
    order = sender_order(rng, count)
    span_ms = int((period.end - period.start).total_seconds() * 1000)
    kinds, weights = list(ACTIONS), list(ACTIONS.values())
    node_bits = rng.getrandbits(48)
    for index in range(count):
        at = period.start + timedelta(milliseconds=1 + (span_ms - 2) * index // count)
        action = rng.choices(kinds, weights)[0]
        body, reply = body_and_reply(action, rng)
        message = store.sms_messages.new(
            "in",
            senders[order[index]],
            SITE_NUMBER,
            body,
            provider_id=f"SM{rng.getrandbits(128):032x}",
            action=action,
            reply=reply,
            message_id=uuid_from_time(at, node=node_bits, clock_seq=index % 0x4000),
        )
        handled = True if action == "needs_person" and rng.random() < 1 / 3 else None
        yield (
            message.at.date(),
            message.message_id,
            message.direction,
            message.from_number,
            message.to_number,
            message.body,
            message.provider_id,
            message.node,
            message.action,
            message.reply,
            handled,
        )


class Catalog(NamedTuple):
    """The events and options the ledger's registrations are in."""

    events: list[tuple[Any, ...]]
    """Rows of :data:`INSERT_EVENT`."""
    options: list[tuple[Any, ...]]
    """Rows of :data:`INSERT_OPTION`."""


def catalog(rng: random.Random) -> Catalog:
    """:data:`EVENTS` past events (closed) on the large period's days, with
    :data:`OPTIONS_PER_EVENT` options each."""
    events, options = [], []
    created = LARGE.start - timedelta(days=30)
    for number in range(EVENTS):
        event_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        starts = LARGE.start + timedelta(hours=9 + number % 3 * 24 + number // 3 % 8)
        events.append(
            (
                event_id,
                f"Bench event {number:02d}",
                "Loaded by bench/digest.py.",
                None,
                None,
                starts,
                starts + timedelta(hours=2),
                "Europe/London",
                "The hall",
                f"BD{number:02d}",
                False,
                created,
                created,
            )
        )
        for position in range(OPTIONS_PER_EVENT):
            option_id = uuid.UUID(int=rng.getrandbits(128), version=4)
            options.append((event_id, option_id, f"Session {position + 1}", position))
    return Catalog(events, options)


def option_ledger(
    option: tuple[Any, ...], index: int, rng: random.Random
) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
    """One option's seat row (:data:`INSERT_SEATS`) and its registrations
    (:data:`INSERT_REGISTRATION`), made in the large period: mostly confirmed, some waitlisted,
    some cancelled or promoted later in it; every tenth option full."""
    event_id, option_id = option[0], option[1]
    span_ms = int((LARGE.end - LARGE.start).total_seconds() * 1000)
    senders = numbers()
    rows, taken, waiting = [], 0, 0
    for number in range(1, REGISTRATIONS_PER_OPTION + 1):
        draw = rng.random()
        status = "cancelled" if draw < 0.10 else "waitlisted" if draw < 0.16 else "confirmed"
        changed = status == "cancelled" or 0.16 <= draw < 0.18  # cancelled, or promoted
        party = rng.choice((1, 1, 1, 2, 2, 3, 4))
        created = LARGE.start + timedelta(milliseconds=rng.randrange(1, span_ms * 2 // 3))
        updated = created + timedelta(milliseconds=rng.randrange(1, span_ms // 3) if changed else 0)
        if status == "confirmed":
            taken += party
        elif status == "waitlisted":
            waiting += party
        rows.append(
            (
                option_id,
                f"r:{number:09d}",
                number,
                name(rng),
                rng.choice(senders),
                party,
                rng.choice(("kiosk", "web", "sms", "sms")),
                NODE,
                f"bench-{index}-{number}",
                status,
                created,
                updated,
                "".join(rng.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)),
            )
        )
    capacity = taken if index % 10 == 0 else taken + rng.randint(1, 40)
    seats = (
        option_id,
        event_id,
        f"B{index:03d}",
        capacity,
        True,
        False,
        taken,
        waiting,
        REGISTRATIONS_PER_OPTION,
        REGISTRATIONS_PER_OPTION,
    )
    return seats, rows


def write(
    session: Session, cql: str, rows: Iterable[tuple[Any, ...]], what: str, total: int
) -> None:
    """Write ``rows`` with plain concurrent inserts at the ``write`` class, printing progress."""
    statement = session.prepare(cql)
    done, began = 0, time.perf_counter()
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, CHUNK)):
        execute_concurrent_with_args(
            session, statement, chunk, concurrency=CONCURRENCY, execution_profile="write"
        )
        done += len(chunk)
        print(
            f"  {what}: {done:,}/{total:,} ({done / (time.perf_counter() - began):,.0f}/s)",
            flush=True,
        )


def load(store: Store, session: Session) -> None:
    """Empty the bench keyspace's tables the digest reads and load the bench's data."""
    session.execute("DELETE FROM job_watermarks WHERE job = %s", (MARKER,))
    for table in TABLES:
        session.execute(f"TRUNCATE {table}", timeout=120)
    rng = random.Random(20261005)
    listed = catalog(rng)
    write(session, INSERT_EVENT, listed.events, "events", EVENTS)
    write(session, INSERT_OPTION, listed.options, "event_options", OPTIONS)
    seats: list[tuple[Any, ...]] = []

    def registrations() -> Iterator[tuple[Any, ...]]:
        for index, option in enumerate(listed.options):
            seat_row, rows = option_ledger(option, index, rng)
            seats.append(seat_row)
            yield from rows

    write(session, INSERT_REGISTRATION, registrations(), "ledger registrations", REGISTRATIONS)
    write(session, INSERT_SEATS, seats, "ledger seats", OPTIONS)
    for count, period, seed, label in (
        (MESSAGES_LARGE, LARGE, 1, "texts (large period)"),
        (MESSAGES_SMALL, SMALL, 2, "texts (small period)"),
    ):
        write(session, INSERT_MESSAGE, message_rows(store, count, period, seed), label, count)


def counts(store: Store) -> dict[str, int]:
    """What the keyspace holds, by what it is (the SMS buckets of each period counted whole)."""

    def day_rows(period: Period) -> int:
        return sum(
            store.db.execute("SELECT COUNT(*) FROM sms_messages WHERE day = ?", (day,))[0]["count"]
            for day in days_of(period)
        )

    def rows(cql: str) -> int:
        return sum(1 for _ in store.db.stream(cql, op="report", page_size=5000))

    return {
        "sms_large": day_rows(LARGE),
        "sms_small": day_rows(SMALL),
        "ledger": rows("SELECT entry FROM signup_ledger"),
        "events": rows("SELECT event_id FROM events"),
        "options": rows("SELECT option_id FROM event_options"),
    }


def ensure_loaded(store: Store, session: Session, reload: bool) -> float | None:
    """Load the bench's data unless the marker says it is there and the counts agree; the
    seconds loading took, or None when the data was reused."""
    marked = store.db.execute("SELECT note FROM job_watermarks WHERE job = ?", (MARKER,))
    if not reload and marked and marked[0]["note"] == marker_note():
        found = counts(store)
        if found == expected_counts():
            print(f"reusing the loaded data ({marker_note()})", flush=True)
            return None
        print(f"the marker says loaded, but the keyspace holds {found}: loading again")
    print(f"loading: {marker_note()}", flush=True)
    began = time.perf_counter()
    load(store, session)
    found = counts(store)
    if found != expected_counts():
        raise RuntimeError(f"loaded {found}, not {expected_counts()}")
    store.watermarks.advance(MARKER, times.now(), marker_note())
    took = time.perf_counter() - began
    print(f"loaded in {took:.0f} s", flush=True)
    return took


# -- the run ----------------------------------------------------------------------------------


def check(digest: Digest, texts: int, options: int) -> None:
    """A digest that read the data as loaded: every text, every number, every option."""
    found = (digest.texts_in, digest.sender_count, len(digest.options))
    if found != (texts, NUMBERS, options):
        raise RuntimeError(
            f"the digest read {found} (texts, senders, options), not {(texts, NUMBERS, options)}:"
            " run with --reload"
        )


def is_loopback(point: str) -> bool:
    """Whether a contact point is this machine's loopback (an address, or ``localhost``)."""
    try:
        return ipaddress.ip_address(point).is_loopback
    except ValueError:
        return point == "localhost"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="of each side and period")
    parser.add_argument("--keyspace", default="gather_bench_digest")
    parser.add_argument("--reload", action="store_true", help="load the data even if loaded")
    parser.add_argument("--profile", action="store_true", help="cProfile one build and scan")
    args = parser.parse_args()
    config = cluster_config.load()
    remote = [point for point in config.cassandra.contact_points if not is_loopback(point)]
    if remote:
        parser.error(f"the bench runs on loopback only; cluster.yaml names {remote}")

    with store_and_raw_session(args.keyspace) as (store, session):
        load_s = ensure_loaded(store, session, args.reload)
        raw = RawScan(session)
        sizes = {"100k": (LARGE, MESSAGES_LARGE, OPTIONS), "10k": (SMALL, MESSAGES_SMALL, 0)}
        plans = {size: planned_scans(period) for size, (period, _, _) in sizes.items()}
        rows = {size: texts + REGISTRATIONS for size, (_, texts, _) in sizes.items()}
        same, other_requests, digests = True, {}, {}
        for size, (period, texts, options) in sizes.items():  # warm-up, and what ours sends
            digest, streamed, submitted = recorded_build(store, period)
            check(digest, texts, options)
            digests[size] = digest
            same = same and streamed[: len(plans[size])] == plans[size]
            other_requests[size] = {
                "streams": len(streamed) - len(plans[size]),
                "single": submitted,
            }
            if raw.run(plans[size]) != rows[size]:
                raise RuntimeError(f"the raw scan of the {size} period read other rows")
        profiles_same = same_profiles(store, raw)
        settle_interpreter()  # as a node does once started

        def side(size: str, ours: bool) -> Callable[[], Figures]:
            period, plan = sizes[size][0], plans[size]
            if ours:
                return lambda: timed(lambda: build(store, period), rows[size])
            return lambda: timed(lambda: raw.run(plan), rows[size])

        rounds = alternating_rounds(
            {
                f"{name} {size}": side(size, name == "ours")
                for size in sizes
                for name in ("raw", "ours")
            },
            args.rounds,
        )
        peaks: dict[str, float] = {}
        for size in sizes:
            peaks[f"ours {size}"], _ = peak_mb(functools.partial(build, store, sizes[size][0]))
            peaks[f"raw {size}"], _ = peak_mb(functools.partial(raw.run, plans[size]))
        profiles = (
            {
                "ours": profiled(lambda: build(store, LARGE)),
                "raw": profiled(lambda: raw.run(plans["100k"])),
            }
            if args.profile
            else {}
        )

    figures = summary(rounds, peaks, rows, same, load_s, args.rounds)
    report(args, figures, rounds, peaks, rows, digests, profiles_same, other_requests)
    for name, text in profiles.items():
        print(f"cProfile of one {name} run over the 100k period (main thread), by own time:")
        print(text)
    print_json("digest", **figures)
    return 0


def summary(
    rounds: dict[str, list[Figures]],
    peaks: dict[str, float],
    rows: dict[str, int],
    same: bool,
    load_s: float | None,
    count: int,
) -> dict[str, Any]:
    """The JSON line's figures."""
    median = {name: median_round(found) for name, found in rounds.items()}
    found: dict[str, Any] = {}
    for size, suffix in (("100k", ""), ("10k", "_10k")):
        ours, raw = rounds[f"ours {size}"], rounds[f"raw {size}"]
        found[f"ours_s{suffix}"] = round(median[f"ours {size}"].seconds, 3)
        found[f"raw_s{suffix}"] = round(median[f"raw {size}"].seconds, 3)
        found[f"ratio{suffix}"] = round(median_ratio(ours, raw), 3)
        found[f"ratio_of_medians{suffix}"] = round(
            median[f"raw {size}"].seconds / median[f"ours {size}"].seconds, 3
        )
        found[f"ours_rows_per_s{suffix}"] = round(median[f"ours {size}"].per_s)
        found[f"raw_rows_per_s{suffix}"] = round(median[f"raw {size}"].per_s)
        found[f"ours_rounds_s{suffix}"] = [round(f.seconds, 3) for f in ours]
        found[f"raw_rounds_s{suffix}"] = [round(f.seconds, 3) for f in raw]
    memory_limit = 2 * peaks["ours 10k"] + 20
    return {
        **found,
        "peak_mb_10k": round(peaks["ours 10k"], 2),
        "peak_mb_100k": round(peaks["ours 100k"], 2),
        "raw_peak_mb_10k": round(peaks["raw 10k"], 2),
        "raw_peak_mb_100k": round(peaks["raw 100k"], 2),
        "peak_limit_mb": round(memory_limit, 2),
        "rate_goal_met": found["ratio"] >= 0.8,
        "memory_goal_met": peaks["ours 100k"] <= memory_limit,
        "rows_sms_100k": MESSAGES_LARGE,
        "rows_sms_10k": MESSAGES_SMALL,
        "rows_ledger": REGISTRATIONS,
        "rows_100k": rows["100k"],
        "rows_10k": rows["10k"],
        "numbers": NUMBERS,
        "options": OPTIONS,
        "events": EVENTS,
        "same_statements": same,
        "load_s": None if load_s is None else round(load_s, 1),
        "rounds": count,
    }


def report(
    args: argparse.Namespace,
    figures: dict[str, Any],
    rounds: dict[str, list[Figures]],
    peaks: dict[str, float],
    rows: dict[str, int],
    digests: dict[str, Digest],
    profiles_same: bool,
    other_requests: dict[str, dict[str, int]],
) -> None:
    """Print the table, what ours sends besides the scans, and whether the goals hold."""
    same = figures["same_statements"]
    print(
        f"digest builds: one per side, period and round, median of {args.rounds} alternating "
        f"rounds; {NUMBERS:,} numbers, {REGISTRATIONS:,} registrations over {OPTIONS} options "
        f"of {EVENTS} events; peak memory in separate traced runs"
    )
    print(
        f"{'side':<28} {'period':>6} {'rows':>8} {'median s':>9} {'rows/s':>9} "
        f"{'peak MB':>8}  rounds s"
    )
    for size in ("100k", "10k"):
        for name, label in (("raw", "raw driver (dict rows)"), ("ours", "ours (mail.digest.read)")):
            found = rounds[f"{name} {size}"]
            median = median_round(found)
            each = ", ".join(f"{f.seconds:.3f}" for f in found)
            print(
                f"{label:<28} {size:>6} {rows[size]:>8} {median.seconds:>9.3f} "
                f"{median.per_s:>9.0f} {peaks[f'{name} {size}']:>8.2f}  {each}"
            )
    for size, digest in digests.items():
        extra = other_requests[size]
        print(
            f"the {size} digest: {digest.texts_in:,} texts in from {digest.sender_count:,} "
            f"numbers, {len(digest.needing_person)} needing a person listed and "
            f"{digest.more_needing_person:,} more, {len(digest.options)} options active; "
            f"besides the raw side's scans ours sent {extra['streams']} more stream (the "
            f"events) and {extra['single']} single reads (naming the events and options)"
        )
    print(
        f"the raw side sends {'the same' if same else 'OTHER'} scans (statements, values, "
        f"classes, page sizes) with {'the same' if profiles_same else 'OTHER'} profiles "
        "(levels, timeout, dict rows, policy)"
    )
    ratio, limit = figures["ratio"], figures["peak_limit_mb"]
    print(
        f"ours / raw driver rate at 100k: {ratio:.3f} (median of the rounds' ratios; goal >= 0.8: "
        f"{'met' if figures['rate_goal_met'] else 'NOT met'}); at 10k {figures['ratio_10k']:.3f}"
    )
    print(
        f"peak memory at 100k {peaks['ours 100k']:.2f} MB, at 10k {peaks['ours 10k']:.2f} MB "
        f"(goal <= 2 x 10k + 20 = {limit:.2f} MB: "
        f"{'met' if figures['memory_goal_met'] else 'NOT met'})"
    )


if __name__ == "__main__":
    sys.exit(main())
