"""The cluster page: every node's link state and its live supervision tree."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

from node.diagnostics import TreeRequest
from node.link import LinkError
from supervision.introspection import ActorInfo
from web.admin.base import Admin

TREE_TIMEOUT_S = 2.0
"""How long the page waits for a peer's tree."""


class ClusterAdmin(Admin):
    """``GET /admin/cluster``: the nodes, their link state and live supervision trees."""

    async def get(self) -> None:
        trees = await self.blocking(self.trees)
        link = self.context.link
        peers = [peer.as_data() for peer in link.peers()] if link is not None else []
        self.render("admin/cluster.html", me=self.context.name, peers=peers, trees=trees)

    def trees(self) -> dict[str, list[ActorInfo] | str]:
        """Each node's actors (depth first), or why they could not be had."""
        context = self.context
        trees: dict[str, list[ActorInfo] | str] = {}
        if context.tree is None:
            trees[context.name] = "still starting"
        else:
            trees[context.name] = list(context.tree.snapshot().walk())
        link = context.link
        if link is None:
            return trees
        asks: dict[str, Future[Any]] = {}
        for peer in link.peers():
            if not peer.up:
                trees[peer.name] = "the link to this node is down"
                continue
            try:
                asks[peer.name] = link.ask_future(
                    peer.name, "root/diagnostics", TreeRequest(), TREE_TIMEOUT_S
                )
            except LinkError as exc:  # went down since, or too far behind
                trees[peer.name] = f"no answer: {exc}"
        for name, future in asks.items():
            try:
                trees[name] = list(ActorInfo.from_dict(future.result(TREE_TIMEOUT_S)).walk())
            except Exception as exc:  # a peer's failure is shown, not raised
                trees[name] = f"no answer: {exc}"
        return trees
