"""The digest's run: once per period for the whole cluster, the watermark moved on acceptance.

::

    period due? (mail.period.due: the watermark is older than the latest slot)
    claim it    (storage.job_claims: IF NOT EXISTS USING TTL, keyed by the period's start)
    read it     (mail.digest), render it (mail.render)
    send it     (mail.smtp) with a Message-ID made of the period's start
    accepted    -> the watermark moves to the period's end, the run is recorded
    4xx / down  -> the claim is released, tried again after a growing back-off
    5xx         -> recorded as rejected, the claim released, tried again after the longest wait

Every node with the mail role runs a :class:`Mailer`; the claim makes one of them send each
period (a digest sent by hand, "send now", contends for the same claim: it starts at the same
watermark). A node that dies between the server's acceptance and the watermark's move leaves
its claim to expire (:data:`CLAIM_TTL_S`); the period is then sent again, with the same
``Message-ID``: the one duplicate this design allows, and a mail client shows it once.

Blocking; one run at a time (the mailer actor's thread).
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from config.cluster import ClusterConfig, MailConfig
from mail import smtp
from mail.digest import Digest, read
from mail.period import Period, by_hand, due, next_slot
from mail.render import Rendered, render
from storage import times
from storage.store import Store

log = logging.getLogger("gather.mail")

JOB = "digest"
CLAIM_TTL_S = 900
"""How long a claim holds a period: longer than reading and sending the largest digest."""
BACKOFF_S = (30.0, 1800.0)
"""The first and the longest wait before trying a period again after a failed send."""


@dataclass(frozen=True)
class RunResult:
    """How one run ended: ``not_due``, ``claimed_elsewhere``, ``backing_off``, ``sent``,
    ``empty`` (nothing new; nothing sent), ``deferred`` (the server down or answering 4xx:
    tried again later) or ``rejected`` (5xx)."""

    outcome: str
    period: Period | None = None
    message_id: str | None = None
    refused: int = 0
    """Recipients the server refused (the others received it)."""
    detail: str = ""


def smtp_settings(mail: MailConfig) -> smtp.SmtpSettings:
    """The SMTP connection cluster.yaml's ``mail`` section describes (its password read)."""
    return smtp.SmtpSettings(
        host=mail.smtp_host,
        port=mail.smtp_port,
        security=mail.security,
        user=mail.user,
        password=mail.password.read().decode() if mail.password is not None else None,
        timeout_s=mail.timeout_s,
    )


class Mailer:
    """Sends the cluster's digests, as node ``node``."""

    def __init__(
        self,
        config: ClusterConfig,
        node: str,
        claim_ttl_s: int = CLAIM_TTL_S,
        backoff_s: tuple[float, float] = BACKOFF_S,
        job: str = JOB,
    ) -> None:
        if config.mail is None:
            raise ValueError("the mail role needs the mail section of cluster.yaml")
        self._mail = config.mail
        self._site = config.site
        self._node = node
        self.job = job
        """The name of the job's watermark, claims and history (tests give each its own)."""
        self._settings = smtp_settings(config.mail)
        self._zone = ZoneInfo(config.mail.time_zone)
        self._claim_ttl_s = claim_ttl_s
        self._backoff_s = backoff_s
        self._failures = 0
        self._retry_at = 0.0
        self.last: RunResult | None = None
        """The last run that did something (sent, deferred, ...)."""

    @property
    def zone(self) -> ZoneInfo:
        """The digest's time zone."""
        return self._zone

    def next_slot(self, now: datetime | None = None) -> datetime:
        """When the next digest is due."""
        return next_slot(now or times.now(), self._mail.send_at, self._zone)

    def retry_in_s(self) -> float:
        """Seconds until a failed period is tried again (0: not backing off)."""
        return max(0.0, self._retry_at - time.monotonic())

    def check(self, store: Store, now: datetime | None = None) -> RunResult:
        """Send the digest if one is due (the scheduled run, and catching up)."""
        now = now or times.now()
        period = due(store.watermarks.get(self.job), now, self._mail.send_at, self._zone)
        if period is None:
            return RunResult("not_due")
        if self.retry_in_s() > 0:
            return RunResult("backing_off", period, detail=f"{self.retry_in_s():.0f} s")
        return self._run(store, period)

    def send_now(self, store: Store, now: datetime | None = None) -> RunResult:
        """Send a digest from the watermark to now, due or not ("send now")."""
        now = now or times.now()
        period = by_hand(store.watermarks.get(self.job), now, self._mail.send_at, self._zone)
        return self._run(store, period)

    def preview(self, store: Store, now: datetime | None = None) -> tuple[Digest, Rendered]:
        """The digest that would be sent now (nothing claimed, sent or moved)."""
        now = now or times.now()
        period = by_hand(store.watermarks.get(self.job), now, self._mail.send_at, self._zone)
        digest = read(store, period, self._mail.max_listed)
        return digest, self._render(digest)

    def _render(self, digest: Digest) -> Rendered:
        return render(digest, self._site.name, f"{self._site.public_url}/admin", self._zone)

    def _run(self, store: Store, period: Period) -> RunResult:
        if not store.job_claims.claim(self.job, period.key, self._node, self._claim_ttl_s):
            return RunResult("claimed_elsewhere", period)
        try:
            result = self._send(store, period)
        except BaseException:
            self._release(store, period)
            raise
        if result.outcome in ("deferred", "rejected"):
            self._release(store, period)
            self._back_off(longest=result.outcome == "rejected")
        else:
            self._failures, self._retry_at = 0, 0.0
        self.last = result
        return result

    def _send(self, store: Store, period: Period) -> RunResult:
        digest = read(store, period, self._mail.max_listed)
        if digest.empty and not self._mail.send_empty:
            store.watermarks.advance(self.job, period.end, "nothing new: not sent")
            self._record(store, period, "empty", None, {}, 0)
            return RunResult("empty", period)
        rendered = self._render(digest)
        message_id = smtp.message_id(self.job, period.key, self._mail.sender.rsplit("@", 1)[-1])
        message = smtp.new_message(
            sender=self._mail.sender,
            recipients=self._mail.recipients,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            message_id=message_id,
            date=times.now(),
        )
        size = len(message.as_bytes())
        try:
            delivery = smtp.send(self._settings, message, self._mail.recipients)
        except smtp.MailUnavailable as exc:
            log.warning("digest not sent: the SMTP server is unavailable (%s)", exc.reason)
            return RunResult("deferred", period, message_id, detail=exc.reason)
        except smtp.MailRejected as exc:
            log.error("digest rejected by the SMTP server: %s", exc.reason)
            self._record(store, period, "rejected", message_id, exc.refused, size)
            return RunResult("rejected", period, message_id, len(exc.refused), exc.reason)
        store.watermarks.advance(self.job, period.end, message_id)
        self._record(store, period, "sent", message_id, delivery.refused, size)
        if delivery.refused:
            log.warning(
                "digest %s sent; the server refused %d of %d recipients (management UI: mail)",
                message_id,
                len(delivery.refused),
                len(self._mail.recipients),
            )
        else:
            log.info("digest %s sent (%d bytes)", message_id, size)
        return RunResult("sent", period, message_id, len(delivery.refused))

    def _record(
        self,
        store: Store,
        period: Period,
        outcome: str,
        message_id: str | None,
        refused: dict[str, str],
        size: int,
    ) -> None:
        store.digests.record(
            job=self.job,
            covers_from=period.start,
            covers_to=period.end,
            catch_up=period.catch_up,
            recipients=self._mail.recipients,
            refused=refused,
            outcome=outcome,
            message_id=message_id,
            node=self._node,
            size_bytes=size,
        )

    def _release(self, store: Store, period: Period) -> None:
        try:
            store.job_claims.release(self.job, period.key, self._node)
        except Exception:  # Cassandra out of reach: the claim expires by itself
            log.warning("digest claim not released; it expires in %d s", self._claim_ttl_s)

    def _back_off(self, longest: bool) -> None:
        first, cap = self._backoff_s
        self._failures += 1
        wait = cap if longest else min(cap, first * 2 ** (self._failures - 1))
        self._retry_at = time.monotonic() + wait * random.uniform(0.8, 1.2)
