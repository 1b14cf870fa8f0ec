"""Real Gather node processes for tests: a temporary cluster.yaml and run_node.py per node."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from config import cluster as cluster_config
from tests.test_node_link import free_port

REPO = Path(__file__).resolve().parent.parent
RUN_NODE = REPO / "run_node.py"


class NodeProcesses:
    """Node processes described by a cluster.yaml written to ``folder``."""

    def __init__(
        self, folder: Path, names: list[str], contact_points: list[str] | None = None
    ) -> None:
        document = yaml.safe_load(cluster_config.DEFAULT_PATH.read_text())
        if contact_points is not None:
            document["cassandra"]["contact_points"] = contact_points
        document["cookie"] = {"env": "GATHER_TEST_COOKIE"}
        document["link"] = {"heartbeat_s": 0.25, "down_after_s": 1.0, "max_frame_kb": 1024}
        document["nodes"] = {
            name: {"host": "127.0.0.1", "port": free_port(), "roles": ["worker"]} for name in names
        }
        self.config_path = folder / "cluster.yaml"
        self.config_path.write_text(yaml.safe_dump(document))
        self.config = cluster_config.load(self.config_path)
        self.cookie = secrets.token_hex(16)
        self.logs = folder
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def env(self, cookie: str | None = None) -> dict[str, str]:
        return {**os.environ, "GATHER_TEST_COOKIE": cookie or self.cookie}

    def start(self, name: str, wait: bool = True) -> None:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - the child owns it
        self.processes[name] = subprocess.Popen(
            [sys.executable, str(RUN_NODE), name, "--config", str(self.config_path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self.env(),
            cwd=REPO,
        )
        if wait:
            self.wait_until(lambda: self.shell(name, "tree").returncode == 0, f"{name} answers")

    def kill(self, name: str) -> None:
        self.processes[name].send_signal(signal.SIGKILL)
        self.processes[name].wait(10)

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()

    def shell(
        self, name: str, command: str, cookie: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """``run_node.py --attach NAME -c COMMAND``, as an operator would run it."""
        return subprocess.run(
            [
                sys.executable,
                str(RUN_NODE),
                "--attach",
                name,
                "-c",
                command,
                "--config",
                str(self.config_path),
            ],
            capture_output=True,
            text=True,
            env=self.env(cookie),
            cwd=REPO,
            timeout=60,
        )

    def output(self, name: str, command: str) -> str:
        result = self.shell(name, command)
        assert result.returncode == 0, (
            f"{command!r} on {name} failed: {result.stdout}{result.stderr}"
        )
        return result.stdout

    def table(self, name: str, command: str) -> dict[str, list[str]]:
        """A ``tree`` or ``nodes`` answer as {first column: the row's columns}."""
        rows = [line.split() for line in self.output(name, command).splitlines()[1:]]
        return {row[0]: row for row in rows}

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    @staticmethod
    def wait_until(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> float:
        started = time.monotonic()
        while not condition():
            if time.monotonic() - started > timeout:
                raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
            time.sleep(0.1)
        return time.monotonic() - started
