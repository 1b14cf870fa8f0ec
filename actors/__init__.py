"""Gather's actors: Pykka actors with one failure policy, stable names and monitors.

Supervisors and trees are in ``supervision``; docs/supervision.md explains both.
"""

from actors.actor import GatherActor
from actors.errors import (
    ActorCrashed,
    ActorError,
    ActorUnavailable,
    AskTimeout,
    DomainError,
    InjectedCrash,
    InvalidOperation,
    NoSuchActor,
    SupervisorGaveUp,
)
from actors.monitor import Down, Monitor
from actors.reasons import KILLED, NOPROC, NORMAL, SHUTDOWN, Failure, Reason, is_abnormal
from actors.ref import DEFAULT_TIMEOUT, NamedRef, State
from actors.registry import Registry

__all__ = [
    "DEFAULT_TIMEOUT",
    "KILLED",
    "NOPROC",
    "NORMAL",
    "SHUTDOWN",
    "ActorCrashed",
    "ActorError",
    "ActorUnavailable",
    "AskTimeout",
    "DomainError",
    "Down",
    "Failure",
    "GatherActor",
    "InjectedCrash",
    "InvalidOperation",
    "Monitor",
    "NamedRef",
    "NoSuchActor",
    "Reason",
    "Registry",
    "State",
    "SupervisorGaveUp",
    "is_abnormal",
]
