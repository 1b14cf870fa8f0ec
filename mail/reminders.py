"""The mail role's reminders actor (``root/mail/reminders``): every :data:`CHECK_S` seconds, and
once at start, it owes the reminders due (:meth:`notices.announcer.Announcer.remind`: the day
before each event, from ``mail.remind_at`` on the event's clock) and finishes the
announcements a node left unfinished when it died (:meth:`~notices.announcer.Announcer.sweep`).

Every mail node runs one; the announcements' claims make each reminder owed once for the whole
cluster. The notices it owes are sent by the channels' notifiers (``root/mail/notifier`` for
e-mail, ``root/sms/notifier`` for texts). Cassandra out of reach is logged and tried again at
the next check; so is a bug in one check, with its traceback (crashing would restart the actor
into the same check until the role's supervisor gave up). Messages: ``"check"`` (the check now;
answers how many announcements it finished) and ``"tick"``.
"""

from __future__ import annotations

import logging
from typing import Any

from actors.ticker import TickingActor
from config.cluster import REMIND_AT
from node.context import NodeContext
from notices.announcer import Announcer
from storage import times
from storage.errors import StorageError

log = logging.getLogger("gather.mail")

CHECK_S = 30.0
"""How often reminders are looked for (a reminder is owed at most this long after it is due)."""


class RemindersActor(TickingActor):
    """Owes the reminders due, and finishes announcements left unfinished."""

    def __init__(self, context: NodeContext, check_s: float = CHECK_S) -> None:
        super().__init__()
        self.context = context
        mail = context.config.mail
        self._remind_at = REMIND_AT if mail is None else mail.remind_at
        self._check_s = check_s

    def on_start(self) -> None:
        self.actor_ref.tell("check")  # at once: a node that was off catches up
        self.start_ticking("tick", self._check_s, "reminder-ticks")

    def on_receive(self, message: Any) -> Any:
        match message:
            case "tick" | "check":
                return self._check()
            case _:
                raise ValueError(f"unexpected message {message!r}")

    def _check(self) -> int:
        store = self.context.store
        if store is None:
            return 0
        announcer = Announcer(store, self.context.name, self._remind_at)
        now = times.now()
        try:
            finished = announcer.check(now)
        except StorageError as exc:
            log.warning("reminders not checked this time: %s", exc)
            return 0
        except Exception:
            log.exception("reminder check failed; tried again in %.0f s", self._check_s)
            return 0
        for announcement in finished:
            log.info(
                "announcement %s %s: %s", announcement.key, announcement.state, announcement.owed
            )
        return len(finished)
