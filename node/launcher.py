"""Start every Gather node that cluster.yaml places on this machine, each as its own process.

``python -m node.launcher`` is what ``make run`` ends with: it makes sure the cluster cookie
(and the SMS provider's secret) exists, starts ``run_node.py NAME`` for each local node, prints
where each one listens, and on Ctrl-C (or SIGTERM) stops them all, in reverse order. A node
that exits on its own is reported and started again after a pause, as a service manager would.
When cluster.yaml sends texts to a loopback address (the demo), it also runs the provider's
stand-in there first (:mod:`sms.demo`); when it sends mail to a loopback SMTP server without
TLS or login, it runs the loopback SMTP server of :mod:`mail.demo` there, which keeps every
message in ``var/mail/``.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil

from config import cluster as cluster_config
from config.cluster import ClusterConfig, MailConfig, NodeConfig
from sms.demo import is_demo

RUN_NODE = Path(__file__).resolve().parent.parent / "run_node.py"
RESTART_PAUSE_S = 2.0
DISPLAY_VARIABLES = ("DISPLAY", "WAYLAND_DISPLAY")
MAIL_DEMO_HOSTS = ("127.0.0.1", "localhost")
"""The SMTP hosts :mod:`mail.demo` serves (it listens on 127.0.0.1 only)."""
MAIL_DEMO_START_S = 10.0
"""How long the loopback SMTP server may take to listen before the nodes start anyway."""


def kiosk_display() -> tuple[dict[str, str], str]:
    """How a kiosk node started here shows its screens: the environment it gets, and the
    sentence that says so. In a window when this machine has a display, else headless."""
    shown = next((os.environ[v] for v in DISPLAY_VARIABLES if os.environ.get(v)), None)
    if shown is not None:
        return {"GATHER_KIOSK_DISPLAY": "windowed"}, f"in a window on display {shown}"
    return (
        {"SDL_VIDEODRIVER": "dummy"},
        "headless (no display here): see its screen on /admin/cluster or with the shell's screen",
    )


def local_nodes(config: ClusterConfig) -> list[NodeConfig]:
    """The nodes whose host is a loopback address or one of this machine's addresses."""
    own = {
        address.address
        for addresses in psutil.net_if_addrs().values()
        for address in addresses
        if address.family.name in ("AF_INET", "AF_INET6")
    }
    return [
        node
        for node in config.nodes.values()
        if ipaddress.ip_address(node.host).is_loopback or node.host in own
    ]


def is_mail_demo(mail: MailConfig | None) -> bool:
    """Whether cluster.yaml sends mail to the loopback SMTP server of :mod:`mail.demo`
    (``make run``'s demo): 127.0.0.1 or localhost, no TLS and no login (it offers neither)."""
    return (
        mail is not None
        and mail.smtp_host in MAIL_DEMO_HOSTS
        and mail.security == "none"
        and mail.user is None
    )


def start_mail_demo(mail: MailConfig, folder: Path) -> subprocess.Popen[bytes] | None:
    """Run ``python -m mail.demo serve`` on ``mail.smtp_port``, keeping what it receives in
    ``folder``, and wait until it listens (so that a digest due when a mailer starts finds
    it). None when it exits at once (its port taken, say: it has said why)."""
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "mail.demo", "serve"),
            *("--port", str(mail.smtp_port), "--folder", str(folder)),
        ]
    )
    deadline = time.monotonic() + MAIL_DEMO_START_S
    while server.poll() is None and time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", mail.smtp_port), timeout=1).close()
            return server
        except OSError:
            time.sleep(0.1)
    if server.poll() is None:
        return server  # slow, not failed: a mailer that finds it down tries again later
    print("the loopback SMTP server did not start: no digest is delivered", file=sys.stderr)
    return None


def mail_demo_line(mail: MailConfig, folder: Path, nodes: list[NodeConfig]) -> str:
    """The line that tells a newcomer where mail sent to the loopback SMTP server lands, and
    where to send a digest now (the first local web node's management UI)."""
    try:
        shown = folder.relative_to(Path.cwd())
    except ValueError:
        shown = folder
    line = (
        f"digests (and e-mails to members) land in {shown}/ "
        f"(a loopback SMTP server on 127.0.0.1:{mail.smtp_port})"
    )
    web = next((node for node in nodes if node.http_port is not None), None)
    if web is not None:
        line += f"; send one now from http://{web.host}:{web.http_port}/admin/mail"
    return line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m node.launcher", description=__doc__)
    parser.add_argument("--config", help="path of cluster.yaml")
    args = parser.parse_args(argv)
    config = cluster_config.load(args.config)
    if config.cookie.file is not None:
        config.cookie.ensure_file()
    nodes = local_nodes(config)
    sms_demo = is_demo(config.sms) and any("sms" in node.roles for node in nodes)
    if sms_demo and config.sms is not None and config.sms.secret.file is not None:
        config.sms.secret.ensure_file()
    mail_here = any("mail" in node.roles for node in nodes)
    mail_demo = config.mail if mail_here and is_mail_demo(config.mail) else None
    if not nodes:
        print("cluster.yaml places no Gather node on this machine", file=sys.stderr)
        return 1

    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    command = [sys.executable, str(RUN_NODE)] + (["--config", args.config] if args.config else [])
    kiosk_env, kiosk_shown = kiosk_display()

    def start(node: NodeConfig) -> subprocess.Popen[bytes]:
        extra = kiosk_env if "kiosk" in node.roles else {}
        return subprocess.Popen([*command, node.name], env={**os.environ, **extra})

    config_args = ["--config", args.config] if args.config else []
    sandbox_command = [sys.executable, "-m", "sms.demo", *config_args, "serve"]
    sandbox = subprocess.Popen(sandbox_command) if sms_demo else None
    mail_folder = config.root / "var" / "mail"
    mail_server = None if mail_demo is None else start_mail_demo(mail_demo, mail_folder)
    processes = {node.name: start(node) for node in nodes}
    for node in nodes:
        roles = ", ".join(node.roles)
        print(
            f"node {node.name} ({roles}) on {node.host}:{node.port}, pid {processes[node.name].pid}"
        )
        if node.http_port is not None:
            print(f"  website: http://{node.host}:{node.http_port}/  (management UI: /admin)")
        if "kiosk" in node.roles:
            print(f"  kiosk screens: {kiosk_shown}")
        if node.sms_port is not None and config.sms is not None:
            print(f"  SMS webhook: {config.sms.webhook_url} ({config.sms.provider})")
    if sms_demo:
        print(
            "  texting the site: .venv/bin/python -m sms.demo text +15557010001 EVENTS; "
            "what it sent: .venv/bin/python -m sms.demo texts"
        )
    if mail_demo is not None and mail_server is not None:
        print(mail_demo_line(mail_demo, mail_folder, nodes))
    print("attach a shell with: .venv/bin/python run_node.py --attach NAME; Ctrl-C stops all")
    while not stopping:
        time.sleep(0.5)
        for node in nodes:
            code = processes[node.name].poll()
            if code is not None and not stopping:
                print(f"node {node.name} exited with status {code}; restarting", file=sys.stderr)
                time.sleep(RESTART_PAUSE_S)
                processes[node.name] = start(node)
    for node in reversed(nodes):
        _end(processes[node.name])
        print(f"node {node.name} stopped")
    for side in (sandbox, mail_server):
        if side is not None:
            _end(side)
    return 0


def _end(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()


if __name__ == "__main__":
    sys.exit(main())
