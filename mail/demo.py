"""The mail part of ``make run``: a loopback SMTP server that keeps what Gather sends.

``serve`` runs the sandbox of :mod:`mail.sandbox` on 127.0.0.1 until SIGTERM or Ctrl-C; every
message it takes (the daily digest, a notice to a member) is written to its folder as an
``.eml`` file, which a mail client opens::

    .venv/bin/python -m mail.demo serve [--port 8025] [--folder var/mail]

Point cluster.yaml's ``mail`` section at it: ``smtp: {host: 127.0.0.1, port: 8025,
security: none}`` and no ``user``.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from mail.sandbox import MailSandbox


def serve(port: int, folder: Path) -> int:
    """Run the sandbox on ``port``, writing what it takes to ``folder``, until SIGTERM or
    Ctrl-C."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    sandbox = MailSandbox(port=port, folder=folder)
    try:
        sandbox.start()
    except OSError as exc:
        print(f"mail.demo: cannot listen on {sandbox.host}:{port}: {exc}", file=sys.stderr)
        return 1
    try:
        print(
            f"loopback SMTP server on {sandbox.host}:{sandbox.port}, "
            f"keeping what it receives in {folder}/",
            flush=True,
        )
        stop.wait()
    finally:
        sandbox.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Command line: ``serve [--port PORT] [--folder FOLDER]``."""
    parser = argparse.ArgumentParser(prog="python -m mail.demo", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serving = commands.add_parser("serve", help="run the loopback SMTP server")
    serving.add_argument("--port", type=int, default=8025, help="its port (default 8025)")
    serving.add_argument(
        "--folder", type=Path, default=Path("var/mail"), help="where it writes what it takes"
    )
    args = parser.parse_args(argv)
    return serve(args.port, args.folder)


if __name__ == "__main__":
    sys.exit(main())
