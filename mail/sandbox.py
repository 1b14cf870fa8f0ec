"""A real SMTP server on loopback, for the tests and ``make run``.

Gather's tests and demo cannot send mail to the world, so :class:`MailSandbox` runs an
:mod:`aiosmtpd` server on 127.0.0.1 (on a thread of its own) that takes every message,
keeps it in :attr:`MailSandbox.received` and, given a folder, writes it there as an ``.eml``
file that a mail client opens::

    with MailSandbox(folder=Path("var/mail")) as sandbox:
        ...  # smtp.send() to sandbox.host, sandbox.port with security "none"
        [received] = sandbox.wait_for(1)
        received.message["Subject"]

Tests steer it: :meth:`~MailSandbox.refuse` one recipient (550), :meth:`~MailSandbox.defer_all`
(451 to every MAIL FROM), and :meth:`~MailSandbox.stop` then :meth:`~MailSandbox.start` it
again on the same port (the server down, then up). It offers neither STARTTLS nor AUTH.
"""

from __future__ import annotations

import email
import email.policy
import ipaddress
import socket
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

_LOOPBACK = ipaddress.ip_network("127.0.0.0/8")


@dataclass(frozen=True)
class Received:
    """A message the sandbox took."""

    mail_from: str
    """The envelope's sender (MAIL FROM)."""
    rcpt_tos: tuple[str, ...]
    """The envelope's recipients the sandbox accepted (RCPT TO)."""
    content: bytes
    """The message as it came, headers and body."""
    message: EmailMessage
    """``content`` parsed (``email.policy.default``), its CRLF line ends read as ``\\n``."""
    at: datetime
    """When it was taken, UTC."""


class _Mailbox:
    """The sandbox's state, shared by the caller's threads and the server's, and the
    server's handler (aiosmtpd calls its ``handle_*`` hooks on the server's thread)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.received: list[Received] = []
        self.refused: set[str] = set()
        self.deferring = False
        self.changed = threading.Condition()

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        with self.changed:
            if self.deferring:
                return "451 4.3.0 try again later"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        with self.changed:
            if address in self.refused:
                return f"550 5.1.1 <{address}>: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        # Parsed with Python's line ends, so that a part's text reads as it was written.
        lines = content.replace(b"\r\n", b"\n")
        message = email.message_from_bytes(lines, policy=email.policy.default)
        at = datetime.now(UTC)
        received = Received(
            envelope.mail_from or "", tuple(envelope.rcpt_tos), content, message, at
        )
        with self.changed:
            self.received.append(received)
            if self.folder is not None:
                self.folder.mkdir(parents=True, exist_ok=True)
                name = f"{at:%Y%m%dT%H%M%SZ}-{len(self.received)}.eml"
                (self.folder / name).write_bytes(content)
            self.changed.notify_all()
        return "250 OK: queued"


class MailSandbox:
    """An SMTP server on a loopback address (see the module doc); a context manager that
    starts and stops it. Safe to use from any thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, folder: Path | None = None) -> None:
        """Raises ``ValueError`` for a ``host`` outside 127.0.0.0/8. ``port`` 0: a free one
        is chosen at the first start and kept. ``folder`` (created when missing) receives
        each message taken as ``<UTC time>-<n>.eml``."""
        try:
            loopback = ipaddress.ip_address(host) in _LOOPBACK
        except ValueError:
            loopback = False
        if not loopback:
            raise ValueError(f"the mail sandbox listens on 127.0.0.0/8 only, not {host!r}")
        self.host = host
        self._port = port
        self._mailbox = _Mailbox(folder)
        self._controller: Controller | None = None

    @property
    def port(self) -> int:
        """The port it listens on (0 before a first start with port 0)."""
        return self._port

    @property
    def received(self) -> list[Received]:
        """The messages taken so far, oldest first (a copy)."""
        with self._mailbox.changed:
            return list(self._mailbox.received)

    def start(self) -> None:
        """Listen and serve, from a thread of its own; again on the same port after a stop."""
        if self._controller is not None:
            raise RuntimeError("the mail sandbox is running already")
        if self._port == 0:
            with socket.socket() as probe:
                probe.bind((self.host, 0))
                self._port = probe.getsockname()[1]
        # A controller's event loop is closed when it stops: a new one for each start.
        controller = Controller(
            self._mailbox, hostname=self.host, port=self._port, server_hostname="localhost"
        )
        try:
            controller.start()
        except BaseException:
            controller.stop(no_assert=True)
            if not controller.loop.is_closed():
                controller.loop.close()
            raise
        self._controller = controller

    def stop(self) -> None:
        """Stop listening and drop open connections (nothing if it is not running)."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> MailSandbox:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def refuse(self, address: str) -> None:
        """Answer RCPT TO ``address`` (exactly as given there) with 550 from now on."""
        with self._mailbox.changed:
            self._mailbox.refused.add(address)

    def defer_all(self, deferring: bool) -> None:
        """With True, answer every MAIL FROM with 451 (try again later) until called with
        False."""
        with self._mailbox.changed:
            self._mailbox.deferring = deferring

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """The messages taken, once there are at least ``count``; raises ``TimeoutError``
        if there are not within ``timeout`` seconds."""
        with self._mailbox.changed:
            if not self._mailbox.changed.wait_for(
                lambda: len(self._mailbox.received) >= count, timeout
            ):
                came = len(self._mailbox.received)
                raise TimeoutError(f"{came} of {count} messages came within {timeout:g} s")
            return list(self._mailbox.received)
