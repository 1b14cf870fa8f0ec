"""Node link throughput: one-way tells and ask round trips between two processes on loopback.

A real node process (``run_node.py``, its diagnostics actor counting what it is told) and
this process, which joins the cluster as a second node with its own ``NodeLink``. Tells are
counted when the remote actor has handled them all; asks are full round trips to that actor.

    .venv/bin/python bench/link.py [--tells 200000] [--asks 5000] [--askers 4]
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import NoDelivery, figures, free_port, print_json, print_table
from config import cluster as cluster_config
from node.link import LinkSettings, NodeLink

REPO = Path(__file__).resolve().parent.parent
TARGET = "root/diagnostics"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tells", type=int, default=200_000)
    parser.add_argument("--asks", type=int, default=5_000)
    parser.add_argument("--askers", type=int, default=4, help="threads asking concurrently")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="gather-bench-link-"))
    document = yaml.safe_load(cluster_config.DEFAULT_PATH.read_text())
    document["cookie"] = {"env": "GATHER_BENCH_COOKIE"}
    document["nodes"] = {
        name: {"host": "127.0.0.1", "port": free_port(), "roles": []} for name in ("n1", "bench")
    }
    config_path = folder / "cluster.yaml"
    config_path.write_text(yaml.safe_dump(document))
    config = cluster_config.load(config_path)
    cookie = secrets.token_hex(16)
    env = {**os.environ, "GATHER_BENCH_COOKIE": cookie}
    with open(folder / "n1.log", "wb") as log:
        node = subprocess.Popen(
            [sys.executable, str(REPO / "run_node.py"), "n1", "--config", str(config_path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    me = config.nodes["bench"]
    link = NodeLink(
        "bench",
        me.host,
        me.port,
        {n.name: (n.host, n.port) for n in config.nodes.values()},
        cookie.encode(),
        NoDelivery(),
        LinkSettings(),
    )
    link.start()
    try:
        deadline = time.monotonic() + 60
        while not link.is_up("n1"):
            if time.monotonic() > deadline or node.poll() is not None:
                raise SystemExit(f"node n1 did not come up; see {folder / 'n1.log'}")
            time.sleep(0.05)
        received = lambda: link.ask("n1", TARGET, "counts", timeout=30)["received"]  # noqa: E731
        while True:  # the actor may be restarting while its supervisor starts
            try:
                received()
                break
            except Exception:
                time.sleep(0.1)

        for i in range(2000):  # warm-up
            link.ask("n1", TARGET, i)

        base = received()
        started = time.perf_counter()
        for i in range(args.tells):
            link.tell("n1", TARGET, i)
        while received() < base + args.tells:
            time.sleep(0.001)
        tell_seconds = time.perf_counter() - started

        latencies: list[float] = []
        began = time.perf_counter()
        for i in range(args.asks):
            sent = time.perf_counter()
            link.ask("n1", TARGET, i)
            latencies.append(time.perf_counter() - sent)
        sequential = figures(latencies, time.perf_counter() - began)

        concurrent_latencies: list[float] = []
        per_asker = args.asks // args.askers

        def asker() -> None:
            mine = []
            for i in range(per_asker):
                sent = time.perf_counter()
                link.ask("n1", TARGET, i)
                mine.append(time.perf_counter() - sent)
            concurrent_latencies.extend(mine)

        threads = [threading.Thread(target=asker) for _ in range(args.askers)]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        concurrent = figures(concurrent_latencies, time.perf_counter() - began)
    finally:
        link.stop()
        node.terminate()
        node.wait(20)

    tells = figures([tell_seconds / args.tells] * args.tells, tell_seconds)
    print_table(
        "node link between two processes on loopback",
        {
            "tell (one way, handled)": tells,
            "ask round trip, 1 caller": sequential,
            f"ask round trip, {args.askers} callers": concurrent,
        },
    )
    print_json(
        "link",
        tells_per_s=round(tells.per_s, 1),
        asks_per_s=round(concurrent.per_s, 1),
        sequential_asks_per_s=round(sequential.per_s, 1),
        concurrent_asks_per_s=round(concurrent.per_s, 1),
        ask_p50_ms=round(sequential.p50_ms, 3),
        ask_p99_ms=round(sequential.p99_ms, 3),
        concurrent_ask_p99_ms=round(concurrent.p99_ms, 3),
    )


if __name__ == "__main__":
    main()
