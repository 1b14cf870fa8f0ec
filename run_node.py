"""Start a Gather node, or attach an operator shell to a running one.

python run_node.py NAME [--config cluster.yaml] [--windowed]
python run_node.py --attach NAME [-c "COMMAND"] [--config cluster.yaml]
"""

from __future__ import annotations

import argparse
import os
import sys

from config import cluster as cluster_config
from config.cluster import ConfigError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Start a Gather node, or attach an operator shell to a running one."
    )
    parser.add_argument("name", nargs="?", help="the node to start, as cluster.yaml names it")
    parser.add_argument("--config", help="path of cluster.yaml (default: the repository's)")
    parser.add_argument("--attach", metavar="NAME", help="attach a shell to the running node NAME")
    parser.add_argument("-c", dest="command", help="with --attach: run COMMAND and exit")
    parser.add_argument(
        "--windowed",
        action="store_true",
        help="a kiosk node shows its screens in a window, not fullscreen (development)",
    )
    args = parser.parse_args(argv)
    if bool(args.name) == bool(args.attach):
        parser.error("give either a node NAME to start or --attach NAME")
    try:
        config = cluster_config.load(args.config)
        target = args.attach or args.name
        if target not in config.nodes:
            raise ConfigError(
                f"nodes.{target}: no such node; cluster.yaml has {list(config.nodes)}"
            )
        if args.attach:
            from node import shell, tls

            node = config.nodes[target]
            _, client_tls = tls.contexts(config.link)
            return shell.attach(
                node.host, node.port, config.cookie.read(), args.command, client_tls
            )
        from node import process

        if args.windowed:
            os.environ.setdefault("GATHER_KIOSK_DISPLAY", "windowed")
        return process.run(config, target)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
