"""The sms role's actors (``node.process.ROLE_CHILDREN["sms"]``, docs/sms.md).

::

    sms                one_for_one, at most 5 restarts in 30 s
    ├── webhook        SmsWebhook: the provider's webhook on the node's sms_port
    └── notifier       SmsNotifier: sends the texts owed to members (codes, promotions,
                       replies through the provider's API), every second and when nudged

one_for_one: the two share nothing but Cassandra, so a crash of one leaves the other alone.
The webhook's server is its own (not the website's), so that a flood of texts or a crash of
one cannot take the other down. A crash closes the server; the restarted actor listens again.
"""

from __future__ import annotations

import logging

from node.context import NodeContext
from notices.actor import NotifierActor
from sms.app import MAX_BODY_BYTES, make_app
from sms.notifier import Notifier
from sms.service import SmsService, make_provider
from supervision.spec import ChildSpec
from web.server import ServerActor, WebServer

log = logging.getLogger("gather.sms")

NOTIFIER = "root/sms/notifier"


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


class SmsNotifier(NotifierActor):
    """Sends owed texts every :data:`~notices.actor.TICK_S` seconds, and at once when nudged."""

    def make_sender(self) -> Notifier:
        sms = self.context.config.sms
        assert sms is not None
        return Notifier(self.context.config.site, make_provider(sms), self.context.name)


def children(context: NodeContext) -> list[ChildSpec]:
    """The sms role supervisor's children."""
    return [
        ChildSpec("webhook", SmsWebhook, kwargs={"context": context}, start_timeout=15.0),
        ChildSpec("notifier", SmsNotifier, kwargs={"context": context}),
    ]
