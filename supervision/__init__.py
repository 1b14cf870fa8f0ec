"""Supervision trees with Erlang/OTP semantics, on Gather's actors (docs/supervision.md)."""

from supervision.introspection import ActorInfo, snapshot
from supervision.spec import BRUTAL_KILL, Backoff, ChildSpec, Restart, Shutdown, Strategy
from supervision.supervisor import Supervisor
from supervision.tree import OPERATION_TIMEOUT, Tree, exit_process, run_root

__all__ = [
    "BRUTAL_KILL",
    "OPERATION_TIMEOUT",
    "ActorInfo",
    "Backoff",
    "ChildSpec",
    "Restart",
    "Shutdown",
    "Strategy",
    "Supervisor",
    "Tree",
    "exit_process",
    "run_root",
    "snapshot",
]
