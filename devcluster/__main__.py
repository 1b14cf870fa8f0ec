"""Command line of the local Cassandra cluster manager: ``python -m devcluster CMD``."""

from __future__ import annotations

import argparse
import dataclasses
import sys

from config import cluster as cluster_config
from devcluster import settings
from devcluster.errors import LocalClusterError
from devcluster.manager import LocalCluster


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devcluster",
        description="Run the real Apache Cassandra cluster that cluster.yaml describes, locally.",
    )
    parser.add_argument("--config", help="path of cluster.yaml (default: the repository's)")
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start missing nodes and wait until all are UP")
    up.add_argument("--nodes", type=int, help="number of nodes (overrides cassandra.local.nodes)")
    commands.add_parser("status", help="address, pid, state, heap and RSS of each node")
    stop = commands.add_parser("stop", help="stop one node, or all, gracefully")
    stop.add_argument("node", nargs="?")
    commands.add_parser("down", help="stop every node (data kept)")
    commands.add_parser("wipe", help="stop every node and delete its data and logs")
    for name, text in (("kill", "SIGKILL one node"), ("start", "start one stopped node")):
        commands.add_parser(name, help=text).add_argument("node")
    logs = commands.add_parser("logs", help="the tail of one node's system.log")
    logs.add_argument("node")
    logs.add_argument("-n", "--lines", type=int, default=60)
    args = parser.parse_args(argv)

    try:
        config = cluster_config.load(args.config)
        local = settings.load(config)
        if getattr(args, "nodes", None):
            local = dataclasses.replace(local, nodes=args.nodes)
        cluster = LocalCluster(config, local)
        if args.command == "up":
            cluster.up()
            print_status(cluster)
        elif args.command == "status":
            print_status(cluster)
        elif args.command in ("stop", "down", "wipe"):
            getattr(cluster, args.command)(*([args.node] if getattr(args, "node", None) else []))
        elif args.command in ("kill", "start"):
            getattr(cluster, args.command)(args.node)
        elif args.command == "logs":
            print(cluster.node(args.node).log_tail(args.lines))
    except (LocalClusterError, cluster_config.ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0


def print_status(cluster: LocalCluster) -> None:
    """Print one line per node; the UP count last."""
    rows = cluster.status()
    print(f"{'NODE':<7} {'ADDRESS':<11} {'PID':>8} {'STATE':<8} {'HEAP USED/MAX':>15} {'RSS':>9}")
    for row in rows:
        heap = (
            f"{row.heap_used_mb:.0f}/{row.heap_max_mb} MiB"
            if row.heap_used_mb is not None
            else f"-/{row.heap_max_mb} MiB"
        )
        rss = f"{row.rss_mb:.0f} MiB" if row.rss_mb is not None else "-"
        pid = row.pid or "-"
        print(f"{row.name:<7} {row.address:<11} {pid:>8} {row.state:<8} {heap:>15} {rss:>9}")
    up = sum(1 for row in rows if row.state == "UP")
    total_rss = sum(row.rss_mb or 0 for row in rows)
    print(f"{up}/{len(rows)} nodes UP, total RSS {total_rss:.0f} MiB")


if __name__ == "__main__":
    sys.exit(main())
