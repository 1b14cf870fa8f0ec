"""One local Cassandra node: its folders under ``var/``, its generated config and its JVM process.

Node ``i`` (1-based) listens on 127.0.0.i with the standard ports, keeps data, commit log,
hints and logs in ``var/cassandra/node<i>/`` and records its pid there. Every node is a seed
with a fixed, balanced token and ``auto_bootstrap: false``, so any start order is safe and no
node waits for a ring delay.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from string import Template

import psutil

from devcluster.distribution import REPO_ROOT, SERVER, Distribution
from devcluster.errors import LocalClusterError

VAR = REPO_ROOT / "var" / "cassandra"
STORAGE_PORT = 7000
READY_LINE = "Starting listening for CQL clients"
BATCH_SCHEDULING = ("nice", "-n", "10", "chrt", "--batch", "0")
"""The JVMs run at nice 10 under Linux's SCHED_BATCH policy (coreutils ``nice``, util-linux
``chrt``): a waking Cassandra thread does not preempt a running one, and the Gather processes
on the same cores get the CPU first. In production Cassandra has machines of its own; on a
development machine whose few cores the nodes share with the Gather processes they serve,
Cassandra's thread pools, which wake constantly (idle workers poll every 10 us to 1 ms) and
take whatever CPU is free, would otherwise keep interrupting the web server and the tests,
and preempt a Gather thread holding the GIL, which every other thread of its process then
waits for (bench/web.py's server: at nice 0, its loop waited ~450 us per request on the send
of its answer; the sign-ups per second of bench/web.py rose from ~0.63 to ~0.87 of the raw
driver's, whose side also runs at nice 0)."""
PAUSE_THREADS = ("GC Thread#", "VM Thread")
"""The JVM threads that run a stop-the-world pause, G1's parallel workers and the VM thread
that brings every other thread to the safepoint (their names as ``/proc`` has them). They run
at the Gather processes' priority (nice 0, ``SCHED_OTHER``; :meth:`LocalNode.prioritise_pauses`)
while the rest of the JVM stays at :data:`BATCH_SCHEDULING`: at nice 10 they got the CPU only
between the Gather processes' slices, and a young collection, which stops the whole node,
took 200 to 430 ms instead of 10 to 70 (bench/README.md, sms). They wake only for a pause, so
this takes nothing from the Gather processes the rest of the time. The JVM creates them at
start-up (``-XX:-UseDynamicNumberOfGCThreads``, jvm17.options)."""

_IN_VAR = re.compile(r"/var/cassandra/node[0-9]+/conf/cassandra\.yaml$")
"""Where a node of a Gather checkout keeps its config (any other node is not one of ours)."""


def thread_names(process: psutil.Process) -> Iterator[tuple[int, str]]:
    """Each live thread of ``process``: its id and its name as ``/proc`` has it (threads that
    end while this runs are left out)."""
    for thread in process.threads():
        try:
            yield thread.id, Path(f"/proc/{process.pid}/task/{thread.id}/comm").read_text()
        except FileNotFoundError:
            continue


@dataclass(frozen=True)
class Launch:
    """A JVM just started by :meth:`LocalNode.start`."""

    process: subprocess.Popen[bytes]
    log_offset: int
    """The size of system.log before the start: what follows is this run's."""

    def exit_status(self) -> str | None:
        """How the JVM ended (``exit status 1``, ``killed by SIGKILL``), or None if it runs."""
        code = self.process.poll()
        if code is None:
            return None
        if code < 0:
            try:
                return f"killed by {signal.Signals(-code).name}"
            except ValueError:  # a real-time signal has no name
                return f"killed by signal {-code}"
        return f"exit status {code}"


def balanced_token(index: int, count: int) -> int:
    """The Murmur3 token of node ``index`` of ``count``, evenly spread over the ring."""
    return -(2**63) + (index - 1) * (2**64 // count)


@dataclass(frozen=True)
class LocalNode:
    """Paths, addresses and process control for local node ``index``."""

    index: int
    count: int
    cluster_name: str
    native_port: int
    heap_mb: int
    replication_factor: int
    var: Path = VAR
    """The folder holding every node's folder: this checkout's, or that of the checkout whose
    nodes of the same cluster are running (see :func:`running_var`)."""

    @property
    def name(self) -> str:
        return f"node{self.index}"

    @property
    def address(self) -> str:
        return f"127.0.0.{self.index}"

    @property
    def jmx_port(self) -> int:
        return 7099 + 100 * self.index

    @property
    def home(self) -> Path:
        return self.var / self.name

    @property
    def log_file(self) -> Path:
        return self.home / "logs" / "system.log"

    @property
    def stdout_file(self) -> Path:
        return self.home / "logs" / "stdout.log"

    @property
    def pid_file(self) -> Path:
        return self.home / "pid"

    @property
    def config_file(self) -> Path:
        return self.home / "conf" / "cassandra.yaml"

    def write_config(self) -> None:
        """Generate cassandra.yaml and logback.xml for this node from devcluster/server/'s."""
        for folder in ("conf", "data", "logs"):
            (self.home / folder).mkdir(parents=True, exist_ok=True)
        seeds = ",".join(f"127.0.0.{i}:{STORAGE_PORT}" for i in range(1, self.count + 1))
        yaml_text = Template((SERVER / "cassandra.yaml.in").read_text()).substitute(
            index=self.index,
            cluster_name=self.cluster_name,
            initial_token=balanced_token(self.index, self.count),
            replication_factor=min(self.replication_factor, self.count),
            seeds=seeds,
            address=self.address,
            storage_port=STORAGE_PORT,
            native_port=self.native_port,
            storage_dir=self.home / "data",
        )
        self.config_file.write_text(yaml_text)
        (self.home / "conf" / "logback.xml").write_text((SERVER / "logback.xml").read_text())

    def jvm_command(self, dist: Distribution) -> list[str]:
        """The full java command line that runs this node."""
        options = [
            line.strip()
            for line in (SERVER / "jvm17.options").read_text().splitlines()
            if line.strip() and not line.startswith("#")
        ]
        new_gen = max(64, self.heap_mb // 4)
        return [
            str(dist.java),
            f"-Xms{self.heap_mb}M",
            f"-Xmx{self.heap_mb}M",
            f"-Xmn{new_gen}M",
            *options,
            f"-Dcassandra.config=file://{self.config_file}",
            f"-Dcassandra.storagedir={self.home / 'data'}",
            f"-Dcassandra.logdir={self.home / 'logs'}",
            f"-Dlogback.configurationFile={self.home / 'conf' / 'logback.xml'}",
            f"-Dcassandra.jmx.local.port={self.jmx_port}",
            f"-Djna.tmpdir={self.home / 'tmp'}",
            f"-Djava.io.tmpdir={self.home / 'tmp'}",
            f"-XX:HeapDumpPath={self.home / 'logs'}",
            "-cp",
            dist.classpath,
            "org.apache.cassandra.service.CassandraDaemon",
        ]

    def process(self) -> psutil.Process | None:
        """The running JVM of this node, or None (a stale pid file is ignored).

        A Cassandra node of the same cluster already serving this node's address (started
        from another checkout, say) counts as this node, so ``up`` reuses it.
        """
        try:
            pid = int(self.pid_file.read_text())
            proc = psutil.Process(pid)
            if proc.is_running() and str(self.config_file) in " ".join(proc.cmdline()):
                return proc
        except (FileNotFoundError, ValueError, psutil.Error):
            pass
        return self._serving_elsewhere()

    def _serving_elsewhere(self) -> psutil.Process | None:
        holder = _listener(self.address, self.native_port)
        if holder is None or _cluster_config(holder, self.cluster_name) is None:
            return None
        return holder

    def check_ports_free(self) -> None:
        """Fail, naming the holder, if another process already has one of this node's ports."""
        for port in (STORAGE_PORT, self.native_port, self.jmx_port):
            host = "127.0.0.1" if port == self.jmx_port else self.address
            with socket.socket() as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    sock.bind((host, port))
                except OSError:
                    raise LocalClusterError(
                        f"{self.name}: port {host}:{port} is already in use by "
                        f"{_port_holder(host, port)}; stop that process or change cluster.yaml"
                    ) from None

    def start(self, dist: Distribution) -> Launch:
        """Launch the JVM in its own session."""
        self.write_config()
        (self.home / "tmp").mkdir(exist_ok=True)
        self.check_ports_free()
        log_offset = self.log_file.stat().st_size if self.log_file.exists() else 0
        if shutil.which("chrt") is None:
            raise LocalClusterError("chrt is not installed (Debian: apt-get install util-linux)")
        with open(self.stdout_file, "ab") as out:
            proc = subprocess.Popen(
                [*BATCH_SCHEDULING, *self.jvm_command(dist)],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.home,
                start_new_session=True,
                env={**os.environ, "MALLOC_ARENA_MAX": "4", "JAVA_HOME": str(dist.java_home)},
            )
        self.pid_file.write_text(f"{proc.pid}\n")
        return Launch(proc, log_offset)

    def prioritise_pauses(self) -> None:
        """Put the running JVM's :data:`PAUSE_THREADS` at normal priority.

        Raises PermissionError when this user may not raise a thread's priority (which takes
        root or ``CAP_SYS_NICE``)."""
        process = self.process()
        if process is None:
            return
        for thread_id, name in thread_names(process):
            if name.startswith(PAUSE_THREADS):
                try:
                    os.sched_setscheduler(thread_id, os.SCHED_OTHER, os.sched_param(0))
                    os.setpriority(os.PRIO_PROCESS, thread_id, 0)
                except ProcessLookupError:
                    pass  # the thread ended meanwhile

    def accepts_cql(self) -> bool:
        """True when the node's native transport port accepts a connection."""
        try:
            with socket.create_connection((self.address, self.native_port), timeout=1):
                return True
        except OSError:
            return False

    def log_since(self, offset: int) -> str:
        """What system.log holds after ``offset``; all of it when the log is shorter than
        that (logback rolled it over to an archive, as it does on the first line of a day)."""
        try:
            with open(self.log_file, "rb") as log:
                log.seek(offset if log.seek(0, os.SEEK_END) >= offset else 0)
                return log.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        """The last lines of system.log (or of stdout.log when the JVM died before logging)."""
        text = ""
        for path in (self.log_file, self.stdout_file):
            if path.exists():
                text += f"--- {path} ---\n" + "\n".join(
                    path.read_text(errors="replace").splitlines()[-lines:]
                )
                text += "\n"
        return text or f"(no log in {self.home / 'logs'})"

    def stop(self, timeout: float = 60.0) -> bool:
        """SIGTERM the JVM and wait (SIGKILL after ``timeout``); False if it was not running."""
        proc = self.process()
        if proc is None:
            return False
        proc.terminate()
        try:
            proc.wait(timeout)
        except psutil.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        self.pid_file.unlink(missing_ok=True)
        return True

    def kill(self) -> bool:
        """SIGKILL the JVM, as a crash would; False if not running."""
        proc = self.process()
        if proc is None:
            return False
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        self.pid_file.unlink(missing_ok=True)
        return True


def _listener(host: str, port: int) -> psutil.Process | None:
    """The process listening on host:port (or on every address at that port), if any."""
    try:
        for conn in psutil.net_connections("tcp"):
            address = conn.laddr
            if conn.status != psutil.CONN_LISTEN or not conn.pid or len(address) != 2:
                continue  # (an empty address: not bound)
            if address.port == port and address.ip in (host, "0.0.0.0", "::"):
                return psutil.Process(conn.pid)
    except psutil.Error:
        pass
    return None


def _port_holder(host: str, port: int) -> str:
    holder = _listener(host, port)
    if holder is None:
        return "another process"
    try:
        return f"pid {holder.pid} ({' '.join(holder.cmdline())[:80]})"
    except psutil.Error:
        return f"pid {holder.pid}"


def running_var(addresses: list[str], native_port: int, cluster_name: str) -> Path | None:
    """The ``var`` folder of the first running node of ``cluster_name`` found at one of
    ``addresses`` (started from this checkout or another), or None when none runs.

    Restarting a node must reuse its own data folder: a node started from an empty one would
    claim the address with a new host id, and the others would refuse it.
    """
    for address in addresses:
        holder = _listener(address, native_port)
        config = None if holder is None else _cluster_config(holder, cluster_name)
        if config is not None and _IN_VAR.search(config.as_posix()):
            return config.parents[2]  # <checkout>/var/cassandra/node<i>/conf/cassandra.yaml
    return None


def _cluster_config(process: psutil.Process, cluster_name: str) -> Path | None:
    """The cassandra.yaml of ``process`` if it is a Cassandra node of ``cluster_name``."""
    try:
        command = " ".join(process.cmdline())
        config = re.search(r"-Dcassandra\.config=file://(\S+)", command)
        if "CassandraDaemon" not in command or config is None:
            return None
        path = Path(config.group(1))
        text = path.read_text()
    except (psutil.Error, OSError):
        return None
    return path if f"cluster_name: {cluster_name}\n" in text else None
