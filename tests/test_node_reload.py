"""Running nodes take a new or removed node entry of cluster.yaml without a restart: the
shell's ``reload`` and SIGHUP, on real node processes; ``NodeLink.set_peers`` in one process."""

from __future__ import annotations

import functools
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from node.link import LinkError, NodeEvent, NodeLink, PeerUnavailable
from node.settings import LinkSettings
from tests.helpers import Inbox, NodeProcesses, edit_config, free_port, wait_until

LINKED_WITHIN_S = 5.0
"""A reload has both sides of a new peer up within this (the redial backoff is at most
2.4 s, a handshake a few milliseconds)."""

Pair = tuple[NodeProcesses, NodeProcesses]
"""Node a, whose cluster.yaml lists only a, and node b, whose file lists both (same cookie)."""


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    """a and b, not started yet; stopped afterwards."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = NodeProcesses(tmp_path / "a", ["a"])
    second = NodeProcesses(tmp_path / "b", ["a", "b"])
    second.cookie = first.cookie
    edit_config(second, set_entry("a", entry(first, "a")))
    try:
        yield first, second
    finally:
        second.stop_all()
        first.stop_all()


def entry(nodes: NodeProcesses, name: str) -> dict[str, Any]:
    """Node ``name``'s entry in ``nodes``' cluster.yaml."""
    return yaml.safe_load(nodes.config_path.read_text())["nodes"][name]


def set_entry(name: str, node: dict[str, Any] | None) -> Callable[[dict[str, Any]], None]:
    """A change of a cluster.yaml document: node ``name`` gets ``node`` (None: removed)."""

    def change(document: dict[str, Any]) -> None:
        if node is None:
            del document["nodes"][name]
        else:
            document["nodes"][name] = node

    return change


def link_state(nodes: NodeProcesses, observer: str, peer: str) -> str | None:
    """``up`` or ``down``, as ``observer``'s ``nodes`` shows ``peer``; None if not listed."""
    row = nodes.table(observer, "nodes").get(peer)
    return None if row is None else row[2]


def linked(a: NodeProcesses, b: NodeProcesses) -> bool:
    return link_state(a, "a", "b") == "up" and link_state(b, "b", "a") == "up"


def refusals(a: NodeProcesses) -> int:
    """How often a refused b's handshake as no node of its cluster.yaml."""
    return a.log("a").count("'b' is not a node of cluster.yaml")


def start_unknown_to_a(a: NodeProcesses, b: NodeProcesses) -> None:
    """Start a, then b, and see that a (not knowing b) refuses it."""
    a.start("a")
    b.start("b")
    a.wait_until(lambda: refusals(a) > 0, "a to refuse b")
    assert "b" not in a.table("a", "nodes")
    assert link_state(b, "b", "a") == "down"


def test_a_shell_reload_lets_a_new_node_in_and_drops_a_removed_one(pair: Pair) -> None:
    a, b = pair
    start_unknown_to_a(a, b)

    edit_config(a, set_entry("b", entry(b, "b")))
    report = a.output("a", "reload").splitlines()
    assert report[0] == f"reloaded {a.config_path.resolve()}"
    assert report[1:] == ["added: b", "removed: -", "changed: -", "needs a restart: -"]
    took = a.wait_until(lambda: linked(a, b), "a and b to link up", timeout=LINKED_WITHIN_S + 5)
    assert took <= LINKED_WITHIN_S, f"linked after {took:.1f} s"
    assert a.output("a", "ping b").startswith("pong from b")
    assert b.output("b", "ping a").startswith("pong from a")

    edit_config(a, set_entry("b", None))
    assert "removed: b" in a.output("a", "reload")
    assert "b" not in a.table("a", "nodes")
    b.wait_until(lambda: link_state(b, "b", "a") == "down", "b to lose a")
    before = refusals(a)
    a.wait_until(lambda: refusals(a) > before, "a to refuse b again")
    ping = a.shell("a", "ping b")
    assert ping.returncode == 1 and "no node named 'b'" in ping.stdout


def test_sighup_reloads_too(pair: Pair) -> None:
    a, b = pair
    start_unknown_to_a(a, b)
    edit_config(a, set_entry("b", entry(b, "b")))
    a.processes["a"].send_signal(signal.SIGHUP)
    took = a.wait_until(lambda: linked(a, b), "a and b to link up", timeout=LINKED_WITHIN_S + 5)
    assert took <= LINKED_WITHIN_S, f"linked after {took:.1f} s"
    assert "SIGHUP: reloading" in a.log("a")
    assert "added: b; removed: -; changed: -; needs a restart: -" in a.log("a")
    assert a.processes["a"].poll() is None


def test_a_bad_file_is_refused_and_the_node_runs_on_with_its_peers(pair: Pair) -> None:
    a, b = pair
    edit_config(a, set_entry("b", entry(b, "b")))
    a.start("a")
    b.start("b")
    a.wait_until(lambda: linked(a, b), "a and b to link up")
    good = a.config_path.read_text()
    port = entry(a, "b")["port"]

    # A shell reads the file it is given to find the node, so it attaches with b's (good)
    # file; one given the broken file names the error itself.
    a.config_path.write_text(good.replace(f"port: {port}", "port: seventy"))
    result = b.shell("a", "reload")
    assert result.returncode == 1
    assert "ConfigError" in result.stdout and "nodes.b.port: expected an integer" in result.stdout
    own = a.shell("a", "reload")
    assert own.returncode == 2 and "nodes.b.port: expected an integer" in own.stderr
    a.processes["a"].send_signal(signal.SIGHUP)
    a.wait_until(lambda: a.log("a").count("reload refused") == 2, "the SIGHUP reload refused")

    a.config_path.write_text("nodes: [")
    assert "not valid YAML" in b.shell("a", "reload").stdout

    a.config_path.write_text(good)
    edit_config(a, set_entry("a", None))
    result = b.shell("a", "reload")
    assert result.returncode == 1 and "nodes.a: this node is no longer listed" in result.stdout

    a.config_path.write_text(good)
    assert a.processes["a"].poll() is None
    assert linked(a, b)
    assert a.output("a", "reload").splitlines()[1:] == [
        "added: -",
        "removed: -",
        "changed: -",
        "needs a restart: -",
    ]


def test_what_a_reload_cannot_apply_is_reported_as_needing_a_restart(pair: Pair) -> None:
    a, b = pair
    a.start("a")

    def elsewhere(document: dict[str, Any]) -> None:
        document["nodes"]["a"]["port"] = free_port()
        document["nodes"]["a"]["roles"] = ["worker", "mail"]
        document["cassandra"]["consistency"]["read"]["level"] = "ONE"
        document["link"]["heartbeat_s"] = 0.5
        document["nodes"]["b"] = entry(b, "b")

    edit_config(a, elsewhere)
    # a still listens where it started, which b's file says (a's own file no longer does)
    report = b.output("a", "reload")
    assert "added: b" in report
    assert "needs a restart: cassandra, link, nodes.a.port, nodes.a.roles" in report
    assert "b" in b.table("a", "nodes")

    def roles_of_b(document: dict[str, Any]) -> None:
        document["nodes"]["b"]["roles"] = ["kiosk"]

    edit_config(a, roles_of_b)
    report = b.output("a", "reload")
    assert "changed: b" in report and "needs a restart: cassandra, link" in report


# The link's peer set, in one process.

FAST = LinkSettings(heartbeat_s=0.1, down_after_s=0.5)


@pytest.fixture
def trio() -> Iterator[tuple[dict[str, NodeLink], dict[str, tuple[str, int]]]]:
    addresses = {name: ("127.0.0.1", free_port()) for name in ("a", "b", "c")}
    links = {
        name: NodeLink(name, *addresses[name], addresses, b"secret", Inbox(), FAST)
        for name in addresses
    }
    for link in links.values():
        link.start()
    try:
        for link in links.values():
            wait_until(functools.partial(every_peer_up, link))
        yield links, addresses
    finally:
        for link in links.values():
            link.stop()


def every_peer_up(link: NodeLink) -> bool:
    return all(p.up for p in link.peers())


def up(link: NodeLink, peer: str) -> bool:
    return any(p.name == peer and p.up for p in link.peers())


def test_set_peers_drops_a_removed_peer_both_ways_and_takes_it_back(
    trio: tuple[dict[str, NodeLink], dict[str, tuple[str, int]]],
) -> None:
    links, addresses = trio
    events: list[NodeEvent] = []
    links["c"].subscribe(events.append)
    links["a"].set_peers({name: addresses[name] for name in ("a", "b")})
    assert [p.name for p in links["a"].peers()] == ["b"]
    with pytest.raises(PeerUnavailable, match="no node named 'c'"):
        links["a"].tell("c", "root/x", 1)
    wait_until(lambda: any(e.node == "a" and not e.up for e in events), what="c to lose a")
    assert not up(links["c"], "a")  # and a refuses its redials: it stays down
    assert up(links["a"], "b") and up(links["b"], "a")

    links["a"].set_peers(addresses)
    wait_until(lambda: up(links["a"], "c") and up(links["c"], "a"), what="a and c linked again")
    assert links["a"].ask("c", "root/x", "hi") == {"path": "root/x", "echo": "hi"}


def test_set_peers_redials_a_peer_that_moved(
    trio: tuple[dict[str, NodeLink], dict[str, tuple[str, int]]],
) -> None:
    links, addresses = trio
    links["b"].stop()
    moved = {**addresses, "b": ("127.0.0.1", free_port())}
    revived = NodeLink("b", *moved["b"], moved, b"secret", Inbox(), FAST)
    revived.start()
    try:
        links["a"].set_peers(moved)
        wait_until(lambda: up(links["a"], "b"), what="a to reach b at its new port")
        assert [p.port for p in links["a"].peers() if p.name == "b"] == [moved["b"][1]]
        assert links["a"].ask("b", "root/x", 1) == {"path": "root/x", "echo": 1}
    finally:
        revived.stop()


def test_set_peers_needs_a_running_link() -> None:
    link = NodeLink("a", "127.0.0.1", free_port(), {}, b"secret", Inbox(), FAST)
    with pytest.raises(LinkError, match="not running"):
        link.set_peers({"b": ("127.0.0.1", free_port())})
