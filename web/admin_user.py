"""Admin users from the command line: the first admin is created here.

python -m web.admin_user create NAME [--keyspace KS]    the password is asked for (twice) on a
                                                        terminal, else read from stdin's first line
python -m web.admin_user password NAME [--keyspace KS]  set a new password the same way
python -m web.admin_user list [--keyspace KS]
"""

from __future__ import annotations

import argparse
import getpass
import sys

from config import cluster as cluster_config
from storage.errors import StorageError
from storage.store import Store


def read_password() -> str:
    """The new password: typed twice on a terminal, or the first line of stdin."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != password:
        raise SystemExit("error: the passwords differ")
    return password


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Create and manage Gather admin users.")
    parser.add_argument("action", choices=("create", "password", "list"))
    parser.add_argument("name", nargs="?", help="the admin's username")
    parser.add_argument("--keyspace", help="default: cluster.yaml's")
    parser.add_argument("--config", help="path of cluster.yaml (default: the repository's)")
    args = parser.parse_args(argv)
    if args.action != "list" and not args.name:
        parser.error(f"{args.action} needs a NAME")
    config = cluster_config.load(args.config)
    try:
        with Store(config, node="admin-cli", keyspace=args.keyspace) as store:
            if args.action == "list":
                print("\n".join(store.admins.list()))
            elif args.action == "create":
                store.admins.create(args.name, read_password())
                print(f"admin {args.name} created")
            else:
                store.admins.set_password(args.name, read_password())
                print(f"password of {args.name} changed")
    except StorageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
