"""Registry: the names of one supervision tree, path -> NamedRef, read without a lock."""

from __future__ import annotations

import threading
from typing import Any

from actors.errors import NoSuchActor
from actors.monitor import Monitor, Notify, noproc
from actors.ref import DEFAULT_TIMEOUT, NamedRef


class Registry:
    """Find actors by path (``"root/web/server"``) and send to them.

    Supervisors add names (:meth:`ensure`) and delete them (:meth:`remove`).
    """

    def __init__(self) -> None:
        self._refs: dict[str, NamedRef] = {}
        self._lock = threading.Lock()

    def ref(self, path: str) -> NamedRef:
        """The name at ``path``; keep it to send without the lookup.

        Raises:
            NoSuchActor: nothing has this path.
        """
        try:
            return self._refs[path]
        except KeyError:
            msg = f"no actor at {path}"
            raise NoSuchActor(msg) from None

    def get(self, path: str) -> NamedRef | None:
        """The name at ``path``, or None."""
        return self._refs.get(path)

    def paths(self) -> list[str]:
        """Every path, parents before their children."""
        return list(self._refs)

    def tell(self, path: str, message: Any, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        """``NamedRef.tell`` to the actor at ``path``."""
        self.ref(path).tell(message, timeout=timeout)

    def ask(self, path: str, message: Any, *, timeout: float = DEFAULT_TIMEOUT) -> Any:
        """``NamedRef.ask`` to the actor at ``path``."""
        return self.ref(path).ask(message, timeout=timeout)

    def monitor(self, path: str, notify: Notify) -> Monitor:
        """``NamedRef.monitor`` on ``path``; an unknown path gets a ``noproc`` notice at once."""
        ref = self._refs.get(path)
        if ref is None:
            return noproc(path, notify)
        return ref.monitor(notify)

    def ensure(self, path: str, kind: str) -> NamedRef:
        """The name at ``path``, made now if it is new (a restarted parent keeps its names)."""
        with self._lock:
            ref = self._refs.get(path)
            if ref is None:
                ref = self._refs[path] = NamedRef(path, kind)
            return ref

    def remove(self, ref: NamedRef) -> None:
        """Forget ``ref`` and the names below it."""
        with self._lock:
            stack = [ref]
            while stack:
                gone = stack.pop()
                self._refs.pop(gone.path, None)
                stack.extend(gone.children)
