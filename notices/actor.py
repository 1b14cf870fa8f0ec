"""The actor that runs a channel's :class:`~notices.sender.Sender`: a pass every
:data:`TICK_S` seconds, and at once when nudged (``"nudge"``); ``"counts"`` answers the
sender's counts since it started (the shell's ``ask``).

Each channel's role has one (``root/sms/notifier``, ``root/mail/notifier``), a subclass that
says how to make its sender (:meth:`NotifierActor.make_sender`). A pass that cannot reach
Cassandra is logged and tried again at the next tick; a node not connected skips its passes.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from typing import Any

from actors.ticker import TickingActor
from node.context import NodeContext
from notices.sender import Sender
from storage.errors import StorageError

TICK_S = 1.0


class NotifierActor(TickingActor, ABC):
    """Sends a channel's owed notices every :data:`TICK_S` seconds, and at once when nudged."""

    def __init__(self, context: NodeContext) -> None:
        super().__init__()
        self.context = context
        self.notifier: Sender[Any] | None = None
        self._passed_at = 0.0

    @abstractmethod
    def make_sender(self) -> Sender[Any]:
        """The sender of the channel, from the node's config (each subclass says how)."""

    def on_start(self) -> None:
        self.notifier = self.make_sender()
        self.start_ticking("tick", TICK_S, f"{self.path}-ticks")

    def on_receive(self, message: Any) -> Any:
        assert self.notifier is not None
        match message:
            case "tick" if time.monotonic() - self._passed_at < TICK_S / 2:
                pass  # a nudge just made a pass: ticks do not pile up behind nudges
            case "tick" | "nudge":
                self._pass(self.notifier)
            case "counts":
                return dict(self.notifier.counts)
            case _:
                raise ValueError(f"unexpected message {message!r}")
        return None

    def release(self) -> None:
        """Stop the ticks and let go of the sender's channel."""
        super().release()
        if self.notifier is not None:
            self.notifier.close()

    def _pass(self, notifier: Sender[Any]) -> None:
        store = self.context.store
        if store is None:
            return
        try:
            notifier.run_pass(store)
        except StorageError as exc:  # Cassandra out of reach: the next tick tries again
            notifier.channel.log.warning("notices not sent this time: %s", exc)
        finally:
            self._passed_at = time.monotonic()
