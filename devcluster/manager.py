"""The local Cassandra cluster that cluster.yaml describes: bring it up, inspect it, take it down.

``up`` is idempotent: running nodes are reused, missing ones started (node 1 first, then the
rest together), and it returns only when every node accepts CQL and sees every other node UP
(as ``nodetool status`` on that node reports it). When nodes of the cluster are running from
another checkout, every node is reused and started from that checkout's data folder. Whatever
``up`` started is stopped again when it fails, so a failed ``up`` leaves no half-started node
behind.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from config.cluster import ClusterConfig
from devcluster import distribution, settings
from devcluster.distribution import SERVER, Distribution
from devcluster.errors import LocalClusterError
from devcluster.node import READY_LINE, VAR, Launch, LocalNode, running_var
from devcluster.settings import LocalSettings

NODE_START_TIMEOUT_S = 180.0
GOSSIP_TIMEOUT_S = 90.0
_STATUS_LINE = re.compile(r"^([UD])([NLJM])\s+(\d+\.\d+\.\d+\.\d+)\s", re.MULTILINE)


@dataclass(frozen=True)
class NodeStatus:
    """What ``status`` reports for one node."""

    name: str
    address: str
    pid: int | None
    state: str  # UP / DOWN as the cluster's gossip sees it; STOPPED when no process runs
    heap_used_mb: float | None
    heap_max_mb: int
    rss_mb: float | None


class LocalCluster:
    """The N local nodes of cluster.yaml's ``cassandra.local`` section."""

    def __init__(
        self,
        config: ClusterConfig,
        local: LocalSettings | None = None,
        say: Callable[[str], None] = print,
    ) -> None:
        """``local`` defaults to the ``cassandra.local`` section of ``config``'s file."""
        local = local or settings.load(config)
        self.config = config
        nodes = [
            LocalNode(
                index=i,
                count=local.nodes,
                cluster_name=config.name,
                native_port=config.cassandra.port,
                heap_mb=local.heap_mb,
                replication_factor=config.cassandra.replication_factor,
            )
            for i in range(1, local.nodes + 1)
        ]
        self.var = (
            running_var([node.address for node in nodes], config.cassandra.port, config.name) or VAR
        )
        self.nodes = [replace(node, var=self.var) for node in nodes]
        self._say = say
        self._dist: Distribution | None = None

    @property
    def dist(self) -> Distribution:
        if self._dist is None:
            self._dist = distribution.ensure()
        return self._dist

    def node(self, name: str) -> LocalNode:
        """The node called ``name`` (``node2``, ``2`` or ``127.0.0.2`` all work)."""
        for node in self.nodes:
            if name in (node.name, str(node.index), node.address):
                return node
        raise LocalClusterError(
            f"no local node {name!r}; the nodes are {', '.join(n.name for n in self.nodes)}"
        )

    def up(self) -> None:
        """Start every node that is not running and wait until the whole cluster is ready."""
        dist = self.dist
        started: list[LocalNode] = []
        try:
            first, rest = self.nodes[0], self.nodes[1:]
            for group in ([first], rest):
                pending = {}
                for node in group:
                    if node.process() is None:
                        self._say(f"{node.name} {node.address}: starting")
                        pending[node.name] = (node, node.start(dist))
                        started.append(node)
                    else:
                        self._say(f"{node.name} {node.address}: already running, reused")
                        self._prioritise_pauses(node)
                for node, launch in pending.values():
                    self._wait_ready(node, launch)
            self._wait_gossip()
        except BaseException:
            for node in started:
                node.stop(timeout=20)
            raise

    def start(self, name: str) -> None:
        """Start one node (after ``kill`` or ``stop``) and wait until the cluster sees it UP."""
        node = self.node(name)
        if node.process() is not None:
            self._say(f"{node.name}: already running")
            return
        self._say(f"{node.name} {node.address}: starting")
        launch = node.start(self.dist)
        try:
            self._wait_ready(node, launch)
            self._wait_gossip()
        except BaseException:
            node.stop(timeout=20)
            raise

    def stop(self, name: str | None = None) -> None:
        """Stop one node, or every node in reverse order, gracefully (data kept)."""
        for node in [self.node(name)] if name else reversed(self.nodes):
            self._say(f"{node.name}: {'stopped' if node.stop() else 'was not running'}")

    def kill(self, name: str) -> None:
        """SIGKILL one node, as a crash would."""
        node = self.node(name)
        self._say(f"{node.name}: {'killed' if node.kill() else 'was not running'}")

    def down(self) -> None:
        """Stop every node; the data stays for the next ``up``."""
        self.stop()

    def wipe(self) -> None:
        """Stop every node and delete all their data and logs (this checkout's only)."""
        if self.var != VAR:
            raise LocalClusterError(
                f"the running nodes keep their data in {self.var}, another checkout's: "
                "wipe from that checkout, or stop them there first"
            )
        self.stop()
        shutil.rmtree(VAR, ignore_errors=True)
        self._say(f"removed {VAR}")

    def status(self) -> list[NodeStatus]:
        """Address, pid, state as gossip sees it, heap and RSS of every node."""
        views = {}
        for node in self.nodes:
            if node.process() is not None:
                views = self.gossip_view(node)
                if views:
                    break
        result = []
        for node in self.nodes:
            proc = node.process()
            if proc is None:
                state = "STOPPED"
            else:
                state = "UP" if views.get(node.address) == "UN" else "DOWN"
            result.append(
                NodeStatus(
                    name=node.name,
                    address=node.address,
                    pid=proc.pid if proc else None,
                    state=state,
                    heap_used_mb=self._heap_used_mb(proc.pid) if proc else None,
                    heap_max_mb=node.heap_mb,
                    rss_mb=proc.memory_info().rss / 2**20 if proc else None,
                )
            )
        return result

    def gossip_view(self, node: LocalNode) -> dict[str, str]:
        """``nodetool status`` on ``node``: address -> two-letter state (``UN``, ``DN``...);
        empty when nodetool cannot reach the node."""
        try:
            out = self.nodetool(node, "status")
        except LocalClusterError:
            return {}
        return {m.group(3): m.group(1) + m.group(2) for m in _STATUS_LINE.finditer(out)}

    def mbean_attribute(self, node: LocalNode, mbean: str, attribute: str) -> str:
        """One attribute of one of ``node``'s MBeans, read over JMX (nodetool's ``sjk mx``)."""
        out = self.nodetool(node, "sjk", "mx", "-b", mbean, "-mg", "-f", attribute)
        value = out.splitlines()[1:]  # sjk prints the MBean's name first
        if not value:
            raise LocalClusterError(f"{node.name}: {mbean} has no attribute {attribute!r}")
        return "\n".join(value).strip()

    def set_mbean_attribute(self, node: LocalNode, mbean: str, attribute: str, value: str) -> None:
        """Set an MBean attribute on ``node`` over JMX and read it back (sjk is silent when the
        MBean refuses a value), failing if it did not take."""
        self.nodetool(node, "sjk", "mx", "-b", mbean, "-ms", "-f", attribute, "-v", value)
        now = self.mbean_attribute(node, mbean, attribute)
        if now != value:
            raise LocalClusterError(
                f"{node.name}: {mbean} {attribute} is {now!r} after setting it to {value!r}"
            )

    def nodetool(self, node: LocalNode, *args: str) -> str:
        """Run ``nodetool ARGS`` against ``node``; its output, or LocalClusterError if it fails."""
        options = [
            line
            for line in (SERVER / "jvm17.options").read_text().splitlines()
            if line.startswith("--add-")
        ]
        result = subprocess.run(
            [
                str(self.dist.java),
                "-Xmx128m",
                "-XX:TieredStopAtLevel=1",
                "-XX:+UseSerialGC",
                *options,
                f"-Dlogback.configurationFile={SERVER / 'logback-tools.xml'}",
                f"-Dcassandra.storagedir={node.home / 'data'}",
                "-cp",
                self.dist.classpath,
                "org.apache.cassandra.tools.NodeTool",
                "-h",
                "127.0.0.1",
                "-p",
                str(node.jmx_port),
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if result.returncode != 0:
            tail = "\n".join((result.stdout + result.stderr).splitlines()[-5:])
            raise LocalClusterError(f"{node.name}: nodetool {' '.join(args)} failed:\n{tail}")
        return result.stdout

    def _heap_used_mb(self, pid: int) -> float | None:
        jcmd = self.dist.java_home / "bin" / "jcmd"
        try:
            out = subprocess.run(
                [str(jcmd), str(pid), "GC.heap_info"],
                capture_output=True,
                text=True,
                timeout=20,
                check=False,
            ).stdout
        except (OSError, subprocess.TimeoutExpired):
            return None
        match = re.search(r"used (\d+)K", out)
        return int(match.group(1)) / 1024 if match else None

    def _wait_ready(self, node: LocalNode, launch: Launch) -> None:
        deadline = time.monotonic() + NODE_START_TIMEOUT_S
        started = time.monotonic()
        while time.monotonic() < deadline:
            if (ended := launch.exit_status()) is not None:
                raise LocalClusterError(
                    f"{node.name} ({node.address}) exited during start-up ({ended}).\n"
                    f"{node.log_tail()}"
                )
            if READY_LINE in node.log_since(launch.log_offset) and node.accepts_cql():
                self._prioritise_pauses(node)
                self._say(
                    f"{node.name} {node.address}: accepts CQL ({time.monotonic() - started:.0f} s)"
                )
                return
            time.sleep(0.5)
        raise LocalClusterError(
            f"{node.name} ({node.address}) did not accept CQL within "
            f"{NODE_START_TIMEOUT_S:.0f} s.\n{node.log_tail()}"
        )

    def _prioritise_pauses(self, node: LocalNode) -> None:
        try:
            node.prioritise_pauses()
        except PermissionError as exc:
            self._say(
                f"{node.name}: its GC threads stay at nice 10 ({exc.strerror}), so its pauses "
                "run longer; run as root or with CAP_SYS_NICE"
            )

    def _wait_gossip(self) -> None:
        addresses = {node.address for node in self.nodes}
        deadline = time.monotonic() + GOSSIP_TIMEOUT_S
        waiting = list(self.nodes)
        while waiting and time.monotonic() < deadline:
            view = self.gossip_view(waiting[0])
            if all(view.get(address) == "UN" for address in addresses):
                self._say(f"{waiting[0].name}: sees all {len(addresses)} nodes UP")
                waiting.pop(0)
            else:
                time.sleep(1)
        if waiting:
            node = waiting[0]
            seen = self.gossip_view(node) or "nothing: nodetool failed"
            raise LocalClusterError(
                f"{node.name} does not see every node UP after {GOSSIP_TIMEOUT_S:.0f} s "
                f"(it sees {seen}).\n{node.log_tail()}"
            )
