"""The tree as plain data, for the operator shell and the web's cluster page."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from actors.reasons import Failure
from actors.ref import NamedRef, State


@dataclass(frozen=True)
class ActorInfo:
    """One actor as an operator sees it, with its children (in start order)."""

    path: str
    kind: str
    """``worker`` or ``supervisor``."""
    state: str
    """``starting``, ``running``, ``restarting`` or ``stopped``."""
    restarts: int
    last_failure: Failure | None
    mailbox: int
    """Messages waiting."""
    handled: int
    """Messages handled, over all its restarts."""
    uptime: float
    """Seconds since the running instance started; 0 when it is not running."""
    children: tuple[ActorInfo, ...] = ()

    @property
    def name(self) -> str:
        """The last part of the path."""
        return self.path.rpartition("/")[2]

    def walk(self) -> Iterator[ActorInfo]:
        """This actor, then every actor below it, depth first in start order."""
        yield self
        for child in self.children:
            yield from child.walk()

    def to_dict(self) -> dict[str, Any]:
        """Plain dicts, lists, strings and numbers: ready for msgpack."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ActorInfo:
        """The inverse of :meth:`to_dict`."""
        failure = data["last_failure"]
        return cls(
            **{k: v for k, v in data.items() if k not in ("last_failure", "children")},
            last_failure=None if failure is None else Failure(**failure),
            children=tuple(cls.from_dict(child) for child in data["children"]),
        )


def snapshot(ref: NamedRef) -> ActorInfo:
    """Describe ``ref`` and everything below it, as it is now."""
    actor = ref.actor
    state = ref.state
    if state is State.RUNNING and (actor is None or actor.exit_reason is not None):
        state = State.RESTARTING  # it ended; its supervisor has not handled that yet
    started = actor.started_at if actor is not None else None
    return ActorInfo(
        path=ref.path,
        kind=ref.kind,
        state=state.value,
        restarts=ref.restarts,
        last_failure=ref.last_failure,
        mailbox=actor.actor_inbox.qsize()
        if actor is not None and state is not State.STOPPED
        else 0,
        handled=ref.handled_before + (actor.handled if actor is not None else 0),
        uptime=time.monotonic() - started if state is State.RUNNING and started else 0.0,
        children=tuple(snapshot(child) for child in list(ref.children)),
    )
