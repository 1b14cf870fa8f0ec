"""Sending the texts owed to members (:mod:`storage.notices`): codes, promotions, reminders,
changed and cancelled events, API replies.

The pass (claim, work out, send, settle or retry, at least once) is :mod:`notices.sender`'s;
this is its SMS channel. A text goes through the provider's API:

- sent: the text is stored in ``sms_messages`` and the notice settled;
- the provider says the member opted out (Twilio 21610, Telnyx 40300): the opt-out is
  recorded and the notice settled ``opted_out``; so is one owed to a number opted out here;
- refused or unreachable (429, 5xx, no connection): tried again with a growing back-off;
- unknown (a timeout after the request left): tried again as if it had failed, and counted
  (``uncertain``).

A reply (kind ``reply``, SMS only) carries its own text, and is sent even to an opted-out
number: the conversation answers one only for HELP and for the opt-out's own confirmation.

The provider's adapters are asynchronous (Tornado's HTTP client): they run on a thread of the
channel's own, and a pass waits for each send.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from config.cluster import SiteConfig
from notices.sender import About, Channel, Sender
from sms import replies
from sms.providers import Provider, SendKind, SendOutcome
from storage.events import Event
from storage.notices import Notice
from storage.registrations import Registration
from storage.store import Store

T = TypeVar("T")

SEND_TIMEOUT_S = 10.0
NOTICE_WORDS: dict[str, Callable[[Registration, Event, SiteConfig], str]] = {
    "promoted": replies.promoted_notice,
    "reminder": replies.reminder_notice,
    "changed": replies.changed_notice,
    "cancelled": replies.cancelled_notice,
}
"""The words of each kind of notice about a registration; the others (a code, a code sent
again) are :func:`sms.replies.code_notice`'s."""


class SmsChannel(Channel[str]):
    """Texts through ``provider``, each within ``send_timeout_s``."""

    name = "sms"
    noun = "text"
    log = logging.getLogger("gather.sms")

    def __init__(
        self, site: SiteConfig, provider: Provider, send_timeout_s: float = SEND_TIMEOUT_S
    ) -> None:
        self._site = site
        self._provider = provider
        self._send_timeout_s = send_timeout_s
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="sms-sends", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        """Stop the thread that sends."""
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(SEND_TIMEOUT_S)

    def blocked(self, store: Store, notice: Notice) -> str | None:
        """A number opted out here gets no notice but a reply."""
        if notice.kind != "reply" and store.sms_optouts.is_opted_out(notice.contact):
            return "the number opted out"
        return None

    def render(self, notice: Notice, about: About | None) -> str:
        """The text: a reply's own, or the notice's words (:mod:`sms.replies`)."""
        if about is None:
            return notice.body or ""
        words = NOTICE_WORDS.get(notice.kind, replies.code_notice)
        return words(about.registration, about.event, self._site)

    def send(self, notice: Notice, content: str) -> SendOutcome:
        """Send the text through the provider's API."""
        return self._run(self._provider.send(notice.contact, content, self._send_timeout_s))

    def record(self, store: Store, notice: Notice, content: str, outcome: SendOutcome) -> None:
        """A text sent is stored in ``sms_messages``; an opt-out the provider reports is
        recorded in ``sms_optouts``."""
        if outcome.kind is SendKind.OPTED_OUT:
            store.sms_optouts.opt_out(notice.contact, "PROVIDER")
            return
        message = store.sms_messages.new(
            "out",
            self._provider.from_number,
            notice.contact,
            content,
            outcome.provider_id,
            action="event_cancelled" if notice.kind == "cancelled" else notice.kind,
        )
        store.sms_messages.write(message)

    def _run(self, work: Coroutine[Any, Any, T]) -> T:
        future = asyncio.run_coroutine_threadsafe(work, self._loop)
        return future.result(2 * self._send_timeout_s)


class Notifier(Sender[str]):
    """Sends the owed ``sms`` notices of the cluster through ``provider``, as node ``node``."""

    def __init__(
        self,
        site: SiteConfig,
        provider: Provider,
        node: str,
        send_timeout_s: float = SEND_TIMEOUT_S,
    ) -> None:
        super().__init__(SmsChannel(site, provider, send_timeout_s), node)
