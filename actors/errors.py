"""The exceptions of Gather's actor runtime, and the base class of expected domain errors."""

from __future__ import annotations


class DomainError(Exception):
    """An expected error (a validation error, a full event): returned to the caller.

    Raising a subclass of this in a handler does not crash the actor: the caller of an
    ask gets the exception, a tell's error is logged at INFO, and the actor goes on.
    """


class NoSuchActor(DomainError, LookupError):
    """No actor has this path in the tree."""


class InvalidOperation(DomainError, ValueError):
    """A tree operation that does not apply here (e.g. restarting the root)."""


class ActorError(Exception):
    """Base class of the errors a caller gets when the runtime could not deliver an answer."""


class ActorCrashed(ActorError):
    """The actor crashed while handling this ask; the original exception is ``__cause__``."""


class ActorUnavailable(ActorError):
    """The actor is stopped, or was not running again before the timeout."""


class AskTimeout(ActorError, TimeoutError):
    """The actor did not answer an ask within the timeout."""


class SupervisorGaveUp(Exception):
    """A supervisor went past its restart intensity: it stops its children and fails."""


class InjectedCrash(Exception):
    """A failure injected by an operator (``Tree.crash``) to drill supervision."""
