"""The exceptions of Gather's actor runtime, and the base class of expected domain errors."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """An expected error (a validation error, a full event): returned to the caller.

    Raising a subclass of this in a handler does not crash the actor: the caller of an
    ask gets the exception, a tell's error is logged at INFO, and the actor goes on.

    Every subclass is registered under :func:`wire_name`, so that it crosses the node link
    as itself, with its fields: :meth:`arguments` are what its constructor takes (plain data
    only: str, int, float, bool, None), and :func:`rebuild` makes it again on the far side.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _DOMAIN_ERRORS[wire_name(cls)] = cls

    def arguments(self) -> tuple[Any, ...]:
        """The constructor's arguments that make this error again (for pickle and the link)."""
        return self.args

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), self.arguments()


_DOMAIN_ERRORS: dict[str, type[DomainError]] = {}


def wire_name(cls: type[BaseException]) -> str:
    """The name an error type travels under: ``module.QualifiedName``."""
    return f"{cls.__module__}.{cls.__qualname__}"


def rebuild(name: str, arguments: list[Any]) -> DomainError | None:
    """The domain error ``name`` made from ``arguments``; None if the type is not known here
    or the arguments do not fit it (a peer running another version)."""
    cls = _DOMAIN_ERRORS.get(name)
    if cls is None:
        return None
    try:
        return cls(*arguments)
    except Exception:  # whatever a constructor raises on a peer's data: not rebuilt
        return None


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
