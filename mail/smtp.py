"""Sending one e-mail over SMTP, with errors grouped by what the caller does next.

:func:`send` hands one message to an SMTP server with :mod:`smtplib`: it connects (TLS from
the start for ``ssl``, a plain connection upgraded with STARTTLS for ``starttls``, plain for
``none``), says EHLO, logs in when :attr:`SmtpSettings.user` is set, sends, and says QUIT. It
answers with a :class:`Delivery` (who took it, who was refused), or raises one of two
families of :class:`MailError`:

- :class:`MailUnavailable`: try again later (out of reach, a timeout, a 4xx answer);
- :class:`MailRejected`: retrying will not help (login refused, a 5xx answer, every
  recipient refused, no STARTTLS where it was required).

:func:`new_message` builds the message, and :func:`message_id` a Message-ID that stays the
same when a message is sent again. A message sent to the loopback server of
:mod:`mail.sandbox`::

    from datetime import UTC, datetime

    from mail import smtp
    from mail.sandbox import MailSandbox

    with MailSandbox() as sandbox:
        settings = smtp.SmtpSettings(
            host=sandbox.host, port=sandbox.port, security="none", user=None, password=None
        )
        message = smtp.new_message(
            sender="gather@example.org",
            recipients=["staff@example.org"],
            subject="Today at Gather",
            text="3 sign-ups.",
            html="<p>3 sign-ups.</p>",
            message_id=smtp.message_id("digest", "2025-01-31", "example.org"),
            date=datetime.now(UTC),
        )
        delivery = smtp.send(settings, message, ["staff@example.org"])
        print(delivery.accepted)  # ('staff@example.org',)

Recipient addresses are personal data: errors say how many recipients were refused, never
who; :attr:`Delivery.refused` and :attr:`MailRejected.refused` carry the addresses to the
caller. The password is never part of a message or a ``repr``.

Thread safety: every :func:`send` opens a connection of its own and shares nothing, so it may
be called from any thread, and from several at once. It blocks, each step for at most
:attr:`SmtpSettings.timeout_s`.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

SECURITIES = ("starttls", "ssl", "none")
"""The values of :attr:`SmtpSettings.security`."""

_NOT_IN_KEY = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True)
class SmtpSettings:
    """How to reach and log in to the SMTP server."""

    host: str
    port: int
    security: str
    """``starttls`` (upgrade a plain connection), ``ssl`` (TLS from the start) or ``none``."""
    user: str | None
    """Who logs in; None: no login."""
    password: str | None = field(repr=False)
    """The password of ``user``, already read from its secret source; never shown."""
    timeout_s: float = 30.0
    """How long connecting, and each command, may take."""
    helo: str | None = None
    """The name said in EHLO; None: this machine's fully qualified name."""

    def __post_init__(self) -> None:
        if self.security not in SECURITIES:
            raise ValueError(f"security must be one of {', '.join(SECURITIES)}")
        if self.user is not None and self.password is None:
            raise ValueError("a user to log in needs a password")


@dataclass(frozen=True)
class Delivery:
    """What the server did with a message it took."""

    accepted: tuple[str, ...]
    """The recipients it took the message for."""
    refused: dict[str, str]
    """The recipients it refused, each with its answer as the server gave it
    (``"550 5.1.1 ..."``); the others received the message."""


class MailError(Exception):
    """The message was not sent; ``reason`` says why (without addresses or secrets)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MailUnavailable(MailError):
    """The server is out of reach or answered "not now" (4xx): try again later."""


class MailRejected(MailError):
    """The server will not take the message as it is configured: retrying will not help.
    ``refused`` holds each recipient's answer when every recipient was refused."""

    def __init__(self, reason: str, refused: dict[str, str] | None = None) -> None:
        super().__init__(reason)
        self.refused = dict(refused or {})


def message_id(kind: str, key: str, domain: str) -> str:
    """``<kind-key@domain>``, ``key`` with every character outside ``[A-Za-z0-9._-]``
    replaced by ``-``: the same ``key`` gives the same Message-ID when a message is resent."""
    return f"<{kind}-{_NOT_IN_KEY.sub('-', key)}@{domain}>"


def new_message(
    *,
    sender: str,
    recipients: Sequence[str],
    subject: str,
    text: str,
    html: str | None,
    message_id: str,
    date: datetime,
) -> EmailMessage:
    """An automatic message from ``sender`` to ``recipients``: ``text`` alone, or with
    ``html``, ``multipart/alternative``. ``message_id`` is its Message-ID as given, ``date``
    (timezone-aware) its Date."""
    if date.tzinfo is None:
        raise ValueError("the message's date needs a time zone")
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


def send(settings: SmtpSettings, message: EmailMessage, recipients: Sequence[str]) -> Delivery:
    """Send ``message`` to ``recipients`` (its envelope; the headers are not read for it).

    Returns the :class:`Delivery` when the server took it for at least one recipient; raises
    :class:`MailUnavailable` or :class:`MailRejected` otherwise."""
    to = list(recipients)
    if not to:
        raise ValueError("a message needs at least one recipient")
    client: smtplib.SMTP | None = None
    try:
        client = _connect(settings)
        if settings.user is not None and settings.password is not None:
            client.login(settings.user, settings.password)
        answers = client.send_message(message, to_addrs=to)
    except smtplib.SMTPRecipientsRefused as exc:
        # from None: the refused addresses must not reach a logged traceback.
        raise _all_refused(_texts(exc.recipients)) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise _failure(settings, exc) from exc
    finally:
        if client is not None:
            _close(client)
    refused = _texts(answers)
    return Delivery(tuple(address for address in to if address not in refused), refused)


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    """A connection to the server, greeted with EHLO (and upgraded to TLS for starttls)."""
    client: smtplib.SMTP
    if settings.security == "ssl":
        client = smtplib.SMTP_SSL(
            settings.host,
            settings.port,
            local_hostname=settings.helo,
            timeout=settings.timeout_s,
            context=ssl.create_default_context(),
        )
    else:
        client = smtplib.SMTP(
            settings.host, settings.port, local_hostname=settings.helo, timeout=settings.timeout_s
        )
    try:
        client.ehlo()
        if settings.security == "starttls":
            client.starttls(context=ssl.create_default_context())
            client.ehlo()
    except BaseException:
        _close(client)
        raise
    return client


def _close(client: smtplib.SMTP) -> None:
    """QUIT, or just close a connection that is broken already."""
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()


def _texts(answers: dict[str, tuple[int, bytes]]) -> dict[str, str]:
    """smtplib's refused recipients, each answer as the server wrote it."""
    return {address: f"{code} {_decoded(text)}" for address, (code, text) in answers.items()}


def _decoded(text: bytes | str) -> str:
    return text.decode("utf-8", "replace") if isinstance(text, bytes) else text


def _all_refused(refused: dict[str, str]) -> MailError:
    codes = sorted({answer.split(" ", 1)[0] for answer in refused.values()})
    reason = f"the server refused all {len(refused)} recipients ({', '.join(codes)})"
    if all(code.startswith("4") for code in codes):
        return MailUnavailable(reason)
    return MailRejected(reason, refused)


_COMMANDS: tuple[tuple[type[smtplib.SMTPResponseException], str], ...] = (
    (smtplib.SMTPConnectError, "the greeting"),
    (smtplib.SMTPHeloError, "EHLO"),
    (smtplib.SMTPAuthenticationError, "the login"),
    (smtplib.SMTPSenderRefused, "MAIL FROM"),
    (smtplib.SMTPDataError, "DATA"),
)


def _failure(settings: SmtpSettings, exc: smtplib.SMTPException | OSError) -> MailError:
    """The MailError for what smtplib or the socket raised."""
    server = f"{settings.host}:{settings.port}"
    if isinstance(exc, smtplib.SMTPResponseException):
        what = next((name for kind, name in _COMMANDS if isinstance(exc, kind)), "a command")
        reason = f"{server} answered {what} with {exc.smtp_code} {_decoded(exc.smtp_error)}"
        if 400 <= exc.smtp_code <= 499:
            return MailUnavailable(reason)
        return MailRejected(reason)
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return MailUnavailable(f"{server} closed the connection: {exc}")
    if isinstance(exc, smtplib.SMTPException):  # e.g. no STARTTLS, no AUTH offered
        return MailRejected(f"{server}: {exc}")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return MailRejected(f"{server}'s certificate is not trusted: {exc.verify_message}")
    return MailUnavailable(f"cannot reach {server}: {exc}")
