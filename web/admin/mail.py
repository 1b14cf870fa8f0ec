"""The Mail pages: the daily digest's status and history, "send now", a preview, and the
history of reminders and event notices (:mod:`storage.announcements`) with how they ended.

The digest's mailer (``root/mail/mailer``, :mod:`mail.actor`) runs on every node with the
mail role. A page asks this node's own mailer when this node has the role, else, over the
node link, the first other mail node of cluster.yaml whose link is up; when none answers the
page says why. The mailer's answers are plain data (they may cross the link), so the mail
package is not imported here: a web node loads it only when it has the mail role too.

``POST /admin/mail/send`` answers with a redirect to the Mail page, which tells what the send
did once (a short-lived signed cookie: :meth:`MailAdmin.flash`).
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from actors.errors import ActorCrashed, ActorError, DomainError
from node.context import NodeContext
from node.errors import LinkError, RemoteError, describe
from storage import times
from storage.announcements import Announcement
from storage.digests import DigestRun
from storage.notices import CHANNELS
from storage.store import Store
from web.admin.base import Admin
from web.base import Refusal, size_text

MAILER = "root/mail/mailer"
"""The mailer actor's path in a mail node's tree (``mail.actor.MAILER``)."""
JOB = "digest"
"""The digest's job: its watermark, claims and history (``mail.mailer.JOB``)."""
HISTORY = 50
"""Runs the Mail page lists, newest first."""
ANNOUNCEMENTS = 50
"""Announcements (reminders, new times or places, cancellations) the Mail page lists."""
NOTICE_DAYS = 7
"""Days of notices read to tell how an announcement's notices ended; older ones are not."""
KIND_WORDS = {"reminder": "Reminder", "changed": "New time or place", "cancelled": "Cancelled"}
"""What the Mail page calls each kind of announcement."""
CHANNEL_WORDS = {"sms": ("text", "texts"), "email": ("e-mail", "e-mails")}
"""A notice of each channel, one and many, in the Mail page's words."""
ENDINGS = {
    "sent": "sent",
    "failed": "failed",
    "opted_out": "opted out",
    "skipped": "skipped",
    "pending": "pending",
}
"""How an announcement's notices ended, as the Mail page counts and words them (``pending``:
owed, being sent or to be tried again)."""
STATUS_TIMEOUT_S = 3.0
"""How long the Mail page waits for the mailer's status (busy sending, it answers late)."""
PREVIEW_TIMEOUT_S = 30.0
"""How long a preview may take: the mailer reads the whole period, as a send does."""
SEND_TIMEOUT_S = 60.0
"""How long "send now" waits for the mailer to read, render and send a digest."""
FLASH_COOKIE = "gather_mail_flash"
FLASH_S = 300
"""How long what a send did waits to be shown on the Mail page."""
FLASH_MAX = 600
"""Characters of a send's outcome kept for the Mail page (an SMTP answer may be long)."""

MAILER_FAILURES = (ActorError, DomainError, LinkError, TimeoutError)
"""What asking the mailer may raise when it cannot answer."""
UNCERTAIN = (ActorCrashed, RemoteError)
"""Failures after which the mailer may have acted all the same (it got the message), as
after a timeout."""

PREVIEW_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; form-action 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; sandbox"
)
"""The policy of the digest's HTML preview: as strict as the site's (no script, nothing
loaded from anywhere, no form, never in a frame), sandboxed (an origin of its own, no
pop-ups), but with the inline styles a mail is made of (mail clients drop style sheets)."""


class MailerUnreachable(Exception):
    """No mailer answered; the message says why (``uncertain``: it may have acted)."""

    def __init__(self, reason: str, uncertain: bool = False) -> None:
        super().__init__(reason)
        self.uncertain = uncertain


def mail_nodes(context: NodeContext) -> list[str]:
    """The nodes with the mail role, in cluster.yaml's order."""
    return [name for name, node in context.config.nodes.items() if "mail" in node.roles]


def mailer_node(context: NodeContext) -> str:
    """The node whose mailer the pages ask: this one when it has the mail role, else the
    first other mail node whose link is up. Raises :class:`MailerUnreachable` when none."""
    if "mail" in context.node.roles:
        return context.name
    others = [name for name in mail_nodes(context) if name != context.name]
    if not others:
        raise MailerUnreachable("no node of cluster.yaml has the mail role")
    link = context.link
    if link is None:
        raise MailerUnreachable(f"the node link of {context.name} is not running")
    up = {peer.name for peer in link.peers() if peer.up}
    for name in others:
        if name in up:
            return name
    raise MailerUnreachable(f"the link to every mail node ({', '.join(others)}) is down")


def ask_mailer(context: NodeContext, message: str, timeout: float) -> tuple[str, Any]:
    """Ask the digest's mailer (on :func:`mailer_node`) ``message``; (the node that
    answered, its answer). Blocks: run it off the IOLoop. Raises :class:`MailerUnreachable`
    saying why no mailer answered."""
    node = mailer_node(context)
    try:
        if node == context.name:
            return node, context.require_tree().ask(MAILER, message, timeout=timeout)
        return node, context.require_link().ask(node, MAILER, message, timeout)
    except TimeoutError as exc:
        raise MailerUnreachable(
            f"the mailer on {node} did not answer within {timeout:g} s", uncertain=True
        ) from exc
    except MAILER_FAILURES as exc:
        raise MailerUnreachable(
            f"the mailer on {node} failed ({describe(exc)})",
            uncertain=isinstance(exc, UNCERTAIN),
        ) from exc


@dataclass(frozen=True)
class Flash:
    """What the Mail page tells once: a sentence, and whether it is good news."""

    text: str
    ok: bool


def send_outcome(node: str, result: dict[str, Any]) -> Flash:
    """What staff are told of a "send now" the mailer on ``node`` answered with ``result``
    (``mail.mailer.RunResult`` as plain data)."""
    outcome = result.get("outcome")
    detail = result.get("detail") or "no reason given"
    match outcome:
        case "sent":
            refused = result.get("refused") or 0
            text = f"The digest was sent by {node}, Message-ID {result.get('message_id')}."
            if refused:
                text += f" The server refused {refused} recipient(s): see the history."
            return Flash(text, ok=True)
        case "empty":
            return Flash(
                "Nothing new since the last digest, and an empty digest is not sent "
                "(mail.send_empty): nothing was sent.",
                ok=True,
            )
        case "claimed_elsewhere":
            return Flash(
                "Another mail node is sending this period's digest (it holds the claim): "
                "nothing was sent by this request.",
                ok=False,
            )
        case "deferred":
            return Flash(
                f"Deferred: the SMTP server is unavailable ({detail}). Nothing was sent; the "
                "next digest still covers this period.",
                ok=False,
            )
        case "rejected":
            return Flash(
                f"Rejected by the SMTP server: {detail}. The next digest still covers this period.",
                ok=False,
            )
    return Flash(f"The mailer on {node} answered {outcome!r}: {detail}.", ok=False)


def endings(store: Store, announcements: list[Announcement]) -> dict[str, Counter[str]]:
    """How the notices of each announcement owed in the last :data:`NOTICE_DAYS` days ended,
    by the announcement's key: a count per :data:`ENDINGS` of the notices whose key starts
    with its key and ``:``. Reads each channel's notices of those days once."""
    oldest = times.now().date() - timedelta(days=NOTICE_DAYS - 1)
    found: dict[str, Counter[str]] = {
        a.key: Counter() for a in announcements if a.owed_at.date() >= oldest
    }
    for channel in CHANNELS:
        for notice in store.notices.recent(channel, NOTICE_DAYS):
            key = notice.key.rsplit(":", 2)[0]  # the announcement's, then option:number
            if key in found:
                state = notice.state
                found[key][state if state is not None and notice.settled else "pending"] += 1
    return found


class MailAdmin(Admin):
    """A Mail page: times in the digest's time zone, and the outcome of a send shown once."""

    @property
    def zone(self) -> ZoneInfo:
        """The digest's time zone (the site's when cluster.yaml has no mail section)."""
        config = self.context.config
        return ZoneInfo(config.mail.time_zone if config.mail else config.site.time_zone)

    def get_template_namespace(self) -> dict[str, Any]:
        """``local`` (a moment, or its ISO text, in the digest's zone), ``zone`` (its name) and
        ``size_text`` (a byte count for people)."""
        return super().get_template_namespace() | {
            "local": self.local,
            "zone": self.zone.key,
            "size_text": size_text,
        }

    def local(self, moment: datetime | str | None) -> str:
        """``moment`` (a datetime or its ISO text) in the digest's zone, to the second."""
        if moment is None:
            return ""
        if isinstance(moment, str):
            moment = datetime.fromisoformat(moment)
        return moment.astimezone(self.zone).strftime("%Y-%m-%d %H:%M:%S")

    def flash(self, flash: Flash) -> None:
        """Have the Mail page show ``flash`` next time, once."""
        self.set_signed_cookie(
            FLASH_COOKIE,
            json.dumps([flash.text[:FLASH_MAX], flash.ok]),
            expires_days=None,
            path="/admin/mail",
            httponly=True,
            samesite="Strict",
            secure=self.origin.scheme == "https",
        )

    def take_flash(self) -> Flash | None:
        """What a send left to be shown, if anything; it is shown once."""
        if self.get_cookie(FLASH_COOKIE) is None:
            return None
        self.clear_cookie(FLASH_COOKIE, path="/admin/mail")
        raw = self.get_signed_cookie(FLASH_COOKIE, max_age_days=FLASH_S / 86400)
        if raw is None:  # too old, or not ours
            return None
        text, ok = json.loads(raw)
        return Flash(str(text), bool(ok))

    async def ask(self, message: str, timeout: float) -> tuple[str, Any]:
        """:func:`ask_mailer`, off the IOLoop."""
        return await self.blocking(ask_mailer, self.context, message, timeout)


class MailPageAdmin(MailAdmin):
    """``GET /admin/mail``: the mailer's status, the watermark and the digests sent."""

    async def get(self) -> None:
        def history(store: Store) -> tuple[datetime | None, list[DigestRun]]:
            return store.watermarks.get(JOB), store.digests.recent(JOB, HISTORY)

        def announced(store: Store) -> tuple[list[Announcement], dict[str, Counter[str]]]:
            announcements = store.announcements.recent()[:ANNOUNCEMENTS]
            return announcements, endings(store, announcements)

        mailer, (watermark, runs), (announcements, ended) = await asyncio.gather(
            self.status(), self.storage(history), self.storage(announced)
        )
        node, status, problem = mailer
        self.render(
            "admin/mail.html",
            flash=self.take_flash(),
            node=node,
            status=status,
            problem=problem,
            watermark=watermark,
            runs=runs,
            announcements=announcements,
            endings=ended,
            notice_days=NOTICE_DAYS,
            kind_words=KIND_WORDS,
            channel_words=CHANNEL_WORDS,
            ending_words=ENDINGS,
            me=self.context.name,
        )

    async def status(self) -> tuple[str, dict[str, Any] | None, str]:
        """(the node that answered, the mailer's status, "") or ("", None, why not)."""
        try:
            node, status = await self.ask("status", STATUS_TIMEOUT_S)
        except MailerUnreachable as exc:
            return "", None, str(exc)
        return node, status, ""


class MailSendAdmin(MailAdmin):
    """``POST /admin/mail/send``: send a digest now (from the watermark to now), then back
    to the Mail page, which says what happened."""

    async def post(self) -> None:
        try:
            node, result = await self.ask("send_now", SEND_TIMEOUT_S)
        except MailerUnreachable as exc:
            if exc.uncertain:
                flash = Flash(
                    f"No answer about the digest: {exc}. If it was sent, the history below "
                    "lists it.",
                    ok=False,
                )
            else:
                flash = Flash(f"The digest was not sent: {exc}.", ok=False)
        else:
            flash = send_outcome(node, result)
        self.flash(flash)
        self.redirect("/admin/mail", status=303)


class MailPreviewAdmin(MailAdmin):
    """``GET /admin/mail/preview``: the digest that would be sent now, its subject and its
    plain-text part (nothing is sent, claimed or moved)."""

    async def get(self) -> None:
        try:
            node, preview = await self.ask("preview", PREVIEW_TIMEOUT_S)
        except MailerUnreachable as exc:
            node, preview, problem = "", None, str(exc)
        else:
            problem = ""
        self.render("admin/mail_preview.html", node=node, preview=preview, problem=problem)


class MailPreviewHtmlAdmin(MailAdmin):
    """``GET /admin/mail/preview.html``: the HTML part of the digest that would be sent now,
    served as a page of its own (:data:`PREVIEW_POLICY`), as a mail client shows it."""

    async def get(self) -> None:
        try:
            _, preview = await self.ask("preview", PREVIEW_TIMEOUT_S)
        except MailerUnreachable as exc:
            raise Refusal(503, f"No preview of the digest: {exc}.") from exc
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.set_header("Content-Security-Policy", PREVIEW_POLICY)
        self.write(preview["html"])
