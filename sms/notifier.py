"""Sending the texts owed to members (:mod:`storage.notices`): codes, promotions, API replies.

Every pass reads the ``sms`` notices not settled since the watermark day, claims each one that
is due (one sender in the whole cluster gets it), works out its text from the registration as
it is now, and hands it to the provider:

- sent: the text is stored in ``sms_messages`` and the notice settled;
- the provider says the member opted out (Twilio 21610, Telnyx 40300): the opt-out is
  recorded and the notice settled ``opted_out``; so is one owed to a number opted out here;
- refused or unreachable (429, 5xx, no connection): tried again with a growing back-off, at
  most :data:`MAX_ATTEMPTS` times, then settled ``failed`` (logged);
- unknown (a timeout after the request left): **at least once**, tried again as if it had
  failed, and counted (``uncertain``): a text sent twice costs a member a duplicate; a
  promotion not sent costs them their seat. The same holds for a sender that dies between the
  provider's answer and the settle: its claim expires and another sender sends it again.

A promotion's notice is owed before the batch that promotes (so that no crash loses it), one
per attempt of the batch, at the time the batch marks the registration updated: the notice
whose time the confirmed registration has is sent; another attempt's is dropped
(``skipped``); while the registration is still waitlisted, its batch has not applied yet, or
never will, and the notice is put back for :data:`PROMOTION_GRACE_S`, then dropped. A code for
a registration cancelled meanwhile is dropped too. A reply is sent even to an opted-out number:
the conversation answers one only for HELP and for the opt-out's own confirmation.

Blocking; one pass at a time (the notifier actor's thread).
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
from collections import Counter
from collections.abc import Coroutine
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from config.cluster import SiteConfig
from sms import replies
from sms.providers import Provider, SendKind, SendOutcome
from storage import times
from storage.errors import NotFound
from storage.notices import Notice
from storage.store import Store

log = logging.getLogger("gather.sms")
T = TypeVar("T")

MAX_ATTEMPTS = 12
"""Sends of one notice before it is given up (about an hour of back-off in all)."""
BACKOFF_S = (2.0, 900.0)
"""The first and the longest wait between attempts."""
PROMOTION_GRACE_S = 60.0
"""How long a promotion's notice waits for its batch to apply before it is dropped."""
SEND_TIMEOUT_S = 10.0
WATERMARK_JOB = "notices-sms"
LOOKBACK = timedelta(days=2)
"""Where the first scan starts, with no watermark yet."""
SETTLE_MARGIN = timedelta(hours=1)
"""The watermark never passes the day of this long ago: a notice owed on a node whose clock
is a little behind still lands in a day that is scanned."""


class Notifier:
    """Sends the owed ``sms`` notices of the cluster, as node ``node``."""

    def __init__(
        self,
        site: SiteConfig,
        provider: Provider,
        node: str,
        send_timeout_s: float = SEND_TIMEOUT_S,
    ) -> None:
        self._send_timeout_s = send_timeout_s
        self._site = site
        self._provider = provider
        self._node = node
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="sms-sends", daemon=True
        )
        self._thread.start()
        self.counts: Counter[str] = Counter()
        """Notices by how they ended here (sent, retry, uncertain, failed, ...)."""

    def close(self) -> None:
        """Stop the thread that sends."""
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(SEND_TIMEOUT_S)

    def run_pass(self, store: Store) -> int:
        """Send what is due, with ``store``; how many notices were claimed."""
        self._store = store
        now = times.now()
        watermark = self._store.watermarks.get(WATERMARK_JOB)
        since = (watermark or now - LOOKBACK).date()
        oldest_open = None
        claimed = 0
        for notice in self._store.notices.unsettled("sms", since):
            if oldest_open is None:
                oldest_open = notice.day
            if not notice.due(now):
                continue
            mine = self._store.notices.claim(notice, self._node, now)
            if mine is None:
                continue
            claimed += 1
            sent = self._deliver(mine)
            if sent is not None and sent.kind in (SendKind.RETRY, SendKind.UNCERTAIN):
                break  # the provider is out of reach or failing: the rest wait for a pass
        else:
            self._advance(since, oldest_open, now)
        return claimed

    def _advance(self, since: date, oldest_open: date | None, now: datetime) -> None:
        """Move the watermark to the oldest day that still holds an unsettled notice."""
        settled_until = (now - SETTLE_MARGIN).date()
        until = min(oldest_open or settled_until, settled_until)
        if until > since:
            moment = datetime.combine(until, datetime.min.time(), now.tzinfo)
            self._store.watermarks.advance(WATERMARK_JOB, moment)

    def _deliver(self, notice: Notice) -> SendOutcome | None:
        """Send a claimed notice; what the provider said (None: nothing was sent)."""
        notices = self._store.notices
        try:
            text = self._text(notice)
        except NotFound:
            notices.settle(notice, "skipped", "its registration or event no longer exists")
            self.counts["skipped"] += 1
            return None
        if text is None:
            return None
        if notice.kind != "reply" and self._store.sms_optouts.is_opted_out(notice.contact):
            notices.settle(notice, "opted_out", "the number opted out")
            self.counts["opted_out"] += 1
            return None
        outcome = self._run(self._provider.send(notice.contact, text, self._send_timeout_s))
        self._settle(notice, text, outcome)
        return outcome

    def _text(self, notice: Notice) -> str | None:
        """The text to send, or None when the notice was settled or released instead."""
        if notice.kind == "reply":
            return notice.body or ""
        assert notice.option_id is not None and notice.number is not None
        registration = self._store.registrations.numbered(notice.option_id, notice.number)
        event = self._store.events.get(registration.event_id)
        if notice.kind != "promoted":
            if registration.status == "cancelled":
                self._store.notices.settle(notice, "skipped", "cancelled before it was sent")
                self.counts["skipped"] += 1
                return None
            return replies.code_notice(registration, event, self._site)
        if registration.status == "confirmed" and registration.updated_at == notice.created_at:
            return replies.promoted_notice(registration, event, self._site)
        age = (times.now() - notice.created_at).total_seconds()
        if registration.status == "waitlisted" and age < PROMOTION_GRACE_S:
            self._store.notices.release(notice)  # its batch may still apply
            return None
        self._store.notices.settle(notice, "skipped", "the promotion did not apply")
        self.counts["skipped"] += 1
        return None

    def _settle(self, notice: Notice, text: str, outcome: SendOutcome) -> None:
        notices = self._store.notices
        detail = f"{outcome.kind}: {outcome.code or ''} {outcome.detail}".strip()
        self.counts[outcome.kind] += 1
        if outcome.kind is SendKind.SENT:
            message = self._store.sms_messages.new(
                "out",
                self._provider.from_number,
                notice.contact,
                text,
                outcome.provider_id,
                action=notice.kind,
            )
            self._store.sms_messages.write(message)
            notices.settle(notice, "sent", outcome.provider_id or "")
        elif outcome.kind is SendKind.OPTED_OUT:
            self._store.sms_optouts.opt_out(notice.contact, "PROVIDER")
            notices.settle(notice, "opted_out", detail)
        elif outcome.kind is SendKind.FAILED or notice.attempts + 1 >= MAX_ATTEMPTS:
            log.warning(
                "a %s text was given up after %d attempt(s): %s",
                notice.kind,
                notice.attempts + 1,
                detail,
            )
            notices.settle(notice, "failed", detail)
        else:  # retry, or uncertain: at least once
            wait = min(BACKOFF_S[1], BACKOFF_S[0] * 2**notice.attempts) * random.uniform(0.8, 1.2)
            log.info("a %s text will be tried again in %.0f s (%s)", notice.kind, wait, detail)
            notices.retry_later(notice, times.now() + timedelta(seconds=wait), detail)

    def _run(self, work: Coroutine[Any, Any, T]) -> T:
        future = asyncio.run_coroutine_threadsafe(work, self._loop)
        return future.result(2 * self._send_timeout_s)
