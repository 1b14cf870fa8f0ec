"""Taking one inbound text, exactly once: claim its provider id, answer it, store both.

::

    claim the provider's message id        (a lightweight transaction: a retry is known),
      with the sender's two reads in flight beside it (a retry's go unused)
    a retry whose answer was stored        -> the same answer, nothing else
    over the sender's rate limit           -> stored, not answered
    the conversation (sms.conversation)    -> what it did, and the reply
    the reply through the provider's API   -> owed as a notice (sent by the notifier)
    the message, the reply, the sender's state -> one unlogged batch (sms_messages,
                                              sms_by_number, sms_senders)

A retry whose first delivery stopped before its answer was stored (a node killed mid-way) is
taken again: its sign-up carries the same idempotency key (the message id), so it gets the
same registration.

:meth:`SmsService.take` runs on the webhook's IOLoop: a sign-up text's requests are awaited
there (``Database.execute_async``, the sign-up as a :mod:`storage.flow`), not waited for on a
worker thread; the rarer commands' blocking storage calls, and the catalog's refreshes, run on
the service's small thread pool (:meth:`SmsService.blocking`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from config.cluster import ClusterConfig, ConfigError, SmsConfig
from sms.catalog import Catalog
from sms.conversation import Conversation, Lookup, Outcome
from sms.providers import Inbound, Provider, TelnyxProvider, TwilioProvider
from sms.ratelimit import RateLimit
from storage import validate
from storage.errors import ValidationError
from storage.sms_messages import claimed
from storage.store import Store

log = logging.getLogger("gather.sms")

T = TypeVar("T")

WORKERS = 16
"""Threads for the blocking storage work of the rarer commands and the catalog's refreshes."""


def make_provider(sms: SmsConfig | None) -> Provider:
    """The adapter of cluster.yaml's provider, with its secret (:class:`ConfigError` when the
    section, the secret or a setting it needs is missing or wrong)."""
    if sms is None:
        raise ConfigError("sms: missing; the sms role needs it")
    secret = sms.secret.read().decode()
    if sms.provider == "twilio":
        assert sms.account is not None  # cluster.yaml's parser requires it
        return TwilioProvider(sms.account, secret, sms.number, sms.api_url)
    assert sms.public_key is not None  # cluster.yaml's parser requires it
    try:
        return TelnyxProvider(secret, sms.public_key, sms.number, sms.account, sms.api_url)
    except ValueError as exc:
        raise ConfigError(f"sms.public_key: {exc}") from None


class SmsService:
    """Takes inbound texts for one node, with the store ``store()`` gives at the time (the
    node's connection may have been replaced); ``nudge`` tells the notifier a notice is owed."""

    def __init__(
        self,
        store: Callable[[], Store],
        config: ClusterConfig,
        provider: Provider,
        nudge: Callable[[], None] = lambda: None,
    ) -> None:
        assert config.sms is not None  # the sms role's actors are only started with it
        self._store = store
        self._region = config.site.phone_region
        self._sms = config.sms
        self._provider = provider
        self._nudge = nudge
        self._site = config.site
        self._limit = RateLimit(config.sms.rate_limit, config.sms.rate_period_s)
        self.executor = ThreadPoolExecutor(WORKERS, thread_name_prefix="sms-webhook")
        """The thread pool of :meth:`blocking`; the webhook's server shuts it down with itself."""
        self.catalog = Catalog(self.blocking)

    async def blocking(self, work: Callable[..., T], *args: Any) -> T:
        """``work(*args)`` on the service's thread pool (storage calls that block)."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, work, *args)

    async def take(self, inbound: Inbound) -> str | None:
        """Store and answer ``inbound``; the reply to put in the webhook's answer (None when
        there is none, or when the provider's API sends it)."""
        store = self._store()
        messages = store.sms_messages
        claim, message_id = messages.claiming(inbound.provider_id)
        claiming = asyncio.ensure_future(store.db.query_async(claim))
        sender = self._sender(inbound)
        conversation = Conversation(store, self._site, self._sms, self.catalog, self.blocking)
        lookup = None if sender is None else conversation.read_sender(sender)  # beside the claim
        message_id, first = claimed(message_id, await claiming)
        if not first:
            earlier = await self.blocking(messages.get, message_id)
            if earlier is not None and earlier.action is not None:
                log.info("a retried text answered as before")
                return earlier.reply if self._provider.replies_inline else None
        outcome = await self._outcome(conversation, sender, inbound, lookup)
        message = messages.new(
            "in",
            sender or inbound.sender[:32],
            inbound.to[:32],
            inbound.body,
            inbound.provider_id,
            outcome.action,
            outcome.reply,
            message_id=message_id,
        )
        if outcome.reply is None:
            await store.db.query_async(messages.writing(message, also=outcome.writes))
            return None
        if self._provider.replies_inline:
            reply = messages.new(
                "out", self._sms.number, message.from_number, outcome.reply, action="reply"
            )
            await store.db.query_async(messages.writing(message, reply, also=outcome.writes))
            return outcome.reply
        owed = store.notices.owing(
            "reply", f"reply:{inbound.provider_id}", message.from_number, body=outcome.reply
        )
        await store.db.query_async(owed)
        await store.db.query_async(messages.writing(message, also=outcome.writes))
        self._nudge()
        return None

    async def _outcome(
        self,
        conversation: Conversation,
        sender: str | None,
        inbound: Inbound,
        lookup: Lookup | None,
    ) -> Outcome:
        if sender is None or lookup is None:  # (None together) an alphanumeric sender or a
            return Outcome("ignored", None)  # short code: nobody to answer
        if not self._limit.allow(sender):
            return Outcome("rate_limited", None)
        return await conversation.answer(sender, inbound.body, inbound.provider_id, lookup)

    def _sender(self, inbound: Inbound) -> str | None:
        """The sender's number in E.164, or None when it is not a phone number."""
        try:
            return validate.phone(inbound.sender, self._region)
        except ValidationError:
            return None
