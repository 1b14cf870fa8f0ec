"""How a supervisor runs its children: strategies, restart types, shutdowns, backoff, specs."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal, TypeAlias

from actors.actor import GatherActor


class Strategy(StrEnum):
    """What a supervisor restarts when a child fails (OTP's strategies)."""

    ONE_FOR_ONE = "one_for_one"
    """The failed child only."""
    ONE_FOR_ALL = "one_for_all"
    """Every child: the others are stopped (in reverse order), then all start again."""
    REST_FOR_ONE = "rest_for_one"
    """The failed child and the children started after it."""
    SIMPLE_ONE_FOR_ONE = "simple_one_for_one"
    """Dynamic children of one kind, from one template spec, each restarted on its own."""


class Restart(StrEnum):
    """When a child that ended is started again."""

    PERMANENT = "permanent"
    """Always."""
    TRANSIENT = "transient"
    """After a failure (or a kill), not after a normal stop or a shutdown."""
    TEMPORARY = "temporary"
    """Never, not even when a sibling's failure restarts the group."""


BRUTAL_KILL = "brutal_kill"
"""Shutdown without ``on_stop``: the instance is ended at once (docs/supervision.md)."""

Shutdown: TypeAlias = float | Literal["brutal_kill"] | None
"""``BRUTAL_KILL``, seconds to wait for ``on_stop`` before killing, or None to wait for ever."""


@dataclass(frozen=True)
class Backoff:
    """Delay restarts of a child that depends on something outside (Cassandra, SMTP).

    The n-th restart in a row waits ``min(max, min * 2**n) * (1 + jitter * random())``
    seconds; a child that ran ``reset_after`` seconds before failing starts again from
    ``min``. Restarts of a child with a backoff do not count towards its supervisor's
    restart intensity: the backoff is what limits them.
    """

    min: float = 0.1
    max: float = 30.0
    jitter: float = 0.2
    reset_after: float = 60.0

    def __post_init__(self) -> None:
        if not 0 < self.min <= self.max or self.jitter < 0 or self.reset_after < 0:
            msg = f"invalid backoff {self}: need 0 < min <= max, jitter >= 0, reset_after >= 0"
            raise ValueError(msg)

    def delay(self, failures: int, rand: Callable[[], float] = random.random) -> float:
        """Seconds to wait before restarting after ``failures`` earlier failures in a row."""
        return min(self.max, self.min * 2.0 ** min(failures, 64)) * (1.0 + self.jitter * rand())


@dataclass(frozen=True)
class ChildSpec:
    """One child of a supervisor: its name, how to make it, and its restart and shutdown.

    The child is ``actor(*args, **kwargs)``, made in its supervisor's thread. Supervisor
    children come from ``Supervisor.spec(...)``: they wait for their own children to stop,
    so their shutdown is always None.
    """

    name: str
    actor: type[GatherActor]
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    restart: Restart = Restart.PERMANENT
    shutdown: Shutdown = 5.0
    start_timeout: float | None = 5.0
    """Seconds ``on_start`` may take; past it the start counts as a failure."""
    backoff: Backoff | None = None

    def __post_init__(self) -> None:
        if not self.name or "/" in self.name:
            msg = f"a child's name must be non-empty and without '/': {self.name!r}"
            raise ValueError(msg)
        if not (isinstance(self.actor, type) and issubclass(self.actor, GatherActor)):
            msg = f"{self.name}: actor must be a GatherActor subclass, not {self.actor!r}"
            raise TypeError(msg)
        object.__setattr__(self, "restart", Restart(self.restart))
        if self.kind == "supervisor" and self.shutdown is not None:
            msg = f"{self.name}: a supervisor's shutdown must be None (wait for its children)"
            raise ValueError(msg)
        if self.shutdown not in (None, BRUTAL_KILL) and not (
            isinstance(self.shutdown, int | float) and self.shutdown >= 0
        ):
            msg = f"{self.name}: shutdown must be None, 'brutal_kill' or seconds >= 0"
            raise ValueError(msg)

    @property
    def kind(self) -> str:
        """``worker`` or ``supervisor``."""
        return self.actor.kind
