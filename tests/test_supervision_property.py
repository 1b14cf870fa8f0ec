"""Random trees, random crash sequences: the final tree is what the OTP rules predict.

A small model applies the rules (strategies, restart types, intensity, escalation, the root
giving up, temporary children deleted when they end and made again from the specs when their
supervisor restarts) to the same crashes; after each crash the real tree must settle to the
model. The period is long, so the intensity is a plain count, and the run is deterministic.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supervision import ChildSpec, Supervisor, Tree
from tests.helpers import GiveUps, Journal, wait_until, worker

PERIOD = 3600.0


@dataclass(eq=False)
class Node:
    """The model of one actor."""

    path: str
    restart: str
    strategy: str | None = None
    intensity: int = 0
    specs: list[Node] = field(default_factory=list)
    """Its supervisor's children as specified; ``children`` are those listed now."""
    children: list[Node] = field(default_factory=list)
    parent: Node | None = None
    state: str = "running"
    restarts: int = 0
    failure: str | None = None
    count: int = 0
    named: bool = True
    """Its name is in the registry, so starting it again counts as a restart."""

    def walk(self) -> list[Node]:
        return [self, *(n for child in self.children for n in child.walk())]


class Model:
    """The OTP rules, applied to the model."""

    def __init__(self, root: Node) -> None:
        self.root = root
        self.gave_up = False

    def fail(self, node: Node, reason: str) -> None:
        node.failure = reason
        parent = node.parent
        if parent is None:
            self.stop(node)
            self.gave_up = True
            return
        if node.restart == "temporary":
            self.delete(node)
            return
        parent.count += 1
        if parent.count > parent.intensity:
            self.fail(parent, "SupervisorGaveUp")
            return
        siblings = parent.children
        if parent.strategy == "one_for_all":
            group = list(siblings)
        elif parent.strategy == "rest_for_one":
            group = siblings[siblings.index(node) :]
        else:
            group = [node]
        for member in group:
            if member is not node and member.restart == "temporary":
                self.delete(member)
            else:
                self.fresh(member)

    def stop(self, node: Node) -> None:
        for n in node.walk():
            n.state = "stopped"

    def delete(self, node: Node) -> None:
        """A temporary child ended: its spec and its names (and those below it) are deleted."""
        assert node.parent is not None
        node.parent.children.remove(node)
        for n in node.walk():
            n.named, n.restarts, n.failure = False, 0, None

    def fresh(self, node: Node) -> None:
        """A new instance: of this node and, for a supervisor, of every child of its specs."""
        node.state, node.count = "running", 0
        node.restarts = node.restarts + 1 if node.named else 0
        node.named = True
        node.children = list(node.specs)
        for child in node.children:
            self.fresh(child)

    def view(self) -> dict[str, tuple[str, int, str | None]]:
        return {n.path: (n.state, n.restarts, n.failure) for n in self.root.walk()}


def view(tree: Tree) -> dict[str, tuple[str, int, str | None]]:
    return {
        i.path: (i.state, i.restarts, i.last_failure.type if i.last_failure else None)
        for i in tree.snapshot().walk()
    }


restarts = st.sampled_from(["permanent", "transient", "temporary"])


@st.composite
def supervisors(draw: st.DrawFn, path: str = "root", depth: int = 0) -> Node:
    node = Node(
        path,
        restart=draw(restarts),
        strategy=draw(st.sampled_from(["one_for_one", "one_for_all", "rest_for_one"])),
        intensity=draw(st.integers(0, 3)),
    )
    for i in range(draw(st.integers(1, 3))):
        if depth < 2 and draw(st.integers(0, 2)) == 0:
            child = draw(supervisors(f"{path}/s{i}", depth + 1))
        else:
            child = Node(f"{path}/w{i}", restart=draw(restarts))
        child.parent = node
        node.specs.append(child)
    node.children = list(node.specs)
    return node


def spec(node: Node, journal: Journal) -> ChildSpec:
    name = node.path.rpartition("/")[2]
    if node.strategy is None:
        return worker(name, journal, restart=node.restart)
    return Supervisor.spec(
        name,
        [spec(child, journal) for child in node.specs],
        strategy=node.strategy,
        intensity=node.intensity,
        period=PERIOD,
        restart=node.restart,
    )


def settle(tree: Tree, model: Model) -> None:
    """Wait for the tree to match the model; fail with the difference if it does not."""
    with contextlib.suppress(AssertionError):
        wait_until(lambda: view(tree) == model.view())
    assert view(tree) == model.view()


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(root=supervisors(), data=st.data())
def test_random_crashes_end_where_the_otp_rules_say(root: Node, data: Any) -> None:
    model = Model(root)
    give_ups = GiveUps()
    tree = Tree.start(spec(root, Journal()), on_give_up=give_ups)
    try:
        settle(tree, model)
        for _ in range(data.draw(st.integers(1, 8), label="crashes")):
            running = [n for n in root.walk()[1:] if n.state == "running"]
            if model.gave_up or not running:
                break
            target = running[data.draw(st.integers(0, len(running) - 1), label="target")]
            tree.crash(target.path)
            model.fail(target, "InjectedCrash")
            settle(tree, model)
        assert bool(give_ups.reasons) == model.gave_up
    finally:
        tree.shutdown(5.0)
