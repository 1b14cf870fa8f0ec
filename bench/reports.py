"""The ``events`` report over 1,000,000 registrations by the workers of two node processes,
against one bare driver stream and against two bare processes each scanning half the ring.

Our side starts two real node processes (``run_node.py``, role ``worker``, 2 report workers
each) on the bench's keyspace and runs the ``events`` report through the operator shell
(``report events WORKERS``, then ``report_status`` until it has ended), with all 4 workers and
then with 1, 2 and 4. The bare sides run in processes of their own (nothing else in them):
one cassandra-driver session at the ``report`` class (consistency ONE, rows as tuples) sends
the report's statement without a token restriction, with the nodes' page size and the
driver's own paging (the next page asked for once this one is folded: faster here than asking
for it first, as ``Database.scan_pages`` does, which is measured too), and folds each page
with the report's own map function (``reports.builtin.signups.count_signups``); the pair does
the same over the two halves of the token ring at once and merges the two partials. Every
side's per-option counts are checked equal. The data (2,000 options of 20 events, 500
registrations each, written with plain concurrent batches by ``reports.sample``) is loaded
once into a keyspace of the bench's own and reused. Rounds alternate the sides; each figure
is the median round. Run on the local 3-node cluster:

    .venv/bin/python bench/reports.py [--rounds 3] [--keyspace gather_bench_reports] [--reload]

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import multiprocessing
import multiprocessing.connection
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.digest import INSERT_EVENT, INSERT_OPTION, is_loopback, write
from bench.harness import free_port, print_json
from bench.signups import raw_session, store_and_raw_session
from config import cluster as cluster_config
from config.cluster import ClusterConfig
from node.shell import ShellConnection, ShellError
from reports import catalog
from reports.builtin.signups import count_signups
from reports.definition import MapContext, Partial, add
from reports.pieces import contact_hasher
from reports.ranges import MAX_TOKEN, MIN_TOKEN
from reports.sample import generate
from storage import times
from storage.store import Store

REPO = Path(__file__).resolve().parent.parent
EVENTS = 20
OPTIONS_PER_EVENT = 100
OPTIONS = EVENTS * OPTIONS_PER_EVENT
PER_OPTION = 500
REGISTRATIONS = OPTIONS * PER_OPTION
SEED = 20261203
LAYOUT = 1
MARKER = "bench-reports-loaded"
"""The ``job_watermarks`` row that says the keyspace holds the bench's data."""
LOAD_OPTIONS = 100
"""Options generated and written at a time while loading (progress after each)."""
LOAD_THREADS = 32
NODES = ("n1", "n2")
WORKERS_PER_NODE = 2
NODES_WORKERS = len(NODES) * WORKERS_PER_NODE
WORKER_COUNTS = (1, 2, 4)
POLL_S = 0.05
ATTEMPTS = 3
"""Tries of a measurement: one that fails (a node restarting) is thrown away and run again."""
COOKIE_ENV = "GATHER_BENCH_COOKIE"
TABLES = ("signup_ledger", "events", "event_options", "report_runs")

REPORT = catalog.get("events")
SCAN = REPORT.scans[0]
WHOLE_CQL = f"SELECT {', '.join(SCAN.columns)} FROM {SCAN.table} WHERE {SCAN.where} ALLOW FILTERING"
"""The report's statement without its token restriction: what one bare stream sends."""
RANGE_CQL = SCAN.cql()
"""The report's own statement of one token range ``(start, end]``."""
HALVES = ((MIN_TOKEN, 0), (0, MAX_TOKEN))


# -- the data ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Catalog:
    """The events and options loaded: rows for :data:`INSERT_EVENT` and :data:`INSERT_OPTION`,
    and the (event id, option id) pairs."""

    events: list[tuple[Any, ...]]
    options: list[tuple[Any, ...]]

    @property
    def pairs(self) -> list[tuple[uuid.UUID, uuid.UUID]]:
        return [(row[0], row[1]) for row in self.options]

    def label_ids(self) -> dict[tuple[str, str], str]:
        """(event title, option label) -> option id, as the report's tables name them."""
        titles = {row[0]: row[1] for row in self.events}
        return {(titles[row[0]], row[2]): str(row[1]) for row in self.options}


def make_catalog() -> Catalog:
    """:data:`EVENTS` events of :data:`OPTIONS_PER_EVENT` options, the same every time."""
    rng = random.Random(SEED)
    created = datetime(2026, 10, 1, tzinfo=UTC)
    events, options = [], []
    for number in range(EVENTS):
        event_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        starts = datetime(2026, 11, 12, 10, tzinfo=UTC) + timedelta(days=number)
        events.append(
            (
                event_id,
                f"Reports bench event {number:02d}",
                "Loaded by bench/reports.py.",
                None,
                None,
                starts,
                starts + timedelta(hours=2),
                "Europe/London",
                "The hall",
                f"BR{number:02d}",
                False,
                created,
                created,
            )
        )
        for position in range(OPTIONS_PER_EVENT):
            option_id = uuid.UUID(int=rng.getrandbits(128), version=4)
            options.append((event_id, option_id, f"Option {number:02d}-{position:03d}", position))
    return Catalog(events, options)


def marker_note() -> str:
    return (
        f"layout {LAYOUT}: {EVENTS} events, {OPTIONS} options, {PER_OPTION} registrations "
        f"each ({REGISTRATIONS}), seed {SEED}, no claim rows"
    )


def registrations_of(store: Store, option_id: uuid.UUID) -> int:
    rows = store.db.execute(
        "SELECT COUNT(*) FROM signup_ledger WHERE option_id = ? AND entry > 'r:' AND entry < 'r;'",
        (option_id,),
    )
    return int(rows[0]["count"])


def truncate(session: Any, table: str, tries: int = 5) -> None:
    """``TRUNCATE table``, again after a failure (it needs every replica: a node restarting
    on the shared cluster fails it)."""
    for attempt in range(tries):
        try:
            session.execute(f"TRUNCATE {table}", timeout=120)
            return
        except Exception as exc:
            if attempt == tries - 1:
                raise
            print(f"  TRUNCATE {table} failed ({type(exc).__name__}); again in 10 s", flush=True)
            time.sleep(10)


def ensure_loaded(store: Store, session: Any, listed: Catalog, reload: bool) -> float | None:
    """Load the data unless the marker says it is there and the first and last options hold
    their registrations; the seconds loading took, or None when reused. (Every scan's row
    count is checked too.)"""
    marked = store.db.execute("SELECT note FROM job_watermarks WHERE job = ?", (MARKER,))
    if not reload and marked and marked[0]["note"] == marker_note():
        ends = [registrations_of(store, listed.pairs[i][1]) for i in (0, -1)]
        if ends == [PER_OPTION, PER_OPTION]:
            print(f"reusing the loaded data ({marker_note()})", flush=True)
            return None
        print(f"the marker says loaded, but the first and last options hold {ends}: loading")
    print(f"loading: {marker_note()}", flush=True)
    began = time.perf_counter()
    session.execute("DELETE FROM job_watermarks WHERE job = %s", (MARKER,))
    for table in TABLES:
        truncate(session, table)
    write(session, INSERT_EVENT, listed.events, "events", EVENTS)
    write(session, INSERT_OPTION, listed.options, "event_options", OPTIONS)
    pairs = listed.pairs
    for first in range(0, OPTIONS, LOAD_OPTIONS):
        chunk = pairs[first : first + LOAD_OPTIONS]
        generate(chunk, per_option=PER_OPTION, seed=SEED + first).write(
            store.db, claims=False, threads=LOAD_THREADS
        )
        done = (first + len(chunk)) * PER_OPTION
        rate = done / (time.perf_counter() - began)
        print(f"  registrations: {done:,}/{REGISTRATIONS:,} ({rate:,.0f}/s)", flush=True)
    store.watermarks.advance(MARKER, times.now(), marker_note())
    took = time.perf_counter() - began
    print(f"loaded in {took:.0f} s", flush=True)
    return took


# -- the bare sides: processes of their own ---------------------------------------------------


def option_totals(partial: Partial) -> dict[str, list[int]]:
    """The six counters of every option (``("option", event, option)`` keys), by option id."""
    return {str(key[2]): list(counts) for key, counts in partial.items() if key[0] == "option"}


def scanner(conn: multiprocessing.connection.Connection, keyspace: str, page_rows: int) -> None:
    """A bare scanning process: one driver session (the ``report`` class's profile, tuple rows);
    for each order ``(start, end, prefetch)`` (None bounds: the whole table without a token
    restriction) it scans, folds every page with ``count_signups`` and sends back
    ``(rows, partial, seconds, cpu seconds)``; ``None`` ends it."""
    config = cluster_config.load()
    context = MapContext(contact_hash=contact_hasher(b"bench", "bench"))
    with raw_session(config, keyspace) as session:
        whole = session.prepare(WHOLE_CQL)
        ranged = session.prepare(RANGE_CQL)
        conn.send("ready")
        while (order := conn.recv()) is not None:
            start, end, prefetch = order
            statement = whole.bind(()) if start is None else ranged.bind((start, end))
            statement.fetch_size = page_rows
            began, cpu = time.perf_counter(), time.process_time()
            acc: Partial = {}
            rows = 0
            try:
                future = session.execute_async(statement, execution_profile="report")
                while True:
                    page = future.result().current_rows
                    more = future.has_more_pages
                    if more and prefetch:  # as Database.scan_pages: Cassandra reads the next
                        future.start_fetching_next_page()  # page while this one is folded
                    count_signups(acc, page, context)
                    rows += len(page)
                    if not more:
                        break
                    if not prefetch:  # as the driver's own paging: the next page when needed
                        future.start_fetching_next_page()
            except Exception as exc:  # a Cassandra node restarting on the shared cluster
                conn.send(("error", f"{type(exc).__name__}: {exc}"))
                continue
            conn.send((rows, acc, time.perf_counter() - began, time.process_time() - cpu))


class Failed(RuntimeError):
    """A measurement that failed (on the shared cluster: a Cassandra node restarting)."""


class Scanners:
    """Bare scanning processes (spawned: a fresh interpreter, no driver inherited)."""

    def __init__(self, count: int, keyspace: str, page_rows: int) -> None:
        spawn = multiprocessing.get_context("spawn")
        self.conns: list[multiprocessing.connection.Connection] = []
        self.processes = []
        for _ in range(count):
            mine, theirs = spawn.Pipe()
            process = spawn.Process(target=scanner, args=(theirs, keyspace, page_rows))
            process.start()
            self.conns.append(mine)
            self.processes.append(process)
        for conn in self.conns:
            if conn.recv() != "ready":
                raise RuntimeError("a scanner did not start")

    def run(
        self, orders: list[tuple[int | None, int | None, bool]]
    ) -> tuple[float, int, Partial, float]:
        """Each scanner's order at once; the wall time until every partial has come back and
        been merged, the rows, the merged partial and the scanners' CPU seconds."""
        began = time.perf_counter()
        for conn, order in zip(self.conns, orders, strict=True):
            conn.send(order)
        answers = [conn.recv() for conn in self.conns[: len(orders)]]
        failed = [answer[1] for answer in answers if answer[0] == "error"]
        if failed:
            raise Failed(f"a bare scan failed: {failed[0]}")
        total: Partial = {}
        rows, cpu = 0, 0.0
        for found, partial, _, used in answers:
            rows += found
            cpu += used
            add(total, partial)
        return time.perf_counter() - began, rows, total, cpu

    def close(self) -> None:
        for conn in self.conns:
            conn.send(None)
        for process in self.processes:
            process.join(30)


# -- our side: two node processes -------------------------------------------------------------


class Nodes:
    """Two worker node processes on the bench keyspace, and a shell attached to the first."""

    def __init__(self, folder: Path, keyspace: str) -> None:
        document = yaml.safe_load(cluster_config.DEFAULT_PATH.read_text())
        document["cookie"] = {"env": COOKIE_ENV}
        document["cassandra"]["keyspace"]["name"] = keyspace
        document["reports"] = {"nightly": False, "workers_per_node": WORKERS_PER_NODE}
        document["nodes"] = {
            name: {"host": "127.0.0.1", "port": free_port(), "roles": ["worker"]} for name in NODES
        }
        self.folder = folder
        self.config_path = folder / "cluster.yaml"
        self.config_path.write_text(yaml.safe_dump(document))
        self.config: ClusterConfig = cluster_config.load(self.config_path)
        self.cookie = secrets.token_hex(16)
        env = {**os.environ, COOKIE_ENV: self.cookie}
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        for name in NODES:
            with open(folder / f"{name}.log", "wb") as log:
                self.processes[name] = subprocess.Popen(
                    [
                        sys.executable,
                        str(REPO / "run_node.py"),
                        name,
                        "--config",
                        str(self.config_path),
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=env,
                    cwd=REPO,
                )
        self.shell = self._attach(NODES[0])

    def _attach(self, name: str) -> ShellConnection:
        node = self.config.nodes[name]
        deadline = time.monotonic() + 90
        while True:
            if self.processes[name].poll() is not None:
                raise RuntimeError(f"node {name} exited; see {self.folder / (name + '.log')}")
            try:
                shell = ShellConnection(node.host, node.port, self.cookie.encode())
                peers = {row["name"]: row["state"] for row in shell.call("nodes")}
                if all(peers.get(other) == "up" for other in NODES if other != name):
                    return shell
                shell.close()
            except Exception:
                if time.monotonic() > deadline:
                    raise
            if time.monotonic() > deadline:
                raise RuntimeError(f"node {name} does not see the others up")
            time.sleep(0.2)

    def run(self, workers: int) -> dict[str, Any]:
        """Run the report with ``workers`` workers (0: all); its status once it has ended, with
        ``client_s``: from asking for it until the shell saw it ended (polled every
        :data:`POLL_S`)."""
        began = time.perf_counter()
        run = self.shell.call("report", REPORT.name, workers)
        while run["state"] == "running":
            time.sleep(POLL_S)
            run = self.shell.call("report_status", REPORT.name, run["run_id"], run["node"])
        run["client_s"] = time.perf_counter() - began
        if run["state"] != "done":
            raise Failed(f"the report run ended {run['state']}: {run.get('error')}")
        return run

    def stop(self) -> None:
        try:
            self.shell.close()
        finally:
            for process in self.processes.values():
                if process.poll() is None:
                    process.terminate()
            for process in self.processes.values():
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()


@dataclass(frozen=True)
class Measured:
    """One run of one side."""

    seconds: float
    rows: int
    totals: dict[str, list[int]]
    client_s: float | None = None
    workers: int | None = None
    ranges: int | None = None
    cpu_s: float | None = None


def ours(nodes: Nodes, store: Store, listed: Catalog, workers: int) -> Measured:
    """One run of the report; its time is the stored run's ``finished_at - started_at``."""
    run = nodes.run(workers)
    stored = store.report_runs.get(REPORT.name, uuid.UUID(run["run_id"]))
    if stored is None or stored.result is None or stored.finished_at is None:
        raise RuntimeError(f"run {run['run_id']} is not stored with its result")
    ids = listed.label_ids()
    table = next(t for t in stored.result["tables"] if t["title"] == "By event and option")
    totals = {ids[(row[0], row[1])]: list(row[2:]) for row in table["rows"]}
    return Measured(
        seconds=(stored.finished_at - stored.started_at).total_seconds(),
        rows=stored.rows,
        totals=totals,
        client_s=run["client_s"],
        workers=stored.workers,
        ranges=stored.ranges_total,
    )


def bare(scanners: Scanners, orders: list[tuple[int | None, int | None, bool]]) -> Measured:
    seconds, rows, partial, cpu = scanners.run(orders)
    return Measured(seconds=seconds, rows=rows, totals=option_totals(partial), cpu_s=cpu)


# -- the run ----------------------------------------------------------------------------------


def check(name: str, found: Measured, expected: dict[str, list[int]]) -> None:
    """A side that read every row and counted every option as the single stream did (and,
    ours, with as many workers as asked)."""
    wanted = NODES_WORKERS if name == "ours, all workers" else None
    for count in WORKER_COUNTS:
        if name.startswith(f"ours, {count} worker"):
            wanted = count
    if wanted is not None and found.workers != wanted:
        raise RuntimeError(f"{name} ran with {found.workers} workers, not {wanted}")
    if found.rows != REGISTRATIONS:
        raise RuntimeError(f"{name} read {found.rows:,} rows, not {REGISTRATIONS:,}: --reload?")
    if found.totals != expected:
        differ = sum(
            1
            for key in expected.keys() | found.totals.keys()
            if expected.get(key) != found.totals.get(key)
        )
        raise RuntimeError(f"{name} counted {differ} options differently from the single stream")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="of every side")
    parser.add_argument("--keyspace", default="gather_bench_reports")
    parser.add_argument("--reload", action="store_true", help="load the data even if loaded")
    args = parser.parse_args()
    config = cluster_config.load()
    remote = [point for point in config.cassandra.contact_points if not is_loopback(point)]
    if remote:
        parser.error(f"the bench runs on loopback only; cluster.yaml names {remote}")

    listed = make_catalog()
    with store_and_raw_session(args.keyspace) as (store, session):
        load_s = ensure_loaded(store, session, listed, args.reload)
        folder = Path(tempfile.mkdtemp(prefix="gather-bench-reports-"))
        nodes = Nodes(folder, args.keyspace)
        page_rows = nodes.config.reports.page_rows
        single = Scanners(1, args.keyspace, page_rows)
        pair = Scanners(2, args.keyspace, page_rows)
        try:
            sides: dict[str, Callable[[], Measured]] = {
                "single stream": lambda: bare(single, [(None, None, False)]),
                "single stream, prefetching": lambda: bare(single, [(None, None, True)]),
                "two bare processes": lambda: bare(
                    pair, [(*HALVES[0], False), (*HALVES[1], False)]
                ),
                "ours, all workers": lambda: ours(nodes, store, listed, 0),
                **{
                    f"ours, {count} worker{'s' if count > 1 else ''}": (
                        lambda count=count: ours(nodes, store, listed, count)  # type: ignore[misc]
                    )
                    for count in WORKER_COUNTS
                },
            }
            discarded: list[str] = []

            def measure(name: str) -> Measured:
                for attempt in range(1, ATTEMPTS + 1):
                    try:
                        return sides[name]()
                    except (Failed, ShellError) as exc:
                        discarded.append(f"{name}: {exc}")
                        print(f"  {name} failed, attempt {attempt}: {exc}", flush=True)
                        if attempt == ATTEMPTS:
                            raise
                        time.sleep(5)
                raise AssertionError("unreachable")

            print("warming up: every side once", flush=True)
            expected = measure("single stream").totals
            for name in sides:
                found = measure(name)
                check(name, found, expected)
                print(f"  {name}: {found.seconds:.2f} s", flush=True)
            rounds: dict[str, list[Measured]] = {name: [] for name in sides}
            for number in range(args.rounds):
                order = list(sides) if number % 2 == 0 else list(reversed(sides))
                for name in order:
                    found = measure(name)
                    check(name, found, expected)
                    rounds[name].append(found)
                print(
                    f"round {number + 1}: "
                    + ", ".join(f"{name} {rounds[name][-1].seconds:.2f} s" for name in sides),
                    flush=True,
                )
        finally:
            single.close()
            pair.close()
            nodes.stop()

    figures = summary(rounds, load_s, args.rounds, page_rows)
    figures["discarded"] = discarded
    report(rounds, figures, folder)
    print_json("reports", **figures)
    return 0


def median_s(found: list[Measured]) -> float:
    return statistics.median(m.seconds for m in found)


def summary(
    rounds: dict[str, list[Measured]], load_s: float | None, count: int, page_rows: int
) -> dict[str, Any]:
    ours_s = median_s(rounds["ours, all workers"])
    single_s = median_s(rounds["single stream"])
    two_s = median_s(rounds["two bare processes"])
    speedup, ceiling = single_s / ours_s, two_s / ours_s
    per_round = [
        (s.seconds / o.seconds, t.seconds / o.seconds)
        for s, t, o in zip(
            rounds["single stream"],
            rounds["two bare processes"],
            rounds["ours, all workers"],
            strict=True,
        )
    ]
    workers = {
        str(n): round(median_s(rounds[f"ours, {n} worker{'s' if n > 1 else ''}"]), 3)
        for n in WORKER_COUNTS
    }
    return {
        "ours_s": round(ours_s, 3),
        "single_stream_s": round(single_s, 3),
        "two_bare_s": round(two_s, 3),
        "speedup": round(speedup, 3),
        "ceiling_ratio": round(ceiling, 3),
        "two_bare_over_single": round(single_s / two_s, 3),
        "speedup_rounds": [round(s, 3) for s, _ in per_round],
        "ceiling_ratio_rounds": [round(c, 3) for _, c in per_round],
        "speedup_goal_met": speedup >= 1.3,
        "ceiling_goal_met": ceiling >= 0.85,
        "rows": REGISTRATIONS,
        "options": OPTIONS,
        "events": EVENTS,
        "workers": workers,
        "ours_client_s": round(
            statistics.median(m.client_s or 0 for m in rounds["ours, all workers"]), 3
        ),
        "single_stream_prefetch_s": round(median_s(rounds["single stream, prefetching"]), 3),
        "rounds_s": {name: [round(m.seconds, 3) for m in found] for name, found in rounds.items()},
        "ranges": rounds["ours, all workers"][0].ranges,
        "bare_cpu_s": {
            name: round(statistics.median(m.cpu_s or 0 for m in found), 3)
            for name, found in rounds.items()
            if found[0].cpu_s is not None
        },
        "page_rows": page_rows,
        "same_counts": True,
        "load_s": None if load_s is None else round(load_s, 1),
        "rounds": count,
    }


def report(rounds: dict[str, list[Measured]], figures: dict[str, Any], folder: Path) -> None:
    print(
        f"the events report over {REGISTRATIONS:,} registrations ({OPTIONS:,} options of "
        f"{EVENTS} events), {figures['rounds']} alternating rounds, median round; every side "
        f"counted the same rows and the same per-option totals; page {figures['page_rows']} rows"
    )
    print(f"{'side':<30} {'median s':>9} {'rows/s':>9} {'workers':>7} {'ranges':>6}  rounds s")
    for name, found in rounds.items():
        median = median_s(found)
        each = ", ".join(f"{m.seconds:.2f}" for m in found)
        workers = "" if found[0].workers is None else str(found[0].workers)
        ranges = "" if found[0].ranges is None else str(found[0].ranges)
        print(
            f"{name:<30} {median:>9.2f} {REGISTRATIONS / median:>9,.0f} {workers:>7} {ranges:>6}"
            f"  {each}"
        )
    print(
        f"ours (all workers) as the shell saw it (asked until ended, polled every "
        f"{POLL_S * 1000:.0f} ms): {figures['ours_client_s']:.2f} s; the stored run: "
        f"{figures['ours_s']:.2f} s"
    )
    print(
        f"speedup over the single stream {figures['speedup']:.3f} (goal >= 1.3: "
        f"{'met' if figures['speedup_goal_met'] else 'NOT met'}); of the two bare processes "
        f"{figures['ceiling_ratio']:.3f} (goal >= 0.85: "
        f"{'met' if figures['ceiling_goal_met'] else 'NOT met'}); two bare processes over the "
        f"single stream {figures['two_bare_over_single']:.3f}; node logs in {folder}"
    )


if __name__ == "__main__":
    sys.exit(main())
