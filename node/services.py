"""The actors every node runs, whatever its roles: the node link and the storage connection."""

from __future__ import annotations

import logging
from typing import Any

from actors.actor import GatherActor
from node import tls
from node.context import NodeContext
from node.delivery import TreeDelivery
from node.link import LinkSettings, NodeLink
from storage.store import Store

log = logging.getLogger("gather.node")


class _ResourceOwner(GatherActor):
    """An actor owning something outside Python (sockets, a driver): released on stop or crash."""

    def __init__(self, context: NodeContext) -> None:
        super().__init__()
        self.context = context

    def on_stop(self) -> None:
        self.release()

    def on_failure(self, *_: Any) -> None:
        self.release()

    def release(self) -> None:
        """Close what ``on_start`` opened; safe to call when it opened nothing."""


class LinkActor(_ResourceOwner):
    """Owns this node's end of the node link; a restart closes and reopens every connection.

    Its peers are the config's nodes; a reload of cluster.yaml changes them on the running
    link (``NodeContext.reload``), and the link is built and published under the context's
    ``peers_lock`` so that a reload cannot slip between the two.
    """

    def __init__(self, context: NodeContext) -> None:
        super().__init__(context)
        self.delivery: TreeDelivery | None = None

    def on_start(self) -> None:
        context = self.context
        settings = context.config.link
        server_tls, client_tls = tls.contexts(settings)
        self.delivery = TreeDelivery(context)
        with context.peers_lock:
            link = NodeLink(
                name=context.name,
                host=context.node.host,
                port=context.node.port,
                peers=context.node_addresses(),
                cookie=context.cookie,
                delivery=self.delivery,
                settings=LinkSettings(
                    heartbeat_s=settings.heartbeat_s,
                    down_after_s=settings.down_after_s,
                    max_frame=settings.max_frame_bytes,
                    server_tls=server_tls,
                    client_tls=client_tls,
                ),
            )
            link.start()
            context.link = link

    def release(self) -> None:
        link, self.context.link = self.context.link, None
        if link is not None:
            link.stop()
        if self.delivery is not None:
            self.delivery.close()


class StorageActor(_ResourceOwner):
    """Owns this node's connection to Cassandra (``context.store``).

    Its start fails while no Cassandra node answers; its supervisor then retries with a
    backoff, so the node keeps running and reconnects. Once connected, the driver itself
    follows Cassandra nodes going down and coming back.
    """

    def on_start(self) -> None:
        self.context.store = Store(self.context.config, node=self.context.name)
        log.info("connected to Cassandra")

    def release(self) -> None:
        store, self.context.store = self.context.store, None
        if store is not None:
            store.close()
