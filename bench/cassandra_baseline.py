"""Raw cassandra-driver figures on the local cluster, for later benchmarks to compare against.

Plain writes, plain reads and lightweight-transaction inserts, each at the consistency level
cluster.yaml gives its operation class, with a fixed number of requests in flight.

    .venv/bin/python bench/cassandra_baseline.py [--count N] [--in-flight N]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cassandra import ConsistencyLevel
from cassandra.cluster import Cluster, Session
from cassandra.query import PreparedStatement

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Figures, print_json, print_table, run_async
from config import cluster as cluster_config
from config.cluster import ClusterConfig
from storage.session import PROTOCOL_VERSION

KEYSPACE = "bench_baseline"


@dataclass(frozen=True)
class Baseline:
    """A driver session on the bench keyspace and its statements, each at the consistency of
    its operation class."""

    session: Session
    write: PreparedStatement
    read: PreparedStatement
    lwt: PreparedStatement

    def lwt_inserts(self, count: int, in_flight: int) -> Figures:
        """``count`` lightweight-transaction inserts of fresh keys, ``in_flight`` at a time."""
        return run_async(
            lambda _: self.session.execute_async(self.lwt, (uuid.uuid4(), "value")),
            count,
            in_flight,
        )


@contextlib.contextmanager
def baseline(config: ClusterConfig) -> Iterator[Baseline]:
    """Connect, create the bench keyspace and table if missing, and prepare the statements."""
    levels = config.cassandra.consistency
    cluster = Cluster(
        list(config.cassandra.contact_points),
        port=config.cassandra.port,
        protocol_version=PROTOCOL_VERSION,
    )
    try:
        session = cluster.connect()
        factor = config.cassandra.replication_factor
        session.execute(
            f"CREATE KEYSPACE IF NOT EXISTS {KEYSPACE} WITH replication = "
            f"{{'class': 'SimpleStrategy', 'replication_factor': {factor}}}"
        )
        session.execute(f"CREATE TABLE IF NOT EXISTS {KEYSPACE}.kv (k uuid PRIMARY KEY, v text)")
        session.cluster.control_connection.wait_for_schema_agreement()
        write = session.prepare(f"INSERT INTO {KEYSPACE}.kv (k, v) VALUES (?, ?)")
        write.consistency_level = ConsistencyLevel.name_to_value[levels["write"].level]
        read = session.prepare(f"SELECT v FROM {KEYSPACE}.kv WHERE k = ?")
        read.consistency_level = ConsistencyLevel.name_to_value[levels["read"].level]
        lwt = session.prepare(f"INSERT INTO {KEYSPACE}.kv (k, v) VALUES (?, ?) IF NOT EXISTS")
        lwt.consistency_level = ConsistencyLevel.name_to_value[levels["signup"].level]
        lwt.serial_consistency_level = ConsistencyLevel.name_to_value[levels["signup"].serial]
        yield Baseline(session, write, read, lwt)
    finally:
        cluster.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=4000, help="operations per kind")
    parser.add_argument("--in-flight", type=int, default=32)
    args = parser.parse_args()

    config = cluster_config.load()
    levels = config.cassandra.consistency
    with baseline(config) as bench:
        session, write, read = bench.session, bench.write, bench.read
        keys = [uuid.uuid4() for _ in range(args.count)]
        warmup = min(args.count, 1000)
        run_async(
            lambda i: session.execute_async(write, (keys[i], "value")), warmup, args.in_flight
        )
        bench.lwt_inserts(warmup // 4, args.in_flight)
        lwt_count = max(1, args.count // 4)
        results = {
            f"write ({levels['write'].level})": run_async(
                lambda i: session.execute_async(write, (keys[i], "value")),
                args.count,
                args.in_flight,
            ),
            f"read ({levels['read'].level})": run_async(
                lambda i: session.execute_async(read, (keys[i],)), args.count, args.in_flight
            ),
            f"lwt insert ({levels['signup'].level}/{levels['signup'].serial})": (
                bench.lwt_inserts(lwt_count, args.in_flight)
            ),
        }
    print_table(f"raw cassandra-driver, {args.in_flight} in flight, local cluster", results)
    write_f, read_f, lwt_f = results.values()
    print_json(
        "cassandra_baseline",
        write_per_s=round(write_f.per_s, 1),
        write_p50_ms=round(write_f.p50_ms, 2),
        write_p99_ms=round(write_f.p99_ms, 2),
        read_per_s=round(read_f.per_s, 1),
        read_p50_ms=round(read_f.p50_ms, 2),
        read_p99_ms=round(read_f.p99_ms, 2),
        lwt_per_s=round(lwt_f.per_s, 1),
        lwt_p50_ms=round(lwt_f.p50_ms, 2),
        lwt_p99_ms=round(lwt_f.p99_ms, 2),
        errors=sum(f.errors for f in results.values()),
    )


if __name__ == "__main__":
    main()
