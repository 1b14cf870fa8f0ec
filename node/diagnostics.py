"""The diagnostics actor every node runs at ``root/diagnostics``, and its messages."""

from __future__ import annotations

import time
from typing import Any

from actors.actor import GatherActor
from node import wire
from node.context import NodeContext


@wire.message("ping")
class Ping:
    """Asked of a node's ``root/diagnostics`` actor, which answers with a :class:`Pong`."""

    sent_at: float = 0.0


@wire.message("tree_request")
class TreeRequest:
    """Asked of a node's ``root/diagnostics`` actor: its live supervision tree, as
    ``ActorInfo.to_dict()`` of the root (the web's cluster page shows it)."""


@wire.message("pong")
class Pong:
    """A node's answer to a :class:`Ping`."""

    node: str
    sent_at: float
    answered_at: float


class Diagnostics(GatherActor):
    """Answers pings, echoes asks and counts what it is sent: for link checks and the bench.

    The plain message ``"counts"`` asks for the count so far.
    """

    def __init__(self, context: NodeContext) -> None:
        super().__init__()
        self.context = context
        self.node = context.name
        self.told = 0

    def on_receive(self, message: Any) -> Any:
        if isinstance(message, Ping):
            return Pong(node=self.node, sent_at=message.sent_at, answered_at=time.time())
        if isinstance(message, TreeRequest):
            return self.context.require_tree().snapshot().to_dict()
        if message == "counts":
            return {"node": self.node, "received": self.told}
        self.told += 1
        return message
