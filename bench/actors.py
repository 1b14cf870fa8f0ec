"""A supervised Gather actor against a bare Pykka actor, and restart latency, in one run.

- tell throughput: tells into one actor, then one ask to wait until all were handled;
- ask round-trips per second: one ask at a time, from one caller;
- restart latency: from sending the message that crashes the actor to the answer of its
  replacement (crash logged with its traceback, supervisor restarts it, new instance starts).

Bare and Gather rounds alternate and each figure is the median of its rounds, so both sides
see the same machine. The supervised actor is sent to through its ``NamedRef`` (the name
resolved once, as a caller keeps it); "by path" looks the name up for every message.

    .venv/bin/python bench/actors.py [--tells N] [--asks N] [--restarts N] [--rounds N]
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pykka

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from actors import GatherActor
from bench.harness import figures, print_json
from supervision import ChildSpec, Supervisor, Tree

CRASH = "crash"


class BareEcho(pykka.ThreadingActor):
    """Pykka as it comes."""

    def on_receive(self, message: Any) -> Any:
        return message


class Echo(GatherActor):
    """The same actor, supervised."""

    def on_receive(self, message: Any) -> Any:
        if message == CRASH:
            raise RuntimeError("crash on purpose")
        return message


def tells_per_s(tell: Callable[[Any], None], ask: Callable[[Any], Any], count: int) -> float:
    began = time.perf_counter()
    for i in range(count):
        tell(i)
    ask("done")
    return count / (time.perf_counter() - began)


def asks_per_s(ask: Callable[[Any], Any], count: int) -> float:
    began = time.perf_counter()
    for i in range(count):
        ask(i)
    return count / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tells", type=int, default=200_000, help="tells per round")
    parser.add_argument("--asks", type=int, default=20_000, help="asks per round")
    parser.add_argument("--restarts", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    # Crashes are logged as in a node (formatted, with the traceback), into /dev/null.
    log = logging.getLogger("gather")
    log.addHandler(logging.StreamHandler(open(os.devnull, "w")))  # noqa: SIM115
    log.propagate = False

    bare = BareEcho.start()
    tree = Tree.start(
        Supervisor.spec("root", [ChildSpec("echo", Echo)], intensity=10**9, period=1.0),
        on_give_up=lambda reason: sys.exit(f"the root gave up: {reason}"),
    )
    named = tree.ref("root/echo")
    by_path = tree.registry

    rates: dict[str, list[float]] = {k: [] for k in ("bt", "gt", "pt", "ba", "ga")}
    for _ in range(args.rounds):
        rates["bt"].append(tells_per_s(bare.tell, bare.ask, args.tells))
        rates["gt"].append(tells_per_s(named.tell, named.ask, args.tells))
        rates["pt"].append(
            tells_per_s(lambda m: by_path.tell("root/echo", m), named.ask, args.tells)
        )
        rates["ba"].append(asks_per_s(bare.ask, args.asks))
        rates["ga"].append(asks_per_s(named.ask, args.asks))
    median = {k: statistics.median(v) for k, v in rates.items()}

    latencies = []
    for _ in range(args.restarts):
        began = time.perf_counter()
        named.tell(CRASH)
        named.ask("ping")
        latencies.append(time.perf_counter() - began)
    restart = figures(latencies, sum(latencies))
    restarts_seen = tree.snapshot("root/echo").restarts

    tree.shutdown()
    bare.stop()

    tell_ratio = median["gt"] / median["bt"]
    ask_ratio = median["ga"] / median["ba"]

    def row(label: str, bare: float, gather: float) -> None:
        print(f"{label:<34} {bare:>12,.0f} {gather:>12,.0f} {gather / bare:>7.3f}")

    print(f"actors: median of {args.rounds} alternating rounds; restarts: {args.restarts}")
    print(f"{'measure':<34} {'bare pykka':>12} {'gather':>12} {'ratio':>7}")
    row("tell /s (NamedRef)", median["bt"], median["gt"])
    row("tell /s (by path, lookup each)", median["bt"], median["pt"])
    row("ask round-trips /s", median["ba"], median["ga"])
    print(f"{'restart, crash to answer, p50 ms':<34} {'':>12} {restart.p50_ms:>12.3f}")
    print(f"{'restart, crash to answer, p99 ms':<34} {'':>12} {restart.p99_ms:>12.3f}")
    print_json(
        "actors",
        tell_ratio=round(tell_ratio, 3),
        ask_ratio=round(ask_ratio, 3),
        restart_p50_ms=round(restart.p50_ms, 3),
        restart_p99_ms=round(restart.p99_ms, 3),
        bare_tells_per_s=round(median["bt"]),
        gather_tells_per_s=round(median["gt"]),
        gather_path_tells_per_s=round(median["pt"]),
        bare_asks_per_s=round(median["ba"]),
        gather_asks_per_s=round(median["ga"]),
        restarts=restarts_seen,
    )


if __name__ == "__main__":
    main()
