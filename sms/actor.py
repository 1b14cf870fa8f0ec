"""The sms role's actors (``node.process.ROLE_CHILDREN["sms"]``, docs/sms.md).

::

    sms                one_for_one, at most 5 restarts in 30 s
    ├── webhook        SmsWebhook: the provider's webhook on the node's sms_port
    └── notifier       SmsNotifier: sends the texts owed to members (codes, promotions,
                       replies through the provider's API), every TICK_S and when nudged

one_for_one: the two share nothing but Cassandra, so a crash of one leaves the other alone.
The webhook's server is its own (not the website's), so that a flood of texts or a crash of
one cannot take the other down. A crash closes the server; the restarted actor listens again.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from actors.actor import GatherActor
from actors.ticker import Ticker
from node.context import NodeContext
from sms.app import MAX_BODY_BYTES, make_app
from sms.notifier import Notifier
from sms.service import SmsService, make_provider
from storage.errors import StorageError
from supervision.spec import ChildSpec
from web.server import ServerActor, WebServer

log = logging.getLogger("gather.sms")

NOTIFIER = "root/sms/notifier"
TICK_S = 1.0


class SmsWebhook(ServerActor):
    """Serves the provider's webhook on the node's ``sms_port`` while it runs."""

    def __init__(self, context: NodeContext) -> None:
        super().__init__()
        self.context = context

    def make_server(self) -> WebServer:
        context, node = self.context, self.context.node
        if node.sms_port is None or context.config.sms is None:
            raise ValueError(f"node {node.name} has the sms role but no sms_port or sms section")
        provider = make_provider(context.config.sms)
        service = SmsService(context.require_store, context.config, provider, self._nudge)
        app = make_app(context, service, provider)
        return WebServer(app, node.host, node.sms_port, max_body_size=MAX_BODY_BYTES)

    def _nudge(self) -> None:
        tree = self.context.tree
        if tree is not None:
            try:
                tree.tell(NOTIFIER, "nudge")
            except Exception:  # the notifier restarting: its next tick sends it
                log.debug("notifier not nudged", exc_info=True)


class SmsNotifier(GatherActor):
    """Sends owed notices every :data:`TICK_S` seconds, and at once when nudged."""

    def __init__(self, context: NodeContext) -> None:
        super().__init__()
        self.context = context
        self.notifier: Notifier | None = None
        self._ticker: Ticker | None = None
        self._passed_at = 0.0

    def on_start(self) -> None:
        context = self.context
        assert context.config.sms is not None
        provider = make_provider(context.config.sms)
        self.notifier = Notifier(context.config.site, provider, context.name)
        self._ticker = Ticker(self.actor_ref, "tick", TICK_S, f"{self.path}-ticks").start()

    def on_receive(self, message: Any) -> Any:
        assert self.notifier is not None
        match message:
            case "tick" if time.monotonic() - self._passed_at < TICK_S / 2:
                pass  # a nudge just made a pass: ticks do not pile up behind nudges
            case "tick" | "nudge":
                self._pass()
            case "counts":
                return dict(self.notifier.counts)
            case _:
                raise ValueError(f"unexpected message {message!r}")
        return None

    def on_stop(self) -> None:
        self._release()

    def on_failure(self, *_: Any) -> None:
        self._release()

    def _release(self) -> None:
        if self._ticker is not None:
            self._ticker.stop()
        if self.notifier is not None:
            self.notifier.close()

    def _pass(self) -> None:
        assert self.notifier is not None
        store = self.context.store
        if store is None:
            return
        try:
            self.notifier.run_pass(store)
        except StorageError as exc:  # Cassandra out of reach: the next tick tries again
            log.warning("notices not sent this time: %s", exc)
        finally:
            self._passed_at = time.monotonic()


def children(context: NodeContext) -> list[ChildSpec]:
    """The sms role supervisor's children."""
    return [
        ChildSpec("webhook", SmsWebhook, kwargs={"context": context}, start_timeout=15.0),
        ChildSpec("notifier", SmsNotifier, kwargs={"context": context}),
    ]
