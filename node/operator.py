"""The operator shell's commands, run on the node; each answers with plain data.

``node/shell.py`` sends ``[name, args]`` over the link and turns the answer into text.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from actors.errors import InvalidOperation
from node.context import NodeContext
from node.diagnostics import Ping
from supervision.introspection import ActorInfo

if TYPE_CHECKING:
    from node.link import NodeLink


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

    def _link(self) -> NodeLink:
        link = self._context.link
        if link is None:
            raise InvalidOperation("the node link is not running")
        return link

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
