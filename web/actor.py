"""The web role's actor: it owns the node's Tornado server (docs/web.md).

::

    web                supervisor (one per node with the web role)
    └── server         WebActor: the website, management UI and JSON API on http_port

A crash of the actor closes the server; its supervisor starts a new one, which listens again.
"""

from __future__ import annotations

from node.context import NodeContext
from supervision.spec import ChildSpec
from web.app import make_app
from web.server import ServerActor, WebServer


class WebActor(ServerActor):
    """Serves the website on the node's ``http_port`` while it runs."""

    def __init__(self, context: NodeContext) -> None:
        super().__init__()
        self.context = context

    def make_server(self) -> WebServer:
        node = self.context.node
        if node.http_port is None:
            raise ValueError(f"node {node.name} has the web role but no http_port")
        return WebServer(make_app(self.context), node.host, node.http_port)


def children(context: NodeContext) -> list[ChildSpec]:
    """The web role supervisor's children."""
    return [ChildSpec("server", WebActor, kwargs={"context": context}, start_timeout=15.0)]
