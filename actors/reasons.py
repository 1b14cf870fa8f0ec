"""Why an actor ended: a normal exit, a shutdown by its supervisor, a kill, or a failure."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any, TypeAlias

NORMAL = "normal"
"""The actor stopped itself (``self.stop()``)."""

SHUTDOWN = "shutdown"
"""Its supervisor (or the operator) stopped it."""

KILLED = "killed"
"""Stopped without cleanup: ``brutal_kill``, or it did not stop within its shutdown timeout."""

NOPROC = "noproc"
"""There was no such actor to monitor."""


@dataclass(frozen=True)
class Failure:
    """An abnormal exit: the exception's type and message, and when (seconds since the epoch).

    The traceback is in the log line that every crash writes, not here.
    """

    type: str
    message: str
    time: float

    @classmethod
    def from_exception(cls, error: BaseException) -> Failure:
        """Describe ``error`` as a failure that happened now."""
        return cls(type=type(error).__name__, message=str(error), time=time.time())

    def __str__(self) -> str:
        return f"{self.type}: {self.message}" if self.message else self.type

    def to_dict(self) -> dict[str, Any]:
        """Plain data, for msgpack."""
        return asdict(self)


Reason: TypeAlias = str | Failure
"""An exit reason: one of the constants above, or a :class:`Failure`."""


def is_abnormal(reason: Reason) -> bool:
    """True for a failure or a kill: what ``transient`` children are restarted after."""
    return isinstance(reason, Failure) or reason == KILLED
