"""Shared measuring for Gather's benchmarks: run N operations with a fixed number in flight.

``run_async`` drives an operation that returns a cassandra-driver ``ResponseFuture`` (or any
object with ``add_callbacks``); ``run_threads`` drives a blocking callable from a thread pool.
Both return a :class:`Figures` with the rate and the latency percentiles;
``alternating_rounds`` adds the share of the machine's CPU time its hypervisor stole during
each round (:class:`CpuTimes`), so that a round slowed by the host shows as such.
"""

from __future__ import annotations

import gc
import json
import socket
import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from typing import Any


@dataclass(frozen=True)
class Figures:
    """Throughput and latency of one measured run."""

    ops: int
    seconds: float
    per_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    steal_pct: float | None = None
    """Of the machine's CPU time during the run, the percent its hypervisor gave other guests
    while this one had work (``steal`` in /proc/stat); None where not measured."""


@dataclass(frozen=True)
class CpuTimes:
    """The machine's CPU time so far, all CPUs together, in clock ticks (Linux's /proc/stat).

    A virtual machine's ``steal`` grows while its CPUs have work and the host runs another
    guest's: time that neither our code nor Cassandra controls, which lengthens every request
    it falls on.
    """

    working: int
    """user, nice, system, irq and softirq."""
    idle: int
    """idle and iowait."""
    stolen: int
    """steal."""

    @classmethod
    def now(cls) -> CpuTimes | None:
        """The times so far, or None where /proc/stat cannot be read (not Linux)."""
        try:
            with open("/proc/stat", encoding="ascii") as stat:
                ticks = [int(field) for field in stat.readline().split()[1:9]]
        except (OSError, ValueError):
            return None
        if len(ticks) < 8:  # a kernel older than 2.6.11 counts no steal
            return None
        user, nice, system, idle, iowait, irq, softirq, steal = ticks
        return cls(user + nice + system + irq + softirq, idle + iowait, steal)

    def steal_pct_since(self, before: CpuTimes | None) -> float | None:
        """Of all CPU time from ``before`` to these times, the percent stolen."""
        if before is None:
            return None
        total = (self.working + self.idle + self.stolen) - (
            before.working + before.idle + before.stolen
        )
        return 100 * (self.stolen - before.stolen) / total if total > 0 else None


def measured(run: Callable[[], Figures], collector_off: bool = False) -> Figures:
    """``run()``'s figures with the CPU time stolen meanwhile (:class:`CpuTimes`).

    With ``collector_off``, this process's garbage collector is off while ``run`` runs (as
    ``timeit`` has it), its garbage collected first, and back as it was after: for a bench
    whose process only drives the load and plays the bare driver's side, while ours is served
    by a process of its own that keeps its collector. The driving process's collections would
    otherwise delay every request in flight on both sides; the bare driver's side loses the
    collections an application of its own would have, which can only lower the ratio.
    """
    collecting = gc.isenabled()
    try:
        if collector_off:
            gc.collect()
            gc.disable()
        before = CpuTimes.now()
        found = run()
        after = CpuTimes.now()
    finally:
        if collecting:
            gc.enable()
    return replace(found, steal_pct=after.steal_pct_since(before) if after else None)


def figures(latencies_s: list[float], seconds: float, errors: int = 0) -> Figures:
    """Summarise per-operation latencies (seconds) of a run that took ``seconds``."""
    ordered = sorted(latencies_s) or [0.0]
    cuts = statistics.quantiles(ordered, n=100, method="inclusive") if len(ordered) > 1 else None
    return Figures(
        ops=len(latencies_s),
        seconds=seconds,
        per_s=len(latencies_s) / seconds if seconds else 0.0,
        p50_ms=(cuts[49] if cuts else ordered[0]) * 1000,
        p99_ms=(cuts[98] if cuts else ordered[0]) * 1000,
        errors=errors,
    )


def median_round(
    rounds: list[Figures], by: Callable[[Figures], float] = lambda f: f.per_s
) -> Figures:
    """Of several rounds of the same measurement, the one with the median rate (or ``by``)."""
    return sorted(rounds, key=by)[len(rounds) // 2]


def alternating_rounds(
    sides: dict[str, Callable[[], Figures]], rounds: int, collector_off: bool = False
) -> dict[str, list[Figures]]:
    """Measure every side ``rounds`` times, back to back, the first side first in even rounds
    and last in odd ones, so that the shared machine's drift falls on all sides alike; each
    round is :func:`measured` (``collector_off`` as there)."""
    found: dict[str, list[Figures]] = {name: [] for name in sides}
    for number in range(rounds):
        for name in list(sides) if number % 2 == 0 else list(reversed(sides)):
            found[name].append(measured(sides[name], collector_off))
    return found


def median_ratio(
    ours: list[Figures], raw: list[Figures], by: Callable[[Figures], float] = lambda f: f.per_s
) -> float:
    """The median of the rounds' ratios of rates (or of ``by``): a round's runs are back to
    back, so their ratio cancels the machine's drift."""
    return statistics.median(by(o) / by(r) for o, r in zip(ours, raw, strict=True))


def run_async(start_op: Callable[[int], Any], count: int, in_flight: int) -> Figures:
    """Run ``start_op(i)`` for i in range(count), keeping ``in_flight`` futures outstanding."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    done = threading.Event()
    next_index = 0
    finished = 0

    def launch() -> None:
        nonlocal next_index
        with lock:
            if next_index >= count:
                return
            index = next_index
            next_index += 1
        began = time.perf_counter()
        future = start_op(index)
        future.add_callbacks(lambda _: complete(began, False), lambda _: complete(began, True))

    def complete(began: float, failed: bool) -> None:
        nonlocal finished, errors
        elapsed = time.perf_counter() - began
        with lock:
            finished += 1
            if failed:
                errors += 1
            else:
                latencies.append(elapsed)
            last = finished == count
        if last:
            done.set()
        else:
            launch()

    started = time.perf_counter()
    for _ in range(min(in_flight, count)):
        launch()
    done.wait()
    return figures(latencies, time.perf_counter() - started, errors)


def run_threads(op: Callable[[int], Any], count: int, threads: int) -> Figures:
    """Run the blocking ``op(i)`` for i in range(count) on ``threads`` worker threads."""
    latencies: list[float] = []
    errors = 0

    def timed(index: int) -> None:
        nonlocal errors
        began = time.perf_counter()
        try:
            op(index)
        except Exception:
            errors += 1
            return
        latencies.append(time.perf_counter() - began)

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(timed, range(count)))
    return figures(latencies, time.perf_counter() - started, errors)


def print_table(title: str, rows: dict[str, Figures]) -> None:
    """Print figures as an aligned table (with a ``steal %`` column when any row has one)."""
    stolen = any(row.steal_pct is not None for row in rows.values())
    print(title)
    print(
        f"{'operation':<28} {'ops':>7} {'per s':>10} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}"
        + (f" {'steal %':>7}" if stolen else "")
    )
    for name, row in rows.items():
        print(
            f"{name:<28} {row.ops:>7} {row.per_s:>10.1f} {row.p50_ms:>8.2f} "
            f"{row.p99_ms:>8.2f} {row.errors:>7}"
            + (f" {_percent(row.steal_pct):>7}" if stolen else "")
        )


def print_paced_rounds(at_half: dict[str, list[Figures]]) -> None:
    """Print each side's p99 and stolen CPU time in every paced round."""
    for name, found in at_half.items():
        p99s = ", ".join(f"{f.p99_ms:.1f}" for f in found)
        steals = ", ".join(_percent(f.steal_pct) for f in found)
        print(f"p99 ms of each paced round, {name}: {p99s} (CPU time stolen, %: {steals})")


def steal_pct(found: Figures) -> float | None:
    """A run's stolen CPU time, rounded for the JSON line."""
    return None if found.steal_pct is None else round(found.steal_pct, 1)


def steal_pcts(found: list[Figures]) -> list[float | None]:
    """The rounds' stolen CPU time, rounded for the JSON line."""
    return [steal_pct(f) for f in found]


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def print_json(bench: str, **values: Any) -> None:
    """Print the one JSON line that ends every benchmark."""
    print(json.dumps({"bench": bench, **values}, default=lambda f: asdict(f)))


class NoDelivery:
    """A bench process's end of the node link hosts no actors: nothing is sent to it."""

    def tell(self, path: str, message: Any) -> None:
        raise LookupError(path)

    def ask(self, path: str, message: Any, timeout: float, reply: Any) -> None:
        reply(False, LookupError(path))

    def command(self, name: str, args: list[Any]) -> Any:
        raise LookupError(name)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 just now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
