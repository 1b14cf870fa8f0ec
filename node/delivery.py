"""How messages from the node link reach this node's actors, by path in its tree.

The link's loop thread must never block, so a tell or ask first tries without waiting; only
when the target is being restarted is the wait (up to the usual timeout) moved to a worker
thread. Answers of asks come back through a Pykka future that calls the link's reply
callback from whichever thread sets it: no thread waits for an answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pykka import Future

from actors.errors import ActorError, DomainError
from actors.ref import DEFAULT_TIMEOUT
from node.context import NodeContext
from node.operator import Operator

log = logging.getLogger("gather.link")

Reply = Callable[[bool, Any], None]


class _ReplyFuture(Future[Any]):
    """A Pykka future that only hands its value or error to a reply callback; nobody waits."""

    def __init__(self, reply: Reply) -> None:
        super().__init__()
        self._reply = reply

    def set(self, value: Any = None) -> None:
        self._reply(True, value)

    def set_exception(self, exc_info: Any = None) -> None:
        error = exc_info[1] if isinstance(exc_info, tuple) else exc_info
        self._reply(False, error)


class TreeDelivery:
    """The link's ``Delivery`` for one node: actors by path, and the operator's commands."""

    def __init__(self, context: NodeContext) -> None:
        self._context = context
        self._operator = Operator(context)
        self._waiters = ThreadPoolExecutor(max_workers=4, thread_name_prefix="delivery")

    def tell(self, path: str, message: Any) -> None:
        try:
            self._context.require_tree().ref(path).tell(message, timeout=0)
        except ActorError:
            self._waiters.submit(self._tell_waiting, path, message)
        except DomainError as exc:
            log.warning("message for %s not delivered: %s", path, exc)

    def _tell_waiting(self, path: str, message: Any) -> None:
        try:
            self._context.require_tree().ref(path).tell(message, timeout=DEFAULT_TIMEOUT)
        except (ActorError, DomainError) as exc:
            log.warning("message for %s not delivered: %s", path, exc)

    def ask(self, path: str, message: Any, timeout: float, reply: Reply) -> None:
        future = _ReplyFuture(reply)
        try:
            self._context.require_tree().ref(path).send_ask(message, future, timeout=0)
        except ActorError:
            self._waiters.submit(self._ask_waiting, path, message, timeout, future, reply)
        except DomainError as exc:
            reply(False, exc)

    def _ask_waiting(
        self, path: str, message: Any, timeout: float, future: _ReplyFuture, reply: Reply
    ) -> None:
        try:
            self._context.require_tree().ref(path).send_ask(message, future, timeout=timeout)
        except (ActorError, DomainError) as exc:
            reply(False, exc)

    def command(self, name: str, args: list[Any]) -> Any:
        return self._operator.run(name, args)

    def close(self) -> None:
        self._waiters.shutdown(wait=False, cancel_futures=True)
