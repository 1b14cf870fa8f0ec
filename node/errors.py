"""What goes wrong between nodes, and how an error crosses the link in an answer.

An answer that is an error (``["reply", id, False, error]``, or ``["result", ...]`` to a
shell) holds one of::

    [type, message]                          any error: its class name and its text
    [type, message, wire_name, arguments]    a DomainError: also the name it is registered
                                             under and its constructor's arguments

The asker makes a domain error it knows again with its fields (``actors.errors.rebuild``);
any other error, and a domain error unknown to the asker (a newer peer's), arrives as
:class:`RemoteError` with the type and the message.
"""

from __future__ import annotations

from typing import Any

from actors.errors import DomainError, rebuild, wire_name

_PLAIN = (str, bytes, bool, float, type(None))
_INT_RANGE = range(-(2**63), 2**64)


class LinkError(RuntimeError):
    """A message could not be sent to, or answered by, another node."""


class PeerUnavailable(LinkError):
    """The target node is not connected (down, or never seen); nothing was sent."""


class RemoteError(LinkError):
    """The remote actor answered an ask with an error (its type and message are kept)."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type
        self.message = message


def encode_error(error: object) -> list[Any]:
    """The msgpack-able form of ``error`` for an error answer."""
    body: list[Any] = [type(error).__name__, str(error)]
    if isinstance(error, DomainError):
        body += [wire_name(type(error)), [_plain(argument) for argument in error.arguments()]]
    return body


def decode_error(body: Any) -> Exception:
    """The exception an error answer stands for: the domain error itself when it is known
    here and its arguments fit, else a :class:`RemoteError`."""
    if not isinstance(body, list) or len(body) not in (2, 4):
        return RemoteError("Error", str(body))
    if len(body) == 4 and isinstance(body[2], str) and isinstance(body[3], list):
        error = rebuild(body[2], body[3])
        if error is not None:
            return error
    return RemoteError(str(body[0]), str(body[1]))


def describe(error: BaseException) -> str:
    """``Type: message``, as an operator reads an error (a RemoteError already says so)."""
    return str(error) if isinstance(error, RemoteError) else f"{type(error).__name__}: {error}"


def _plain(argument: Any) -> Any:
    """``argument`` if msgpack sends it as itself, else its text."""
    if isinstance(argument, _PLAIN) or (isinstance(argument, int) and argument in _INT_RANGE):
        return argument
    return str(argument)
