"""The operator shell's commands, run on the node; each answers with plain data.

``node/shell.py`` sends ``[name, args]`` over the link and turns the answer into text. The
asking side of a kiosk's screen picture (:func:`request_screen`, :func:`screen_image`) is
here too: the shell's ``screen`` and the management UI's cluster page share it.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import time
from typing import TYPE_CHECKING, Any

from actors.errors import InvalidOperation
from node.context import NodeContext
from node.diagnostics import Ping
from node.errors import LinkError, PeerUnavailable
from node.screens import DEFAULT_MAX_BYTES, KIOSK_UI, ScreenImage, ScreenRequest, TapButton
from reports import catalog
from reports.messages import RunStatus, StartReport
from reports.runner import RUNNER, coordinator_node
from supervision.introspection import ActorInfo

if TYPE_CHECKING:
    from node.link import NodeLink

SCREEN_TIMEOUT_S = 10.0
REPORT_ROWS = 20
"""Rows of each table a report's status sends the shell (the Reports page has them all)."""
"""How long the shell waits for a kiosk's picture (it is drawn, scaled and compressed)."""
SCREEN_TYPES = {"image/png": "png", "image/jpeg": "jpg"}
"""The pictures a kiosk may answer with, and their file name extensions."""
MIN_SCREEN_BYTES = 1024
"""The smallest ``max_bytes`` an operator may ask for."""


def screen_limit(context: NodeContext) -> int:
    """What a picture is squeezed into by default: a quarter of the link's frame limit, at
    most :data:`node.screens.DEFAULT_MAX_BYTES`."""
    return min(context.config.link.max_frame_bytes // 4, DEFAULT_MAX_BYTES)


def kiosk_node(context: NodeContext, node: str | None) -> str:
    """``node`` (this node when None), checked to be a kiosk of cluster.yaml; raises
    :class:`InvalidOperation` naming what it is not."""
    target = node or context.name
    entry = context.config.nodes.get(target)
    if entry is None:
        raise InvalidOperation(f"no node named {target!r} in cluster.yaml")
    if "kiosk" not in entry.roles:
        roles = ", ".join(entry.roles) or "none"
        raise InvalidOperation(f"node {target} has no kiosk role (its roles: {roles})")
    return target


def request_screen(
    context: NodeContext,
    node: str | None = None,
    max_bytes: int | None = None,
    timeout: float = SCREEN_TIMEOUT_S,
) -> concurrent.futures.Future[Any]:
    """Ask the kiosk UI of ``node`` (this node when None) for a picture of its screen of at
    most ``max_bytes`` (by default :func:`screen_limit`); the future of the answer, for
    :func:`screen_image`. Thread-safe; it does not wait.

    Raises :class:`InvalidOperation` for a node not in cluster.yaml, one without the kiosk
    role or a ``max_bytes`` out of range, and :class:`PeerUnavailable` for a node that is down.
    """
    target = kiosk_node(context, node)
    config = context.config
    limit = screen_limit(context)
    if max_bytes is not None:
        ceiling = config.link.max_frame_bytes // 2
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int):
            raise InvalidOperation(f"max_bytes: expected a whole number, got {max_bytes!r}")
        if not MIN_SCREEN_BYTES <= max_bytes <= ceiling:
            raise InvalidOperation(
                f"max_bytes: expected {MIN_SCREEN_BYTES} to {ceiling} "
                f"(half of link.max_frame_kb), got {max_bytes}"
            )
        limit = max_bytes
    link = context.require_link()
    if not link.is_up(target):
        raise PeerUnavailable(f"node {target} is down: the link to it is not up")
    return link.ask_future(target, KIOSK_UI, ScreenRequest(max_bytes=limit), timeout)


def screen_image(node: str, answer: concurrent.futures.Future[Any], timeout: float) -> ScreenImage:
    """The picture ``answer`` (from :func:`request_screen` for ``node``) brings, waiting up
    to ``timeout``; raises what the ask raised, :class:`TimeoutError`, or
    :class:`LinkError` for an answer that is not a PNG or JPEG picture."""
    try:
        image = answer.result(timeout)
    except TimeoutError:
        answer.cancel()
        raise TimeoutError(f"node {node} sent no picture within {timeout:g} s") from None
    if not isinstance(image, ScreenImage) or image.content_type not in SCREEN_TYPES:
        raise LinkError(f"node {node} did not answer with a PNG or JPEG picture")
    return image


class Operator:
    """Runs shell commands against one node's tree, link and storage."""

    def __init__(self, context: NodeContext) -> None:
        self._context = context

    def run(self, name: str, args: list[Any]) -> Any:
        """Run command ``name``; unknown names and wrong arguments raise InvalidOperation."""
        handler = getattr(self, f"cmd_{name}", None)
        if handler is None:
            raise InvalidOperation(f"unknown command {name!r}")
        try:
            return handler(*args)
        except TypeError as exc:
            raise InvalidOperation(f"{name}: wrong arguments: {exc}") from None

    def cmd_tree(self) -> list[dict[str, Any]]:
        """Every actor, depth first: path, kind, state, restarts, failure, mailbox, uptime."""
        return [_row(info) for info in self._context.require_tree().snapshot().walk()]

    def cmd_info(self, path: str) -> dict[str, Any]:
        """One actor's introspection fields and the paths of its children."""
        info = self._context.require_tree().snapshot(path)
        return {**_row(info), "children": [child.path for child in info.children]}

    def cmd_restart(self, path: str) -> str:
        self._context.require_tree().restart(path)
        return f"{path} restarted"

    def cmd_stop(self, path: str) -> str:
        self._context.require_tree().stop(path)
        return f"{path} stopped"

    def cmd_delete(self, path: str) -> str:
        """Delete a stopped child (refused while it runs or restarts)."""
        self._context.require_tree().delete_child(path)
        return f"{path} deleted"

    def cmd_crash(self, path: str) -> str:
        self._context.require_tree().crash(path)
        return f"crash injected into {path}"

    def cmd_send(self, address: str, message: Any) -> str:
        """Tell ``message`` to ``path`` here or ``node/path`` on another node."""
        link = self._link()
        link.tell(*link.resolve(address), message)
        return f"sent to {address}"

    def cmd_ask(self, address: str, message: Any, timeout: float = 5.0) -> Any:
        """Ask ``path`` here or ``node/path`` on another node; the answer."""
        link = self._link()
        return link.ask(*link.resolve(address), message, timeout=float(timeout))

    def cmd_broadcast(self, path: str, message: Any) -> list[str]:
        """Tell ``message`` to ``path`` on every node that is up; the nodes reached."""
        return self._link().broadcast(path, message)

    def cmd_ping(self, node: str) -> dict[str, Any]:
        """Ask ``node``'s diagnostics actor for a pong over the link; the round trip."""
        sent = time.time()
        pong = self._link().ask(node, "root/diagnostics", Ping(sent_at=sent))
        return {"node": pong.node, "rtt_ms": round((time.time() - sent) * 1000, 3)}

    def cmd_nodes(self) -> list[dict[str, Any]]:
        return [peer.as_data() for peer in self._link().peers()]

    def cmd_reload(self) -> dict[str, Any]:
        """Re-read cluster.yaml and apply the other nodes' entries (as SIGHUP does): the nodes
        added, removed and changed, and the keys that need a restart."""
        return self._context.reload().as_data()

    def cmd_screen(self, node: str | None = None, max_bytes: int | None = None) -> dict[str, Any]:
        """A picture of ``node``'s kiosk screen (this node's when None): the fields of its
        :class:`~node.screens.ScreenImage`, ``data`` as bytes."""
        target = node or self._context.name
        answer = request_screen(self._context, target, max_bytes)
        return dataclasses.asdict(screen_image(target, answer, SCREEN_TIMEOUT_S))

    def cmd_tap(self, label: str, node: str | None = None) -> str:
        """Press the button labelled ``label`` on ``node``'s kiosk screen (this node's when
        None), as a finger would: remote help, and tests of a kiosk process."""
        target = kiosk_node(self._context, node)
        screen = self._link().ask(target, KIOSK_UI, TapButton(label), timeout=SCREEN_TIMEOUT_S)
        return f"tapped {label!r} on {target}'s {screen} screen"

    def cmd_reports(self) -> list[dict[str, str]]:
        """Every report: its name, title and what it shows."""
        return [
            {"name": r.name, "title": r.title, "description": r.description}
            for r in catalog.all_reports()
        ]

    def cmd_report(self, name: str, workers: int = 0) -> dict[str, Any]:
        """Start report ``name`` with this node as its coordinator when it is a worker node,
        else the first worker node that is up; the run as data (poll ``report_status``)."""
        catalog.get(name)
        node = coordinator_node(self._context)
        return self._link().ask(
            node, RUNNER, StartReport(name, "shell", int(workers)), timeout=10.0
        )

    def cmd_report_status(self, name: str, run_id: str, node: str) -> dict[str, Any]:
        """Run ``run_id`` of report ``name`` as its coordinator ``node`` sees it, each table
        cut to its first ``max_rows`` rows (``total_rows`` says how many it has)."""
        run = self._link().ask(node, RUNNER, RunStatus(name, run_id), timeout=10.0)
        for table in (run.get("result") or {}).get("tables", ()):
            table["total_rows"] = len(table["rows"])
            del table["rows"][REPORT_ROWS:]
        return run

    def _link(self) -> NodeLink:
        return self._context.require_link()

    def cmd_cassandra(self) -> list[dict[str, Any]]:
        store = self._context.require_store()
        return [
            {
                "address": host.address,
                "up": host.is_up,
                "datacenter": host.datacenter,
                "rack": host.rack,
            }
            for host in store.db.hosts()
        ]

    def cmd_logs(self, count: int = 50) -> list[str]:
        return self._context.logs.tail(int(count))


def _row(info: ActorInfo) -> dict[str, Any]:
    """One actor without its subtree, as plain data."""
    row = info.to_dict()
    del row["children"]
    return row
