"""The operator shell: ``python run_node.py --attach NAME`` (Erlang's ``-remsh`` for Gather).

It connects to a running node over the node link as a ``shell`` peer, proves it knows the
cluster cookie, and sends commands; the node answers with plain data and this module turns
it into text. ``-c "COMMAND"`` runs one command and exits (status 1 if it failed), for
scripts: each row of ``tree`` and ``nodes`` is one line of whitespace-separated columns.
"""

from __future__ import annotations

import asyncio
import cmd
import itertools
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from node.errors import decode_error, describe
from node.frames import FrameDecoder, FrameError, encode
from node.handshake import client_handshake
from node.operator import SCREEN_TYPES
from node.wire import from_wire

HISTORY = Path.home() / ".gather_shell_history"
COMMAND_TIMEOUT_S = 30.0
REPORT_POLL_S = 0.5


class ShellError(RuntimeError):
    """The node could not be reached, refused the shell, or a command failed."""


class ShellConnection:
    """An authenticated shell connection to one node."""

    def __init__(self, host: str, port: int, cookie: bytes, tls: Any = None) -> None:
        self._loop = asyncio.new_event_loop()
        self._ids = itertools.count(1)
        self._decoder = FrameDecoder()
        try:
            self._reader, self._writer, self.node = self._loop.run_until_complete(
                self._connect(host, port, cookie, tls)
            )
        except (OSError, TimeoutError, FrameError) as exc:
            raise ShellError(f"cannot attach to {host}:{port}: {exc}") from None

    async def _connect(self, host: str, port: int, cookie: bytes, tls: Any) -> tuple:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=tls), COMMAND_TIMEOUT_S
        )
        name = await asyncio.wait_for(
            client_handshake(reader, writer, cookie, f"shell-{os.getpid()}", None, "shell"),
            COMMAND_TIMEOUT_S,
        )
        return reader, writer, name

    def call(self, name: str, *args: Any) -> Any:
        """Run one command on the node and return its answer (raise ShellError on failure)."""
        return self._loop.run_until_complete(
            asyncio.wait_for(self._call(name, list(args)), COMMAND_TIMEOUT_S)
        )

    async def _call(self, name: str, args: list[Any]) -> Any:
        command_id = next(self._ids)
        self._writer.write(encode(["cmd", command_id, name, args]))
        while True:
            data = await self._reader.read(256 * 1024)
            if not data:
                raise ShellError(f"node {self.node} closed the connection")
            for frame in self._decoder.feed(data):
                if frame[0] == "result" and frame[1] == command_id:
                    if frame[2]:
                        return from_wire(frame[3])
                    raise ShellError(describe(decode_error(frame[3])))

    def close(self) -> None:
        self._writer.close()
        self._loop.close()


def _address_and_message(line: str) -> tuple[str, Any]:
    address, _, text = line.strip().partition(" ")
    if not address or not text:
        raise ValueError("expected an address ([NODE/]PATH) and a message")
    try:
        return address, json.loads(text)
    except json.JSONDecodeError:
        return address, text


def format_tree(rows: list[dict[str, Any]]) -> str:
    """One line per actor: path, kind, state, restarts, mailbox, handled, uptime, last failure."""
    header = ("PATH", "KIND", "STATE", "RESTARTS", "MAILBOX", "HANDLED", "UPTIME_S", "LAST_FAILURE")
    lines = [header]
    for row in rows:
        failure = row.get("last_failure")
        lines.append(
            (
                row["path"],
                row["kind"],
                row["state"],
                str(row["restarts"]),
                str(row["mailbox"]),
                str(row["handled"]),
                f"{row['uptime']:.1f}",
                _failure_text(failure),
            )
        )
    return _columns(lines)


def format_nodes(rows: list[dict[str, Any]]) -> str:
    """One line per peer: name, address, state, since, connects, rtt, last error."""
    lines = [("NODE", "ADDRESS", "STATE", "SINCE", "CONNECTS", "RTT_MS", "LAST_ERROR")]
    for row in rows:
        rtt = row.get("rtt_ms")
        lines.append(
            (
                row["name"],
                row["address"],
                row["state"],
                time.strftime("%H:%M:%S", time.localtime(row["since"])),
                str(row["connects"]),
                f"{rtt:.2f}" if rtt is not None else "-",
                row.get("last_error") or "-",
            )
        )
    return _columns(lines)


def format_hosts(rows: list[dict[str, Any]]) -> str:
    """The driver's view of each Cassandra host."""
    lines = [("HOST", "STATE", "DATACENTER", "RACK")]
    lines += [
        (
            r["address"],
            "UP" if r["up"] else "DOWN",
            r.get("datacenter") or "-",
            r.get("rack") or "-",
        )
        for r in rows
    ]
    return _columns(lines)


def screen_file_name(image: dict[str, Any]) -> str:
    """``screen-<node>-<YYYYmmdd-HHMMSS>.<png|jpg>``: where ``screen`` saves a picture (the
    answer of the ``screen`` command) when not told, named by the time it was taken."""
    taken = time.strftime("%Y%m%d-%H%M%S", time.localtime(image["taken_at"]))
    return f"screen-{image['node']}-{taken}.{SCREEN_TYPES[image['content_type']]}"


def _failure_text(failure: dict[str, Any] | None) -> str:
    if not failure:
        return "-"
    when = time.strftime("%H:%M:%S", time.localtime(failure["time"]))
    return f"{when} {failure['type']}: {failure['message']}"


def format_progress(run: dict[str, Any]) -> str:
    """One line of a running report: ranges done of all, rows, workers."""
    return (
        f"{run['state']}: {run['ranges_done']}/{run['ranges_total']} ranges, "
        f"{run['rows']} rows, {run['workers']} workers"
        + (f", {run['reassigned']} ranges handed out again" if run["reassigned"] else "")
    )


def format_report(run: dict[str, Any]) -> str:
    """A finished run's summary and tables (the rows the node sent of each)."""
    result = run["result"] or {}
    lines = [format_progress(run)]
    lines += [f"{label}: {value}" for label, value in result.get("summary", ())]
    for table in result.get("tables", ()):
        rows = table["rows"]
        total = table.get("total_rows", len(rows))
        lines += ["", f"{table['title']} ({total} rows)"]
        if rows:
            shown = [tuple(map(str, table["columns"])), *(tuple(map(str, row)) for row in rows)]
            lines.append(_columns(shown))
        if total > len(rows):
            lines.append(f"... {total - len(rows)} more: the Reports page has them all, as CSV")
    return "\n".join(lines)


def _columns(lines: Sequence[tuple[str, ...]]) -> str:
    """``lines`` as aligned columns (the last one unpadded)."""
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=False))
        + "  "
        + line[-1]
        for line in lines
    )


class OperatorShell(cmd.Cmd):
    """The interactive shell: line editing, history and tab completion come from readline."""

    intro = "Attached. Type 'help' for the commands, Ctrl-D to detach."

    def __init__(self, connection: ShellConnection) -> None:
        super().__init__()
        self.connection = connection
        self.prompt = f"({connection.node}) "
        self.failed = False
        self._paths: list[str] = []

    def run_one(self, line: str) -> bool:
        """Run a single command line; True when it succeeded."""
        self.onecmd(line)
        return not self.failed

    def onecmd(self, line: str) -> bool:
        self.failed = False
        try:
            return bool(super().onecmd(line))
        except ShellError as exc:
            self.failed = True
            print(f"error: {exc}")
        except (ValueError, json.JSONDecodeError) as exc:
            self.failed = True
            print(f"error: {exc}")
        return False

    def default(self, line: str) -> None:
        self.failed = True
        print(f"unknown command {line.split()[0]!r}; type 'help'")

    def emptyline(self) -> bool:
        return False

    def do_tree(self, _: str) -> None:
        """tree: the live supervision tree with state, restarts, last failure, mailbox, uptime."""
        rows = self.connection.call("tree")
        self._paths = [row["path"] for row in rows]
        print(format_tree(rows))

    def do_info(self, path: str) -> None:
        """info PATH: everything known about one actor."""
        for key, value in self.connection.call("info", self._path(path)).items():
            print(f"{key}: {value}")

    def do_restart(self, path: str) -> None:
        """restart PATH: stop the actor and let its supervisor start it again."""
        print(self.connection.call("restart", self._path(path)))

    def do_stop(self, path: str) -> None:
        """stop PATH: stop the actor; it stays stopped until restart or delete (temporary: gone)."""
        print(self.connection.call("stop", self._path(path)))

    def do_delete(self, path: str) -> None:
        """delete PATH: remove a stopped actor from the tree, its name and its spec."""
        print(self.connection.call("delete", self._path(path)))

    def do_crash(self, path: str) -> None:
        """crash PATH: inject a failure into the actor, to drill its supervision."""
        print(self.connection.call("crash", self._path(path)))

    def do_nodes(self, _: str) -> None:
        """nodes: the node link's state towards each peer."""
        print(format_nodes(self.connection.call("nodes")))

    def do_reload(self, _: str) -> None:
        """reload: read cluster.yaml again; other nodes added, removed or changed apply at once,
        what needs a restart is listed (SIGHUP to the node does the same)."""
        answer = self.connection.call("reload")
        print("\n".join([f"reloaded {answer['config']}", *answer["report"]]))

    def do_screen(self, line: str) -> None:
        """screen [NODE] [FILE]: save a picture of NODE's kiosk screen (default: this node's) to
        FILE (default: screen-NODE-TIME.png or .jpg here); sign-up screens come masked."""
        args = line.split()
        if len(args) > 2:
            raise ValueError("expected: screen [NODE] [FILE]")
        image = self.connection.call("screen", *args[:1])
        path = Path(args[1] if len(args) == 2 else screen_file_name(image))
        try:
            path.write_bytes(image["data"])
        except OSError as exc:
            raise ShellError(f"cannot save the picture to {path}: {exc}") from None
        masked = "masked" if image["masked"] else "not masked"
        print(
            f"saved {path}: {len(image['data'])} bytes, {image['width']}x{image['height']}, "
            f"screen {image['screen']} ({masked})"
        )

    def do_tap(self, line: str) -> None:
        """tap [@NODE] LABEL: press the button LABEL on NODE's kiosk screen (default: this
        node's), as a finger would; 'ask [NODE/]root/kiosk/ui "view"' lists the buttons."""
        node, label = None, line.strip()
        if label.startswith("@"):
            node, _, label = label[1:].partition(" ")
        if not label.strip():
            raise ValueError("expected: tap [@NODE] LABEL")
        print(self.connection.call("tap", label.strip(), node))

    def do_cassandra(self, _: str) -> None:
        """cassandra: the driver's view of each Cassandra host, up or down."""
        print(format_hosts(self.connection.call("cassandra")))

    def do_send(self, line: str) -> None:
        """send [NODE/]PATH MESSAGE: tell MESSAGE (JSON, or plain text) to an actor."""
        print(self.connection.call("send", *_address_and_message(line)))

    def do_ask(self, line: str) -> None:
        """ask [NODE/]PATH MESSAGE: ask an actor (here or on another node), print the answer."""
        print(self.connection.call("ask", *_address_and_message(line)))

    def do_broadcast(self, line: str) -> None:
        """broadcast PATH MESSAGE: tell MESSAGE to PATH on every node that is up."""
        print(" ".join(self.connection.call("broadcast", *_address_and_message(line))))

    def do_ping(self, node: str) -> None:
        """ping NODE: a round trip over the node link to NODE's diagnostics actor."""
        answer = self.connection.call("ping", node.strip())
        print(f"pong from {answer['node']} in {answer['rtt_ms']} ms")

    def do_logs(self, count: str) -> None:
        """logs [N]: the node's last N log lines (default 50)."""
        print("\n".join(self.connection.call("logs", int(count or 50))))

    def do_report(self, line: str) -> None:
        """report [NAME [WORKERS]]: run report NAME over the worker nodes (at most WORKERS of
        their workers), showing its progress, then its result; without NAME, list the reports."""
        args = line.split()
        if not args:
            print(_columns([(r["name"], r["title"]) for r in self.connection.call("reports")]))
            return
        if len(args) > 2 or (len(args) == 2 and not args[1].isdigit()):
            raise ValueError("expected: report [NAME [WORKERS]]")
        run = self.connection.call("report", args[0], int(args[1]) if len(args) == 2 else 0)
        print(f"report {run['report']}: run {run['run_id']} coordinated by {run['node']}")
        while run["state"] == "running":
            time.sleep(REPORT_POLL_S)
            run = self.connection.call("report_status", run["report"], run["run_id"], run["node"])
            print(format_progress(run), flush=True)
        if run["state"] != "done":
            raise ShellError(f"report {run['report']} {run['state']}: {run['error']}")
        print(format_report(run))

    def do_exit(self, _: str) -> bool:
        """exit: detach (Ctrl-D does the same)."""
        return True

    do_EOF = do_exit

    def _path(self, path: str) -> str:
        path = path.strip()
        if not path:
            raise ValueError("this command needs an actor PATH; see 'tree'")
        return path

    def completenames(self, text: str, *ignored: Any) -> list[str]:
        return [name for name in super().completenames(text, *ignored) if name != "EOF"]

    def completedefault(self, text: str, line: str, *_: Any) -> list[str]:
        if not self._paths:
            try:
                self._paths = [row["path"] for row in self.connection.call("tree")]
            except ShellError:
                return []
        return [path for path in self._paths if path.startswith(text)]


def attach(host: str, port: int, cookie: bytes, command: str | None, tls: Any = None) -> int:
    """Attach to the node at host:port; run ``command`` or the interactive shell."""
    try:
        connection = ShellConnection(host, port, cookie, tls)
    except ShellError as exc:
        print(f"error: {exc}")
        return 1
    shell = OperatorShell(connection)
    try:
        if command is not None:
            return 0 if shell.run_one(command) else 1
        _load_history()
        shell.cmdloop()
        return 0
    finally:
        _save_history()
        connection.close()


def _load_history() -> None:
    try:
        import readline

        readline.set_completer_delims(" \t\n")
        if HISTORY.exists():
            readline.read_history_file(HISTORY)
    except (ImportError, OSError):
        pass


def _save_history() -> None:
    try:
        import readline

        readline.set_history_length(1000)
        readline.write_history_file(HISTORY)
    except (ImportError, OSError):
        pass
