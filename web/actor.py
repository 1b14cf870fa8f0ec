"""The web role's actor: it owns the node's Tornado server (docs/web.md).

::

    web                supervisor (one per node with the web role)
    └── server         WebActor: the website, management UI and JSON API on http_port

A crash of the actor closes the server; its supervisor starts a new one, which listens again.
"""

from __future__ import annotations

import logging
from typing import Any

from actors.actor import GatherActor
from node.context import NodeContext
from supervision.spec import ChildSpec
from web.app import make_app
from web.server import WebServer

log = logging.getLogger("gather.web")


class WebActor(GatherActor):
    """Serves the website on the node's ``http_port`` while it runs."""

    def __init__(self, context: NodeContext) -> None:
        super().__init__()
        self.context = context
        self.server: WebServer | None = None

    def on_start(self) -> None:
        node = self.context.node
        if node.http_port is None:
            raise ValueError(f"node {node.name} has the web role but no http_port")
        self.server = WebServer(make_app(self.context), node.host, node.http_port)
        self.server.start()
        log.info("website on http://%s:%d/", node.host, node.http_port)

    def on_receive(self, message: Any) -> Any:
        if message == "address":
            return f"http://{self.context.node.host}:{self.context.node.http_port}/"
        raise ValueError(f"unexpected message {message!r}")

    def on_stop(self) -> None:
        self._close()

    def on_failure(self, *_: Any) -> None:
        self._close()

    def _close(self) -> None:
        server, self.server = self.server, None
        if server is not None:
            server.stop()


def children(context: NodeContext) -> list[ChildSpec]:
    """The web role supervisor's children."""
    return [ChildSpec("server", WebActor, kwargs={"context": context}, start_timeout=15.0)]
