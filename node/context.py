"""What the actors of one node share: its config, name, cookie, log buffer, tree and storage;
and the reload of cluster.yaml while the node runs (:meth:`NodeContext.reload`)."""

from __future__ import annotations

import dataclasses
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from actors.errors import ActorUnavailable
from config import cluster as cluster_config
from config.cluster import ClusterConfig, ConfigError, NodeConfig
from node.errors import LinkError
from node.logbuffer import LogBuffer
from storage.errors import NotConnected

if TYPE_CHECKING:
    from node.link import NodeLink
    from storage.store import Store
    from supervision.tree import Tree

log = logging.getLogger("gather.node")

RESTART_SECTIONS = (
    ("cluster_name", "name"),
    ("cookie", "cookie"),
    ("cassandra", "cassandra"),
    ("link", "link"),
    ("site", "site"),
    ("web", "web"),
    ("sms", "sms"),
    ("mail", "mail"),
    ("reports", "reports"),
)
"""(cluster.yaml key, ``ClusterConfig`` attribute) of the sections a reload does not apply:
a change to one of them takes effect when the node restarts."""


@dataclass(frozen=True)
class Reloaded:
    """What a reload of cluster.yaml did: the other nodes' entries it applied (by name), and
    the keys it left for a restart."""

    path: Path
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    needs_restart: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        """``added: b``, ``removed: -``, ``changed: -``, ``needs a restart: -``."""
        parts = (
            ("added", self.added),
            ("removed", self.removed),
            ("changed", self.changed),
            ("needs a restart", self.needs_restart),
        )
        return [f"{label}: {', '.join(names) or '-'}" for label, names in parts]

    def as_data(self) -> dict[str, Any]:
        """The outcome as plain data (the shell's ``reload``); ``report`` is :meth:`lines`."""
        return {
            "config": str(self.path),
            "added": list(self.added),
            "removed": list(self.removed),
            "changed": list(self.changed),
            "needs_restart": list(self.needs_restart),
            "report": self.lines(),
        }


def plan_reload(
    running: ClusterConfig, fresh: ClusterConfig, own: NodeConfig
) -> tuple[ClusterConfig, Reloaded]:
    """The config to run with after reading ``fresh``, and what it changes.

    It is ``running`` with the other nodes' entries of ``fresh``: this node's own entry and
    every section but ``nodes`` stay as they run (a change to them is listed as needing a
    restart). Raises :class:`ConfigError` when ``fresh`` no longer lists this node.
    """
    if own.name not in fresh.nodes:
        raise ConfigError(
            f"{fresh.path}: nodes.{own.name}: this node is no longer listed; a running node "
            "cannot remove itself (stop it first, then remove its entry); nothing was applied"
        )
    needs_restart = [
        key
        for key, attribute in RESTART_SECTIONS
        if getattr(running, attribute) != getattr(fresh, attribute)
    ]
    listed = fresh.nodes[own.name]
    needs_restart += [
        f"nodes.{own.name}.{entry.name}"
        for entry in dataclasses.fields(NodeConfig)
        if getattr(own, entry.name) != getattr(listed, entry.name)
    ]
    old, new = running.nodes, fresh.nodes
    reloaded = Reloaded(
        path=fresh.path,
        added=tuple(name for name in new if name not in old),
        removed=tuple(name for name in old if name not in new),
        changed=tuple(
            name for name in new if name != own.name and name in old and new[name] != old[name]
        ),
        needs_restart=tuple(needs_restart),
    )
    nodes = {name: own if name == own.name else node for name, node in new.items()}
    return dataclasses.replace(running, nodes=nodes), reloaded


@dataclass
class NodeContext:
    """Set up by ``node.process`` before the tree starts; filled in as its parts come up.

    ``tree`` is set once the whole tree has started; ``link`` and ``store`` by the actors
    that own them, and cleared when those actors stop, so readers must expect None.
    ``config`` is replaced (never changed in place) by :meth:`reload`: read it once per use.
    """

    config: ClusterConfig
    node: NodeConfig
    cookie: bytes = field(repr=False)
    logs: LogBuffer
    tree: Tree | None = None
    link: NodeLink | None = None
    store: Store | None = None
    peers_lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    """Held while the link's peer set is decided: by :meth:`reload`, and by the link actor
    while it builds and publishes its link, so that a link starting during a reload still
    gets the new peers."""

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

    def require_link(self) -> NodeLink:
        """The running node link; raise ActorUnavailable while its actor is (re)starting."""
        link = self.link
        if link is None:
            raise ActorUnavailable(f"the node link of {self.name} is not running")
        return link

    def node_addresses(self) -> dict[str, tuple[str, int]]:
        """Where each node of the config listens for the link: name -> (host, port)."""
        return {node.name: (node.host, node.port) for node in self.config.nodes.values()}

    def reload(self) -> Reloaded:
        """Read cluster.yaml again (the file the node was started with) and apply the other
        nodes' entries: new nodes are dialled and let in, removed ones dropped, moved ones
        redialled. Thread-safe (one reload at a time); logs the outcome.

        Raises :class:`ConfigError` (naming the key) for a file that does not load or no
        longer lists this node; the node then keeps running as it was.
        """
        path = self.config.path
        with self.peers_lock:
            try:
                config, reloaded = plan_reload(self.config, cluster_config.load(path), self.node)
            except ConfigError as exc:
                log.error("reload refused, the node keeps its running config: %s", exc)
                raise
            self.config = config
            link = self.link
            if link is not None:
                try:
                    link.set_peers(self.node_addresses())
                except (LinkError, TimeoutError) as exc:
                    log.warning("the link takes the new peers when it restarts: %s", exc)
        log.info("reloaded %s: %s", path, "; ".join(reloaded.lines()))
        return reloaded
