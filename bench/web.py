"""Sign-ups per second and latency through HTTP (the JSON API) against the raw driver.

The web side POSTs ``/api/v1/signups`` to a Gather web server (the same ``WebServer`` and
application a node runs, in a process of its own as on a node) over keep-alive connections
driven from one thread; the raw side is ``bench/signups.py``'s bare-driver conditional batch
from as many threads as the web side has connections. Both sides do one LWT per sign-up, each
connection or thread into its own option; rounds alternate and the ratio is the median of
the rounds' ratios. Then both sides run paced (open loop) at half the web's peak rate,
alternating, for the p99 latency goal; the p99 reported is the median of those rounds' p99s,
the raw side's beside it to show how much of the tail is Cassandra's (and the shared
machine's) own.

    .venv/bin/python bench/web.py [--signups 400] [--threads 16] [--rounds 9] [--paced-rounds 3]

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import functools
import json
import multiprocessing
import re
import selectors
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (
    Figures,
    alternating_rounds,
    figures,
    median_ratio,
    median_round,
    print_json,
    print_paced_rounds,
    print_table,
    run_threads,
    steal_pct,
    steal_pcts,
)
from bench.signups import RawSignups, Side, member_phone, store_and_raw_session
from config import cluster as cluster_config
from config.cluster import NodeConfig
from node.context import NodeContext
from node.logbuffer import LogBuffer
from node.process import settle_interpreter
from storage.store import Store
from web.app import make_app
from web.server import WebServer


class _Load(Side):
    """The web side's load generator: keep-alive connections driven from one thread.

    Each connection signs up into its own option, as each thread of the raw side does. One
    thread and a selector, rather than a thread per connection, because on this 2-core machine
    the load generator shares the CPU with the server and Cassandra (real members' browsers
    and kiosks run elsewhere): it costs the least CPU and wakes up the least.
    """

    def __init__(self, store: Store, port: int, connections: int) -> None:
        super().__init__(store, "WEB", connections)
        self._port = port

    def closed(self, count: int) -> Figures:
        """``count`` sign-ups, each connection sending its next one when its answer arrives;
        latency from sending."""
        return self._drive(count, rate=None)

    def paced(self, rate: float, count: int) -> Figures:
        """``count`` sign-ups started at ``rate`` per second (open loop) on the first idle
        connection; latency from when each was due, as :func:`paced` measures the raw side."""
        return self._drive(count, rate)

    def _drive(self, count: int, rate: float | None) -> Figures:
        latencies: list[float] = []
        errors = 0
        began: dict[_Connection, float] = {}
        option_of: dict[_Connection, uuid.UUID] = {}
        idle: list[_Connection] = []
        sent = 0
        with selectors.DefaultSelector() as selector:

            def connect(option_id: uuid.UUID) -> None:
                connection = _Connection("127.0.0.1", self._port)
                option_of[connection] = option_id
                selector.register(connection.socket, selectors.EVENT_READ, connection)
                idle.append(connection)

            try:
                for option_id in self.options:
                    connect(option_id)
                started = time.perf_counter()
                while len(latencies) + errors < count:
                    now = time.perf_counter()
                    while idle and sent < count and (rate is None or started + sent / rate <= now):
                        connection = idle.pop()
                        body = _signup_body(next(self.numbers), option_of[connection])
                        connection.post("/api/v1/signups", body)
                        began[connection] = now if rate is None else started + sent / rate
                        sent += 1
                    wait = None
                    if rate is not None and idle and sent < count:
                        wait = max(0.0, started + sent / rate - now)
                    for key, _ in selector.select(wait):
                        connection = key.data
                        try:
                            status = connection.receive()
                        except (OSError, RuntimeError):  # counted; a new connection goes on
                            errors += 1
                            selector.unregister(connection.socket)
                            connection.close()
                            connect(option_of.pop(connection))
                            continue
                        if status is None:
                            continue
                        if status == 201:
                            latencies.append(time.perf_counter() - began[connection])
                        else:
                            errors += 1
                        idle.append(connection)
            finally:
                for connection in option_of:
                    connection.close()
        return figures(latencies, time.perf_counter() - started, errors)


def _signup_body(n: int, option_id: uuid.UUID) -> bytes:
    return json.dumps(
        {
            "option_id": str(option_id),
            "name": f"Member {n}",
            "contact": member_phone(n),
            "idempotency_key": f"web-{n}",
        }
    ).encode()


class _Connection:
    """One HTTP/1.1 keep-alive connection: POST a JSON body, then read its answer as it comes."""

    def __init__(self, host: str, port: int) -> None:
        self.socket = socket.create_connection((host, port), timeout=30)
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._host = f"{host}:{port}"
        self._buffer = b""

    def post(self, path: str, body: bytes) -> None:
        """Send the request (small enough for the socket's buffer)."""
        self.socket.sendall(
            f"POST {path} HTTP/1.1\r\nHost: {self._host}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body
        )

    def receive(self) -> int | None:
        """Read what has arrived: the status code once the whole answer is in (its body is
        dropped), else None."""
        chunk = self.socket.recv(65536)
        if not chunk:
            raise ConnectionError("the server closed the connection")
        self._buffer += chunk
        if b"\r\n\r\n" not in self._buffer:
            return None
        head, body = self._buffer.split(b"\r\n\r\n", 1)
        length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
        if length is None:
            raise RuntimeError(f"a response without Content-Length: {head!r}")
        if len(body) < int(length[1]):
            return None
        self._buffer = body[int(length[1]) :]
        return int(head[9:12])

    def close(self) -> None:
        """Close the connection."""
        self.socket.close()


def serve(keyspace: str, pipe: Connection) -> None:
    """Run a web server on the bench keyspace until ``pipe`` says stop; send its port first."""
    config = cluster_config.load()
    with Store(config, node="bench-web", keyspace=keyspace) as store:
        node = NodeConfig(name="bench-web", host="127.0.0.1", port=0, roles=("web",), http_port=0)
        context = NodeContext(
            config=config, node=node, cookie=b"bench", logs=LogBuffer(), store=store
        )
        server = WebServer(make_app(context), "127.0.0.1", 0)
        server.start()
        settle_interpreter()  # as a node does once started
        pipe.send(server.port)
        pipe.recv()
        server.stop()


def paced(sign_up: Callable[[int], None], rate: float, count: int, threads: int) -> Figures:
    """``count`` sign-ups started at ``rate`` per second (open loop), latency from each start."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    next_index = 0
    started = time.perf_counter()

    def worker() -> None:
        nonlocal next_index, errors
        while True:
            with lock:
                index, next_index = next_index, next_index + 1
            if index >= count:
                return
            due = started + index / rate
            time.sleep(max(0.0, due - time.perf_counter()))
            try:
                sign_up(index)
            except Exception:
                with lock:
                    errors += 1
                continue
            with lock:
                latencies.append(time.perf_counter() - max(due, started))

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return figures(latencies, time.perf_counter() - started, errors)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signups", type=int, default=400, help="per side and round")
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--paced-rounds", type=int, default=3)
    parser.add_argument("--keyspace", default="gather_bench")
    args = parser.parse_args()
    if args.paced_rounds < 1:
        parser.error("--paced-rounds must be at least 1")
    with store_and_raw_session(args.keyspace) as (store, session):
        ours_end, server_end = multiprocessing.get_context("spawn").Pipe()
        server = multiprocessing.get_context("spawn").Process(
            target=serve, args=(args.keyspace, server_end), daemon=True
        )
        server.start()
        port = ours_end.recv()
        sides: list[Side] = []  # closed at the end: no longer upcoming for later runs
        try:
            driver = RawSignups(store, session, args.threads)
            sides.append(driver)
            load = _Load(store, port, args.threads)
            sides.append(load)
            run_threads(driver.sign_up, args.threads * 4, args.threads)  # warm-up: connections,
            load.closed(args.threads * 4)  # prepared statements, seat caches
            rounds = alternating_rounds(
                {
                    "raw driver": functools.partial(
                        run_threads, driver.sign_up, args.signups, args.threads
                    ),
                    "web (HTTP JSON API)": functools.partial(load.closed, args.signups),
                },
                args.rounds,
                collector_off=True,
            )
            median = {name: median_round(found) for name, found in rounds.items()}
            ours, raw = median["web (HTTP JSON API)"], median["raw driver"]
            half_rate = ours.per_s / 2
            paced_count = max(args.signups, int(half_rate * 5))
            at_half = alternating_rounds(
                {
                    "raw driver": functools.partial(
                        paced, driver.sign_up, half_rate, paced_count, args.threads
                    ),
                    "web (HTTP JSON API)": functools.partial(load.paced, half_rate, paced_count),
                },
                args.paced_rounds,
                collector_off=True,
            )
        finally:
            ours_end.send("stop")
            server.join(15)
            for side in sides:  # bench/sms.py's webhook reads every upcoming event
                side.close()

    half, raw_half = (
        median_round(at_half[name], by=lambda f: f.p99_ms)
        for name in ("web (HTTP JSON API)", "raw driver")
    )
    ratio = median_ratio(rounds["web (HTTP JSON API)"], rounds["raw driver"])
    print_table(
        f"sign-ups: {args.signups} per side and round, {args.threads} threads, median of "
        f"{args.rounds} alternating rounds; then both sides paced at half the web's peak rate "
        f"(the round with the median p99 of {args.paced_rounds})",
        {
            **median,
            f"web at {half_rate:.0f}/s (half)": half,
            f"raw driver at {half_rate:.0f}/s": raw_half,
        },
    )
    print_paced_rounds(at_half)
    print(
        f"web / raw driver: {ratio:.3f} (median of the rounds' ratios; goal >= 0.7); "
        f"p99 at half the peak rate {half.p99_ms:.1f} ms (goal <= 100)"
    )
    print_json(
        "web",
        ours_per_s=round(ours.per_s, 1),
        raw_per_s=round(raw.per_s, 1),
        ratio=round(ratio, 3),
        p50_ms=round(ours.p50_ms, 2),
        p99_ms=round(half.p99_ms, 2),
        peak_p99_ms=round(ours.p99_ms, 2),
        half_rate_per_s=round(half_rate, 1),
        half_p50_ms=round(half.p50_ms, 2),
        raw_p50_ms=round(raw.p50_ms, 2),
        raw_p99_ms=round(raw.p99_ms, 2),
        raw_half_rate_p99_ms=round(raw_half.p99_ms, 2),
        web_half_p99s_ms=[round(f.p99_ms, 2) for f in at_half["web (HTTP JSON API)"]],
        raw_half_p99s_ms=[round(f.p99_ms, 2) for f in at_half["raw driver"]],
        web_half_steal_pcts=steal_pcts(at_half["web (HTTP JSON API)"]),
        raw_half_steal_pcts=steal_pcts(at_half["raw driver"]),
        peak_steal_pct=steal_pct(ours),
        errors=sum(f.errors for found in (*rounds.values(), *at_half.values()) for f in found),
        signups=args.signups,
        threads=args.threads,
        rounds=args.rounds,
        paced_rounds=args.paced_rounds,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
