"""Supervisor: an actor that starts, watches and restarts its children by OTP's rules.

Everything happens in the supervisor's own thread, one message at a time: a child's exit
notice, a delayed restart coming due, an operation (``restart_child`` and the like, called
through ``NamedRef.call``). Starting a child waits for its ``on_start``, so children start
in order; stopping goes in reverse order and waits for each child's shutdown.

A child that ends and is not restarted stays listed, stopped, until it is restarted or
deleted by hand, as in OTP; a temporary child, and any child of a ``simple_one_for_one``
supervisor, is deleted (its spec and its name) as soon as it ends.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from pykka import ActorDeadError

from actors.actor import GatherActor
from actors.errors import InvalidOperation, NoSuchActor, SupervisorGaveUp
from actors.reasons import Failure, Reason, is_abnormal
from actors.ref import NamedRef, State
from supervision.spec import ChildSpec, Restart, Strategy

logger = logging.getLogger("gather.supervision")

_generations = itertools.count(1)
"""Numbers each start and stop of a child, to tell current exit notices from stale ones."""


@dataclass(frozen=True)
class _ChildExit:
    name: str
    generation: int
    reason: Reason


@dataclass(frozen=True)
class _RestartDue:
    names: tuple[str, ...]
    generations: tuple[int, ...]


@dataclass(eq=False)
class _Child:
    spec: ChildSpec
    ref: NamedRef
    added: bool
    """Added at run time (``add_child``, ``start_child``): not in the specs of a restart."""
    generation: int = 0
    failures: int = 0
    """Failures in a row, for the backoff."""
    running_since: float | None = None


class Supervisor(GatherActor):
    """Runs children from ``ChildSpec``s; restarts them by its strategy, within its intensity.

    More than ``intensity`` restarts within ``period`` seconds and the supervisor gives up:
    it stops its children and fails, and its own supervisor handles that failure.
    """

    kind = "supervisor"

    def __init__(
        self,
        children: Sequence[ChildSpec] = (),
        *,
        strategy: Strategy | str = Strategy.ONE_FOR_ONE,
        intensity: int = 1,
        period: float = 5.0,
    ) -> None:
        super().__init__()
        self.strategy = Strategy(strategy)
        self.intensity = intensity
        self.period = period
        self.specs = tuple(children)
        _check(self.specs, self.strategy, intensity, period)
        self._children: list[_Child] = []
        self._by_name: dict[str, _Child] = {}
        self._restarts: deque[float] = deque()
        self._timers: list[threading.Timer] = []
        self._serial = itertools.count(1)

    @classmethod
    def spec(
        cls,
        name: str,
        children: Sequence[ChildSpec] = (),
        *,
        strategy: Strategy | str = Strategy.ONE_FOR_ONE,
        intensity: int = 1,
        period: float = 5.0,
        restart: Restart | str = Restart.PERMANENT,
    ) -> ChildSpec:
        """The spec of a supervisor child (or of a tree's root), checked now."""
        _check(tuple(children), Strategy(strategy), intensity, period)
        return ChildSpec(
            name,
            cls,
            kwargs={
                "children": tuple(children),
                "strategy": strategy,
                "intensity": intensity,
                "period": period,
            },
            restart=Restart(restart),
            shutdown=None,
            start_timeout=None,
        )

    # Life cycle.

    def on_start(self) -> None:
        assert self.named is not None, "a Supervisor runs in a Tree"
        self.named.children = []
        if self.strategy is not Strategy.SIMPLE_ONE_FOR_ONE:
            for spec in self.specs:
                self._add(spec, added=False)
            self._start_group(list(self._children))

    def on_stop(self) -> None:
        self._shutdown()

    def on_failure(self, *_exc_info: Any) -> None:
        self._shutdown()

    def on_receive(self, message: Any) -> Any:
        if isinstance(message, _ChildExit):
            return self._child_exited(message)
        if isinstance(message, _RestartDue):
            return self._restart_due(message)
        return super().on_receive(message)

    # Operations, called through NamedRef.call (Tree wraps them).

    def start_child(self, *args: Any, name: str | None = None, **kwargs: Any) -> str:
        """simple_one_for_one: start a child from the template, with these extra arguments.

        Returns:
            the new child's path.
        """
        if self.strategy is not Strategy.SIMPLE_ONE_FOR_ONE:
            msg = f"{self.path} is {self.strategy}: use add_child"
            raise InvalidOperation(msg)
        template = self.specs[0]
        spec = replace(
            template,
            name=name or f"{template.name}-{next(self._serial)}",
            args=(*template.args, *args),
            kwargs={**template.kwargs, **kwargs},
        )
        return self._start_new(spec)

    def add_child(self, spec: ChildSpec) -> str:
        """Add a child and start it; it is not part of this supervisor's specs after a restart.

        A stopped child keeps its name until it is deleted: adding one of the same name is
        refused, as is adding a running one.

        Returns:
            the new child's path.
        """
        if self.strategy is Strategy.SIMPLE_ONE_FOR_ONE:
            msg = f"{self.path} is simple_one_for_one: use start_child"
            raise InvalidOperation(msg)
        return self._start_new(spec)

    def terminate_child(self, name: str) -> None:
        """Stop a child by its shutdown; it stays stopped until ``restart_child`` or
        ``delete_child`` (a temporary child, or one of a simple_one_for_one, is deleted)."""
        child = self._child(name)
        self._terminate(child)
        self._retire(child)

    def restart_child(self, name: str) -> None:
        """Stop the child if it runs, then start it again (not counted in the intensity)."""
        child = self._child(name)
        self._terminate(child)
        child.failures = 0
        self._start_group([child])

    def delete_child(self, name: str) -> None:
        """Forget a stopped child: its spec and its name (a restart of this supervisor starts
        a child of its specs again). A running or restarting child is refused."""
        if self.strategy is Strategy.SIMPLE_ONE_FOR_ONE:
            msg = f"{self.path} is simple_one_for_one: its children leave when they stop"
            raise InvalidOperation(msg)
        child = self._child(name)
        if child.ref.state is not State.STOPPED:
            msg = f"{child.ref.path} is {child.ref.state}: stop it first"
            raise InvalidOperation(msg)
        self._forget(child)

    # Children.

    def _child(self, name: str) -> _Child:
        try:
            return self._by_name[name]
        except KeyError:
            msg = f"no actor at {self.path}/{name}"
            raise NoSuchActor(msg) from None

    def _add(self, spec: ChildSpec, *, added: bool) -> _Child:
        assert self.registry is not None and self.named is not None
        ref = self.registry.ensure(f"{self.path}/{spec.name}", spec.kind)
        child = _Child(spec, ref, added)
        self._children.append(child)
        self._by_name[spec.name] = child
        self.named.children.append(ref)
        return child

    def _forget(self, child: _Child) -> None:
        """Delete the child: its spec, and its names in the registry."""
        assert self.registry is not None and self.named is not None
        self._children.remove(child)
        del self._by_name[child.spec.name]
        self.named.children.remove(child.ref)
        self.registry.remove(child.ref)

    def _start_new(self, spec: ChildSpec) -> str:
        existing = self._by_name.get(spec.name)
        if existing is not None:
            stopped = existing.ref.state is State.STOPPED
            msg = f"{existing.ref.path} already exists" + (
                " (stopped: restart or delete it)" if stopped else ""
            )
            raise InvalidOperation(msg)
        child = self._add(spec, added=True)
        self._start(child)
        return child.ref.path

    def _start(self, child: _Child) -> bool:
        """Start one child and wait for its ``on_start``; False if it failed.

        A failure comes back as the child's exit notice, handled like any other.
        """
        assert self.registry is not None
        spec, ref = child.spec, child.ref
        child.generation = generation = next(_generations)
        child.running_since = None
        ref.starts += 1
        if ref.starts > 1:
            ref.state = State.RESTARTING
        try:
            actor = spec.actor(*spec.args, **spec.kwargs)
        except Exception as error:
            failure = Failure.from_exception(error)
            logger.error("%s crashed in __init__: %s", ref.path, failure, exc_info=error)
            self._notify(spec.name, generation, failure)
            return False
        actor.launch(ref, self.registry, partial(self._notify, spec.name, generation))
        if not actor.wait_started(spec.start_timeout):
            failure = Failure(
                "StartTimeout", f"on_start took more than {spec.start_timeout}s", time.time()
            )
            logger.error("%s crashed: %s", ref.path, failure)
            actor.kill(failure)
            return False
        if actor.exit_reason is not None:
            return False
        ref.state = State.RUNNING
        child.running_since = time.monotonic()
        return True

    def _start_group(self, group: list[_Child]) -> None:
        for child in group:
            if (
                not self._start(child)
                and self.strategy in (Strategy.ONE_FOR_ALL, Strategy.REST_FOR_ONE)
                and child.spec.restart is not Restart.TEMPORARY
            ):
                break  # its exit notice restarts it and the rest, by the strategy

    def _terminate(self, child: _Child) -> None:
        """Stop the child's instance by its shutdown; its exit notice will be stale."""
        child.generation = next(_generations)
        actor = child.ref.actor
        if actor is None or actor.exit_reason is not None:
            return
        shutdown = child.spec.shutdown
        if isinstance(shutdown, str):  # BRUTAL_KILL, the one string a shutdown can be
            actor.kill()
            return
        actor.request_stop()
        if not actor.wait_ended(shutdown):
            logger.error("%s did not stop within %ss: killed", child.ref.path, shutdown)
            actor.kill()

    def _retire(self, child: _Child) -> None:
        """The child ended for good: close its names; it stays listed, stopped, unless it is
        temporary or a child of a simple_one_for_one (then it is deleted, as in OTP)."""
        _close(child.ref)
        if child.spec.restart is Restart.TEMPORARY or self.strategy is Strategy.SIMPLE_ONE_FOR_ONE:
            self._forget(child)

    def _shutdown(self) -> None:
        """Stop every child, in reverse start order."""
        for timer in self._timers:
            timer.cancel()
        for child in reversed(list(self._children)):
            self._terminate(child)
            if child.added:  # a restart of this supervisor starts its specs only
                _close(child.ref)
                self._forget(child)
            elif child.ref.state is not State.STOPPED:
                child.ref.state = State.RESTARTING

    def _notify(self, name: str, generation: int, reason: Reason) -> None:
        """Called in the child's thread as its instance ends: queue the exit notice."""
        self._tell_self(_ChildExit(name, generation, reason))

    def _tell_self(self, message: Any) -> None:
        with contextlib.suppress(ActorDeadError):  # this instance has ended: nothing to do
            self.actor_ref.tell(message)

    # Failures.

    def _child_exited(self, notice: _ChildExit) -> None:
        child = self._by_name.get(notice.name)
        if child is None or child.generation != notice.generation:
            return
        ref, reason, restart = child.ref, notice.reason, child.spec.restart
        if isinstance(reason, Failure):
            ref.last_failure = reason
        if restart is Restart.TEMPORARY or (
            restart is Restart.TRANSIENT and not is_abnormal(reason)
        ):
            logger.info("%s ended (%s); %s: not restarted", ref.path, reason, restart)
            self._retire(child)
            return
        if child.spec.backoff is None:
            self._count_restart(ref, reason)
        group = self._group(child)
        for member in reversed(group):
            if member is not child:
                self._terminate(member)
        for member in group:
            if member is not child and member.spec.restart is Restart.TEMPORARY:
                self._retire(member)
        group = [m for m in group if m is child or m.spec.restart is not Restart.TEMPORARY]
        for member in group:
            member.ref.state = State.RESTARTING
        delay = self._backoff_delay(child)
        names = ", ".join(m.spec.name for m in group)
        logger.info(
            "%s: restarting %s (%s) after %s%s",
            self.path,
            names,
            self.strategy,
            reason,
            f", in {delay:.3g}s" if delay else "",
        )
        if delay:
            self._schedule(group, delay)
        else:
            self._start_group(group)

    def _count_restart(self, ref: NamedRef, reason: Reason) -> None:
        now = time.monotonic()
        self._restarts.append(now)
        while self._restarts[0] <= now - self.period:
            self._restarts.popleft()
        if len(self._restarts) > self.intensity:
            msg = (
                f"more than {self.intensity} restart(s) in {self.period}s; "
                f"last: {ref.path} {reason}"
            )
            raise SupervisorGaveUp(msg)

    def _group(self, child: _Child) -> list[_Child]:
        if self.strategy is Strategy.ONE_FOR_ALL:
            return list(self._children)
        if self.strategy is Strategy.REST_FOR_ONE:
            return self._children[self._children.index(child) :]
        return [child]

    def _backoff_delay(self, child: _Child) -> float:
        backoff = child.spec.backoff
        if backoff is None:
            return 0.0
        since = child.running_since
        if since is not None and time.monotonic() - since >= backoff.reset_after:
            child.failures = 0
        delay = backoff.delay(child.failures)
        child.failures += 1
        return delay

    def _schedule(self, group: list[_Child], delay: float) -> None:
        due = _RestartDue(tuple(m.spec.name for m in group), tuple(m.generation for m in group))
        timer = threading.Timer(delay, self._tell_self, (due,))
        timer.daemon = True
        timer.start()
        self._timers = [t for t in self._timers if t.is_alive()] + [timer]

    def _restart_due(self, due: _RestartDue) -> None:
        group = [self._by_name.get(name) for name in due.names]
        current = [
            member
            for member, generation in zip(group, due.generations, strict=True)
            if member is not None and member.generation == generation
        ]
        if current:  # members stopped or restarted by hand meanwhile are left alone
            self._start_group(current)


def _close(ref: NamedRef) -> None:
    """Close ``ref`` and the names below it: senders get ``ActorUnavailable`` at once."""
    stack = [ref]
    while stack:
        closing = stack.pop()
        closing.close()
        stack.extend(closing.children)


def _check(specs: tuple[ChildSpec, ...], strategy: Strategy, intensity: int, period: float) -> None:
    names = [spec.name for spec in specs]
    if len(set(names)) != len(names):
        msg = f"children's names must be unique: {names}"
        raise ValueError(msg)
    if strategy is Strategy.SIMPLE_ONE_FOR_ONE and len(specs) != 1:
        msg = "simple_one_for_one takes exactly one child spec, the template"
        raise ValueError(msg)
    if intensity < 0 or period <= 0:
        msg = f"need intensity >= 0 and period > 0, not {intensity} and {period}"
        raise ValueError(msg)
