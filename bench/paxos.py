"""Lightweight transactions under Paxos v1 and v2, round by round on one warm local cluster.

Cassandra 5.0 runs Paxos v1 unless ``paxos_variant: v2`` is set; v2 (CEP-14) needs fewer
round trips per transaction. This bench switches every node's variant at run time over JMX
(the StorageProxy MBean's ``PaxosVariant`` attribute, read back on every node after each
switch and again after each measurement) and alternates v1 and v2 round by round
(``bench.harness.alternating_rounds``). Each round runs, under each variant:

- lwt: ``bench/cassandra_baseline.py``'s LWT inserts (``IF NOT EXISTS`` on fresh keys, a fixed
  number in flight, at the ``signup`` class's consistency);
- signups: ``bench/signups.py``'s repository sign-ups (``Registrations.sign_up``, one LWT each,
  every thread into its own option).

A side's figures are its median round; a ratio is the median of the rounds' own ratios. The
cluster is put back to the variant devcluster's cassandra.yaml sets (v2) when the bench ends,
also when it fails (a node restarted meanwhile runs that one anyway: the switch is not written
to its cassandra.yaml). ``paxos_state_purging`` is left as it is (legacy).

    .venv/bin/python bench/paxos.py [--lwts 1000] [--in-flight 32] [--signups 400]
                                    [--threads 16] [--rounds 9]

The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import signal
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import FrameType

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.cassandra_baseline import baseline
from bench.harness import (
    Figures,
    alternating_rounds,
    median_ratio,
    median_round,
    print_json,
    print_table,
    run_threads,
)
from bench.signups import RepositorySignups, store_and_raw_session
from config import cluster as cluster_config
from devcluster import LocalCluster, LocalClusterError

STORAGE_PROXY = "org.apache.cassandra.db:type=StorageProxy"
VARIANTS = ("v1", "v2")
DEFAULT_VARIANT = "v2"
"""The variant devcluster/server/cassandra.yaml.in sets, which the bench restores."""
ATTEMPTS = 3
WAIT_FOR_NODES_S = 300.0


class PaxosVariant:
    """The Paxos variant of every node of the local cluster, switched over JMX."""

    def __init__(self, cluster: LocalCluster) -> None:
        self._cluster = cluster
        self.current: str | None = None
        self._set_in: dict[str, tuple[int, float] | None] = {}
        """The JVM (pid, start time) of each node when ``current`` was set."""
        self.switches = 0
        self.discarded = 0

    def on_each_node(self) -> dict[str, str]:
        """Node name -> the variant it runs now, as its MBean reports it."""
        with ThreadPoolExecutor(len(self._cluster.nodes)) as pool:
            found = pool.map(
                lambda node: self._cluster.mbean_attribute(node, STORAGE_PROXY, "PaxosVariant"),
                self._cluster.nodes,
            )
            return dict(zip((node.name for node in self._cluster.nodes), found, strict=True))

    def set(self, variant: str) -> None:
        """Switch every node to ``variant`` (read back on each), unless it runs it already."""
        if variant == self.current:
            return
        self.current = None  # unknown until every node has taken it
        jvms = self._jvms()
        with ThreadPoolExecutor(len(self._cluster.nodes)) as pool:
            list(
                pool.map(
                    lambda node: self._cluster.set_mbean_attribute(
                        node, STORAGE_PROXY, "PaxosVariant", variant
                    ),
                    self._cluster.nodes,
                )
            )
        self.current, self._set_in = variant, jvms
        self.switches += 1

    def measure(self, variant: str, workload: Callable[[], Figures]) -> Figures:
        """Run ``workload`` with every node at ``variant``. A measurement during which a node
        went down or restarted (someone else's test killing it, say: it comes back at its
        cassandra.yaml's variant) is thrown away and run again once every node answers again.
        A node's variant changes only by a switch or a restart, so an unchanged JVM on every
        node proves the variant held."""
        for _ in range(ATTEMPTS):
            try:
                self.set(variant)
                measured = workload()
                if self._jvms() == self._set_in:
                    return measured
                reason = "a node stopped or restarted"
            except LocalClusterError as exc:
                reason = str(exc).splitlines()[0]
            print(f"{variant} measurement thrown away ({reason}); waiting", flush=True)
            self.discarded += 1
            self.current = None
            self._wait_for_every_node()
        raise LocalClusterError(f"no undisturbed {variant} measurement in {ATTEMPTS} attempts")

    def _jvms(self) -> dict[str, tuple[int, float] | None]:
        jvms: dict[str, tuple[int, float] | None] = {}
        for node in self._cluster.nodes:
            process = node.process()
            jvms[node.name] = None if process is None else (process.pid, process.create_time())
        return jvms

    def _wait_for_every_node(self) -> None:
        deadline = time.monotonic() + WAIT_FOR_NODES_S
        while True:
            try:
                self.on_each_node()
                return
            except LocalClusterError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(5)

    def restore(self, since: float) -> None:
        """Set every node back to :data:`DEFAULT_VARIANT`. A node that is not running, or whose
        JVM started after ``since`` (time.time()), needs nothing: it runs its cassandra.yaml's."""
        for node in self._cluster.nodes:
            try:
                self._cluster.set_mbean_attribute(
                    node, STORAGE_PROXY, "PaxosVariant", DEFAULT_VARIANT
                )
            except LocalClusterError:
                process = node.process()
                if process is not None and process.create_time() <= since:
                    raise
        self.current = DEFAULT_VARIANT


@contextlib.contextmanager
def switching(cluster: LocalCluster) -> Iterator[PaxosVariant]:
    """A :class:`PaxosVariant`; every node is back at :data:`DEFAULT_VARIANT` at the end,
    whatever happens."""
    variant = PaxosVariant(cluster)
    since = time.time()
    try:
        yield variant
    finally:
        variant.restore(since)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lwts", type=int, default=1000, help="LWT inserts per variant, round")
    parser.add_argument("--in-flight", type=int, default=32, help="LWT inserts in flight")
    parser.add_argument("--signups", type=int, default=400, help="sign-ups per variant, round")
    parser.add_argument("--threads", type=int, default=16, help="sign-up threads")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--keyspace", default="gather_bench", help="of the sign-ups")
    args = parser.parse_args()
    signal.signal(
        signal.SIGTERM, _exit
    )  # as Ctrl-C: the finally blocks put the default variant back
    try:
        return _run(args)
    except LocalClusterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _exit(signum: int, _: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def _run(args: argparse.Namespace) -> int:
    config = cluster_config.load()
    cluster = LocalCluster(config, say=lambda _: None)
    with (
        baseline(config) as lwt_bench,
        store_and_raw_session(args.keyspace) as (store, _),
        switching(cluster) as paxos,
    ):
        before = paxos.on_each_node()
        signups = RepositorySignups(store, args.threads)
        workloads: dict[str, Callable[[], Figures]] = {
            "lwt": functools.partial(lwt_bench.lwt_inserts, args.lwts, args.in_flight),
            "signups": functools.partial(run_threads, signups.sign_up, args.signups, args.threads),
        }

        warm_up = (
            functools.partial(lwt_bench.lwt_inserts, args.lwts // 4, args.in_flight),
            functools.partial(run_threads, signups.sign_up, args.threads * 4, args.threads),
        )
        for variant in VARIANTS:  # connections, statements, each variant's code paths
            for workload in warm_up:
                paxos.measure(variant, workload)
        rounds = alternating_rounds(
            {
                f"{name} {variant}": functools.partial(paxos.measure, variant, workload)
                for variant in VARIANTS
                for name, workload in workloads.items()
            },
            args.rounds,
        )
    after = paxos.on_each_node()

    median = {name: median_round(figures) for name, figures in rounds.items()}
    print(f"Paxos variant before the bench: {before}; after it: {after}")
    print_table(
        f"Paxos v1 against v2: {args.lwts} LWT inserts ({args.in_flight} in flight) and "
        f"{args.signups} sign-ups ({args.threads} threads) per variant and round, median of "
        f"{args.rounds} alternating rounds, {paxos.switches} switches, "
        f"{paxos.discarded} disturbed measurements run again",
        median,
    )
    ratios: dict[str, float] = {}
    for name in workloads:
        v1, v2 = rounds[f"{name} v1"], rounds[f"{name} v2"]
        ratios[f"{name}_v2_over_v1"] = median_ratio(v2, v1)
        ratios[f"{name}_p50_v2_over_v1"] = median_ratio(v2, v1, by=lambda f: f.p50_ms)
        ratios[f"{name}_p99_v2_over_v1"] = median_ratio(v2, v1, by=lambda f: f.p99_ms)
        print(
            f"{name}: v2/v1 rate {ratios[f'{name}_v2_over_v1']:.3f}, p50 "
            f"{ratios[f'{name}_p50_v2_over_v1']:.3f}, p99 "
            f"{ratios[f'{name}_p99_v2_over_v1']:.3f} (medians of the rounds' ratios)"
        )
        for variant, found in (("v1", v1), ("v2", v2)):
            print(
                f"  {variant} by round: per s {[round(f.per_s) for f in found]}, "
                f"p50 ms {[round(f.p50_ms, 1) for f in found]}"
            )
    figures = {
        f"{name}_{field}_{variant}": round(getattr(median[f"{name} {variant}"], field), 2)
        for name in workloads
        for variant in VARIANTS
        for field in ("per_s", "p50_ms", "p99_ms")
    }
    print_json(
        "paxos",
        **{key: round(value, 3) for key, value in ratios.items()},
        **figures,
        errors=sum(f.errors for found in rounds.values() for f in found),
        discarded=paxos.discarded,
        lwts=args.lwts,
        in_flight=args.in_flight,
        signups=args.signups,
        threads=args.threads,
        rounds=args.rounds,
        left_at=sorted(set(after.values())),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
