"""The cluster page: every node's link state, its live supervision tree, and what each
kiosk's screen shows (pictures asked over the node link; sign-up screens come masked)."""

from __future__ import annotations

import asyncio
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from actors.errors import ActorError, DomainError, InvalidOperation
from node.diagnostics import TreeRequest
from node.link import LinkError
from node.operator import request_screen, screen_image
from node.screens import ScreenImage
from supervision.introspection import ActorInfo
from web.admin.base import Admin
from web.base import Refusal

TREE_TIMEOUT_S = 2.0
"""How long the page waits for a peer's tree."""
SCREEN_TIMEOUT_S = 3.0
"""How long the page, and the picture's own address, wait for a kiosk's picture."""

SCREEN_FAILURES = (ActorError, DomainError, LinkError, TimeoutError)
"""What asking for a picture may raise when the kiosk cannot give one."""


@dataclass(frozen=True)
class KioskScreen:
    """One kiosk's part of the page: its picture's address and description, or why none."""

    node: str
    image: ScreenImage | None = None
    src: str = ""
    taken: str = ""
    problem: str = ""


class ClusterAdmin(Admin):
    """``GET /admin/cluster``: the nodes, their link state, live supervision trees and the
    kiosks' screens."""

    async def get(self) -> None:
        trees, shots = await asyncio.gather(self.blocking(self.trees), self.blocking(self.shots))
        link = self.context.link
        peers = [peer.as_data() for peer in link.peers()] if link is not None else []
        # The pictures shown now, for their addresses to serve (IOLoop thread only).
        self.application.settings["screens"] = {
            name: shot for name, shot in shots.items() if isinstance(shot, ScreenImage)
        }
        self.render(
            "admin/cluster.html",
            me=self.context.name,
            peers=peers,
            trees=trees,
            screens=[self.kiosk_screen(name, shot) for name, shot in shots.items()],
        )

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

    def shots(self) -> dict[str, ScreenImage | str]:
        """The screen of each node with the kiosk role, in cluster.yaml's order, or why there
        is no picture of it (asked of every kiosk at once; blocks: run it off the IOLoop)."""
        context = self.context
        asks: dict[str, Future[Any] | str] = {}
        for name, node in context.config.nodes.items():
            if "kiosk" not in node.roles:
                continue
            try:
                asks[name] = request_screen(context, name, timeout=SCREEN_TIMEOUT_S)
            except SCREEN_FAILURES as exc:
                asks[name] = str(exc)
        shots: dict[str, ScreenImage | str] = {}
        for name, ask in asks.items():
            try:
                shots[name] = (
                    ask if isinstance(ask, str) else screen_image(name, ask, SCREEN_TIMEOUT_S)
                )
            except SCREEN_FAILURES as exc:
                shots[name] = str(exc)
        return shots

    def kiosk_screen(self, node: str, shot: ScreenImage | str) -> KioskScreen:
        """What the page says of ``node``'s screen."""
        if isinstance(shot, str):
            return KioskScreen(node, problem=f"No picture of the screen: {shot}")
        zone = ZoneInfo(self.context.config.site.time_zone)
        return KioskScreen(
            node,
            image=shot,
            src=f"/admin/cluster/screens/{node}?taken={shot.taken_at!r}",
            taken=datetime.fromtimestamp(shot.taken_at, zone).strftime("%Y-%m-%d %H:%M:%S %Z"),
        )


class ClusterScreenAdmin(Admin):
    """``GET /admin/cluster/screens/NODE``: a picture of a kiosk's screen as it is now (never
    cached by the browser). With ``?taken=`` naming the picture the cluster page described,
    that very picture, so that the page's words and its image agree."""

    async def get(self, node: str) -> None:
        shown: dict[str, ScreenImage] = self.application.settings["screens"]
        image = shown.get(node)
        if image is None or self.get_query_argument("taken", "") != repr(image.taken_at):
            image = await self.blocking(self.fresh, node)
        self.set_header("Content-Type", image.content_type)
        self.set_header("Cache-Control", "no-store")
        self.write(image.data)

    def fresh(self, node: str) -> ScreenImage:
        """A new picture of ``node``'s screen; refusals for no kiosk (404) or no picture (503).
        Blocks: run it off the IOLoop."""
        try:
            return screen_image(
                node, request_screen(self.context, node, timeout=SCREEN_TIMEOUT_S), SCREEN_TIMEOUT_S
            )
        except InvalidOperation as exc:
            raise Refusal(404, f"No such kiosk: {exc}.") from exc
        except SCREEN_FAILURES as exc:
            raise Refusal(503, f"No picture of the screen of {node}: {exc}.") from exc
