"""Sending the e-mails owed to members (:mod:`storage.notices`, channel ``email``): the
reference code after a sign-up on the website or a kiosk, the code sent again on request,
"a seat opened up" after a promotion off the waitlist, and what :mod:`notices.announcer`
owes: the reminder the day before, the event's new time or place, the event cancelled.

The pass (claim, work out, send, settle or retry, at least once) is :mod:`notices.sender`'s;
this is its e-mail channel. Each notice is one message from ``mail.sender`` to the contact
alone, plain text with a small HTML alternative, over :func:`mail.smtp.send`:

- accepted: the notice is settled ``sent``, its Message-ID as the outcome;
- :class:`~mail.smtp.MailUnavailable` (the server out of reach, a timeout, 4xx): tried again
  with a growing back-off. A timeout after the message's data left cannot be told from one
  before it here, so both are retried: **at least once**, a member may get one twice;
- :class:`~mail.smtp.MailRejected` with the recipient refused (5xx): settled ``failed``,
  logged without the address; refused otherwise (the login, 5xx to MAIL FROM or DATA: the
  server's setup or ours, the same for every member): tried again with the back-off, so that
  a fixed configuration still delivers, and given up after the attempts the SMS ones get.

Its ``Message-ID`` is made of the notice's key (:func:`mail.smtp.message_id`), so a message
sent again (after a timeout, or by another node after a crash) is the same message to mail
clients and servers that de-duplicate by it. E-mail has no opt-outs of its own: a member who
gave an address gets what is owed to it, and nothing else.
"""

from __future__ import annotations

import html
import logging
import re
from dataclasses import dataclass
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from config.cluster import MailConfig, SiteConfig
from mail import smtp
from mail.mailer import smtp_settings
from notices.outcome import SendKind, SendOutcome
from notices.sender import About, Channel, Sender
from storage import times
from storage.events import Event
from storage.notices import Notice
from storage.registrations import Registration
from storage.store import Store

_ADDRESS = re.compile(r"[^\s<>]+@[^\s<>]+")


@dataclass(frozen=True)
class Paragraph:
    """One paragraph of a notice's e-mail, with a link at its end (shown in full in the text
    part, as an anchor in the HTML part)."""

    text: str
    link: str | None = None


def when(event: Event) -> str:
    """The event's start in its own time zone, in full: ``Sunday 6 December 2026, 10:30 GMT``."""
    start = event.starts_at.astimezone(ZoneInfo(event.time_zone))
    return f"{start:%A} {start.day} {start:%B %Y, %H:%M} {start.tzname()}"


def scrub(text: str) -> str:
    """``text`` from the SMTP server, safe to log: anything like an address blanked out."""
    return _ADDRESS.sub("<address>", text)[:300]


class EmailChannel(Channel[EmailMessage]):
    """E-mails through the SMTP server of ``mail``, for the site ``site``."""

    name = "email"
    noun = "e-mail"
    log = logging.getLogger("gather.mail")

    def __init__(self, mail: MailConfig, site: SiteConfig) -> None:
        self._sender = mail.sender
        self._domain = mail.sender.rsplit("@", 1)[-1]
        self._settings = smtp_settings(mail)
        self._site = site

    def render(self, notice: Notice, about: About | None) -> EmailMessage | None:
        """The message of a notice about a registration; None for a notice with a body of its
        own (SMS replies: none is owed to an address)."""
        if about is None:
            return None
        registration, event = about.registration, about.event
        subject, news = _news(notice.kind, registration, event)
        paragraphs = [Paragraph(f"Hello {registration.name},"), Paragraph(news)]
        if notice.kind != "cancelled":
            paragraphs += [
                Paragraph(f"Your reference code: {registration.ref}"),
                Paragraph(
                    "To cancel, give this code and this e-mail address on the cancellation page:",
                    f"{self._site.public_url}/cancel?ref={registration.ref}",
                ),
            ]
        paragraphs.append(Paragraph(f"{self._site.name}. Questions? {self._site.contact}"))
        return smtp.new_message(
            sender=self._sender,
            recipients=[notice.contact],
            subject=subject,
            text="\n\n".join(_text(paragraph) for paragraph in paragraphs) + "\n",
            html="".join(_html(paragraph) for paragraph in paragraphs),
            message_id=smtp.message_id("notice", notice.key, self._domain),
            date=times.now(),
        )

    def send(self, notice: Notice, content: EmailMessage) -> SendOutcome:
        """Hand the message to the SMTP server, for the notice's contact alone."""
        try:
            smtp.send(self._settings, content, [notice.contact])
        except smtp.MailUnavailable as exc:
            return SendOutcome(SendKind.RETRY, detail=scrub(exc.reason))
        except smtp.MailRejected as exc:
            kind = SendKind.FAILED if exc.refused else SendKind.RETRY
            return SendOutcome(kind, detail=scrub(exc.reason))
        return SendOutcome(SendKind.SENT, provider_id=str(content["Message-ID"]))

    def record(
        self, store: Store, notice: Notice, content: EmailMessage, outcome: SendOutcome
    ) -> None:
        """Nothing is kept but the settle; the log says which notice went."""
        self.log.info("a %s e-mail was sent: %s", notice.kind, outcome.provider_id)


def notifier(mail: MailConfig, site: SiteConfig, node: str) -> Sender[EmailMessage]:
    """The sender of the cluster's owed ``email`` notices, as node ``node``."""
    return Sender(EmailChannel(mail, site), node)


def _news(kind: str, registration: Registration, event: Event) -> tuple[str, str]:
    """The subject and the news of a notice of ``kind`` about the registration."""
    party = f" (a party of {registration.party_size})" if registration.party_size > 1 else ""
    where = f" at {event.location}" if event.location else ""
    title, on = event.title, f"on {when(event)}{where}"
    status = "on the waitlist" if registration.status == "waitlisted" else "signed up"
    if kind == "promoted":
        return (
            f"A seat opened up: {title}",
            f"A seat opened up: you are now confirmed{party} for {title}, {on}.",
        )
    if kind == "reminder":
        return f"Reminder: {title}", f"A reminder: you are signed up{party} for {title}, {on}."
    if kind == "changed":
        return (
            f"Changed: {title}",
            f"{title} has changed: it is now {on}. You are still {status}{party}.",
        )
    if kind == "cancelled":
        return (
            f"Cancelled: {title}",
            f"We are sorry: {title}, {on}, is cancelled. Your sign-up {registration.ref} is void;"
            " there is nothing you need to do.",
        )
    return f"Your sign-up code for {title}", f"You are {status}{party} for {title}, {on}."


def _text(paragraph: Paragraph) -> str:
    return paragraph.text if paragraph.link is None else f"{paragraph.text}\n{paragraph.link}"


def _html(paragraph: Paragraph) -> str:
    text = html.escape(paragraph.text)
    if paragraph.link is not None:
        link = html.escape(paragraph.link)
        text += f'<br><a href="{link}">{link}</a>'
    return f"<p>{text}</p>"
