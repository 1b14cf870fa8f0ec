"""The mail role's actors (``node.process.ROLE_CHILDREN["mail"]``, docs/mail.md).

::

    mail               one_for_one, at most 5 restarts in 30 s
    ├── mailer         MailerActor: the digest, checked every CHECK_S by its schedule
    ├── reminders      RemindersActor (mail.reminders): owes the reminders due the day before
    │                  each event, finishes announcements a dead node left, every 30 s
    └── notifier       MailNotifier: sends the e-mails owed to members (codes, codes sent
                       again, promotions, reminders, changed and cancelled events), every
                       second (mail.notices, notices.sender)

one_for_one: the three share nothing but Cassandra and the SMTP server, so a crash of one
leaves the others alone.

The mailer keeps a ``schedule.Scheduler`` (the product's scheduler) whose one job checks
every :data:`CHECK_S` seconds whether a digest is due: the daily slot at ``mail.send_at`` in
``mail.time_zone`` has passed since the watermark. ``schedule`` neither persists nor runs
missed jobs, and its own time zones need pytz: the watermark in Cassandra is the truth, and
:mod:`mail.period` computes the slots with ``zoneinfo``. The scheduler is driven by a
:class:`~actors.ticker.Ticker` on the actor's own thread, so a run never overlaps another
message. A crash mid-run (the shell's ``crash``) leaves its claim, which the restarted actor
(the same node) takes over at once.

It checks once at start as well (a node that was off catches up). Messages: ``"tick"``,
``"check"``, ``"send_now"`` and ``"status"`` (dicts for the management UI and the
shell), ``"preview"`` (the digest that would be sent now, as text and HTML).

The notifier is :class:`notices.actor.NotifierActor` with the e-mail channel: a pass every
second; Cassandra out of reach is logged and tried again at the next tick. ``"counts"``
answers its counts since it started.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from email.message import EmailMessage
from typing import Any

import schedule

from actors.ticker import TickingActor
from mail import notices
from mail.mailer import Mailer, RunResult
from mail.reminders import RemindersActor
from node.context import NodeContext
from notices.actor import NotifierActor
from notices.sender import Sender
from storage.errors import StorageError
from storage.store import Store
from supervision.spec import ChildSpec

log = logging.getLogger("gather.mail")

MAILER = "root/mail/mailer"
CHECK_S = 30
"""How often the schedule checks whether a digest is due (a digest goes out at most this long
after its slot)."""
TICK_S = 1.0


class MailerActor(TickingActor):
    """Sends the digest when it is due, and by hand."""

    def __init__(self, context: NodeContext, check_s: int = CHECK_S) -> None:
        super().__init__()
        self.context = context
        self.mailer = Mailer(context.config, context.name)
        self.scheduler = schedule.Scheduler()
        self._check_s = check_s

    def on_start(self) -> None:
        self.scheduler.every(self._check_s).seconds.do(self._check)
        self.actor_ref.tell("check")  # at once too: a node that was off catches up
        self.start_ticking("tick", min(TICK_S, self._check_s), "mail-ticks")

    def on_receive(self, message: Any) -> Any:
        match message:
            case "tick":
                self.scheduler.run_pending()
                return None
            case "check":
                self._check()
                return None
            case "send_now":
                return _result(self.mailer.send_now(self._store()))
            case "preview":
                _, rendered = self.mailer.preview(self._store())
                return {"subject": rendered.subject, "text": rendered.text, "html": rendered.html}
            case "status":
                return self._status()
            case _:
                raise ValueError(f"unexpected message {message!r}")

    def _store(self) -> Store:
        return self.context.require_store()

    def _check(self) -> None:
        store = self.context.store
        if store is None:
            return
        try:
            self.mailer.check(store)
        except StorageError as exc:  # Cassandra out of reach: the next check tries again
            log.warning("digest not checked this time: %s", exc)
        except Exception:
            # A bug reading or rendering one period: crashing would restart the mailer into
            # the same check until the role's supervisor gives up and takes the node (its
            # website, its webhook) down with it. Logged with its traceback; tried again.
            log.exception("digest check failed; tried again in %d s", self._check_s)

    def _status(self) -> dict[str, Any]:
        last = self.mailer.last
        return {
            "node": self.context.name,
            "next_slot": self.mailer.next_slot().isoformat(),
            "time_zone": self.mailer.zone.key,
            "retry_in_s": round(self.mailer.retry_in_s(), 1),
            "last": None if last is None else _result(last),
        }


class MailNotifier(NotifierActor):
    """Sends owed e-mails every :data:`~notices.actor.TICK_S` seconds."""

    def make_sender(self) -> Sender[EmailMessage]:
        config = self.context.config
        if config.mail is None:
            raise ValueError("the mail role needs the mail section of cluster.yaml")
        return notices.notifier(config.mail, config.site, self.context.name)


def _result(result: RunResult) -> dict[str, Any]:
    """A run's result as plain data (it crosses the node link)."""
    out = asdict(result)
    period = result.period
    out["period"] = None
    if period is not None:
        out["period"] = {
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "catch_up": period.catch_up,
            "missed": period.missed,
        }
    return out


def children(context: NodeContext) -> list[ChildSpec]:
    """The mail role supervisor's children."""
    return [
        ChildSpec("mailer", MailerActor, kwargs={"context": context}),
        ChildSpec("reminders", RemindersActor, kwargs={"context": context}),
        ChildSpec("notifier", MailNotifier, kwargs={"context": context}),
    ]
