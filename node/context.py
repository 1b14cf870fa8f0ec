"""What the actors of one node share: its config, name, cookie, log buffer, tree and storage."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from actors.errors import ActorUnavailable
from config.cluster import ClusterConfig, NodeConfig
from node.logbuffer import LogBuffer
from storage.errors import NotConnected

if TYPE_CHECKING:
    from node.link import NodeLink
    from storage.store import Store
    from supervision.tree import Tree


@dataclass
class NodeContext:
    """Set up by ``node.process`` before the tree starts; filled in as its parts come up.

    ``tree`` is set once the whole tree has started; ``link`` and ``store`` by the actors
    that own them, and cleared when those actors stop, so readers must expect None.
    """

    config: ClusterConfig
    node: NodeConfig
    cookie: bytes = field(repr=False)
    logs: LogBuffer
    tree: Tree | None = None
    link: NodeLink | None = None
    store: Store | None = None

    @property
    def name(self) -> str:
        return self.node.name

    def require_tree(self) -> Tree:
        """The running tree; raise ActorUnavailable while the node is still starting."""
        if self.tree is None:
            raise ActorUnavailable(f"node {self.name} is still starting")
        return self.tree

    def require_store(self) -> Store:
        """The connected storage; raise :class:`~storage.errors.NotConnected` (a domain
        error: an actor hands it back to its asker) while Cassandra is out of reach."""
        if self.store is None:
            raise NotConnected(f"node {self.name} is not connected to Cassandra")
        return self.store
