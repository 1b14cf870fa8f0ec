"""The SMS webhook's Tornado application: one route, the path of ``sms.webhook_url``.

A request's signature is checked against the webhook's public URL as cluster.yaml gives it
(what the provider signed), never against the address the request reached: behind a reverse
proxy those differ. A forged, missing or stale signature is answered 403 and nothing is stored;
a signed request that cannot be read, 400. The text is then taken on the server's IOLoop
(:class:`~sms.service.SmsService`, awaiting its storage requests) and answered in the
provider's form (TwiML for Twilio).

When Cassandra is out of reach nothing can be stored: the text is not taken, which is logged,
and the member is told to send it again (Twilio does not retry a webhook that answered).
"""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import urlsplit

import tornado.web

from node.context import NodeContext
from sms.providers import Provider, WebhookRefused
from sms.service import SmsService
from storage.errors import Unreachable, ValidationError

log = logging.getLogger("gather.sms")

MAX_BODY_BYTES = 64 * 1024
"""A webhook request is a few KiB; anything much larger is refused before it is read."""
NOT_TAKEN = "Sorry, we could not take your text just now. Please send it again in a few minutes."


@tornado.web.stream_request_body
class WebhookHandler(tornado.web.RequestHandler):
    """The provider's POST of one inbound text (or, for Telnyx, of another event). The body
    is taken as it comes (the adapter parses it), not parsed as a form by Tornado too."""

    def initialize(self, service: SmsService, provider: Provider, url: str) -> None:
        self.service = service
        self.provider = provider
        self.url = url
        self._chunks: list[bytes] = []

    def data_received(self, chunk: bytes) -> None:
        self._chunks.append(chunk)

    def check_xsrf_cookie(self) -> None:
        """Providers sign their requests instead: no XSRF token here."""

    async def post(self) -> None:
        try:
            body = b"".join(self._chunks)
            inbound = self.provider.parse(self.url, self.request.headers, body, time.time())
        except WebhookRefused as refused:
            log.warning("webhook request refused: %s", refused.reason)
            self.set_status(refused.status)
            self.finish(refused.reason)
            return
        if inbound is None:  # a signed event that is not an inbound text
            self.finish(b"")
            return
        try:
            reply = await self.service.take(inbound)
        except ValidationError as invalid:  # a provider's field out of any sane bounds
            log.warning("webhook request refused: %s", invalid.field)
            self.set_status(400)
            self.finish(f"{invalid.field} {invalid.message}")
            return
        except Unreachable as exc:
            log.warning("a text was NOT taken: Cassandra is out of reach (%s)", exc)
            if not self.provider.replies_inline:
                self.set_status(503)  # Telnyx delivers the webhook again later
                self.finish(b"")
                return
            reply = NOT_TAKEN
        answer = self.provider.answer(reply)
        self.set_status(answer.status)
        self.set_header("Content-Type", answer.content_type)
        self.finish(answer.body)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self.finish(f"{status_code} {self._reason}")


def make_app(
    context: NodeContext, service: SmsService, provider: Provider
) -> tornado.web.Application:
    """The webhook application for this node."""
    assert context.config.sms is not None
    url = context.config.sms.webhook_url
    path = urlsplit(url).path or "/"
    return tornado.web.Application(
        [(path, WebhookHandler, {"service": service, "provider": provider, "url": url})],
        context=context,
        executor=service.executor,  # shut down with the server (web.server.WebServer.stop)
        xsrf_cookies=False,
    )
