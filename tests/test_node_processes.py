"""Three real node processes on loopback: the link, node up/down, and the operator shell."""

from __future__ import annotations

import functools
import json
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import REPO, NodeProcesses

NAMES = ["n1", "n2", "n3"]


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeProcesses]:
    cluster = NodeProcesses(Path(tmp_path_factory.mktemp("nodes")), NAMES)
    try:
        for name in NAMES:
            cluster.start(name)
        for name in NAMES:
            cluster.wait_until(
                functools.partial(sees_every_peer_up, cluster, name), f"{name} to see every peer up"
            )
        yield cluster
    finally:
        cluster.stop_all()


def sees_every_peer_up(nodes: NodeProcesses, name: str) -> bool:
    return all(row[2] == "up" for row in nodes.table(name, "nodes").values())


def sees(nodes: NodeProcesses, observer: str, peer: str, state: str) -> bool:
    return nodes.table(observer, "nodes")[peer][2] == state


def counts(nodes: NodeProcesses, asker: str, target: str) -> int:
    answer = nodes.output(asker, f"ask {target}/root/diagnostics counts").strip()
    return json.loads(answer.replace("'", '"'))["received"]


def test_a_tell_and_an_ask_cross_nodes(nodes: NodeProcesses) -> None:
    before = counts(nodes, "n1", "n2")
    assert nodes.output("n1", 'send n2/root/diagnostics "hello from n1"').strip() == (
        "sent to n2/root/diagnostics"
    )
    nodes.wait_until(lambda: counts(nodes, "n3", "n2") == before + 1, "n2 to receive the tell")
    assert nodes.output("n1", "ping n3").startswith("pong from n3 in ")


def test_a_broadcast_reaches_every_node(nodes: NodeProcesses) -> None:
    before = {name: counts(nodes, "n1", name) for name in NAMES}
    reached = nodes.output("n2", 'broadcast root/diagnostics "asset a1 changed"').split()
    assert sorted(reached) == NAMES
    for name in NAMES:
        nodes.wait_until(
            functools.partial(lambda name: counts(nodes, "n1", name) == before[name] + 1, name),
            name,
        )


def test_a_killed_node_is_noticed_within_the_bound_and_so_is_its_return(
    nodes: NodeProcesses,
) -> None:
    link = nodes.config.link
    bound = link.down_after_s + link.heartbeat_s
    nodes.kill("n3")
    for observer in ("n1", "n2"):
        took = nodes.wait_until(
            functools.partial(sees, nodes, observer, "n3", "down"),
            f"{observer} to see n3 down",
            timeout=bound + 5,
        )
        assert took <= bound + 2, f"{observer} took {took:.1f} s to notice (bound {bound} s)"
    nodes.start("n3")
    for observer in ("n1", "n2"):
        nodes.wait_until(
            functools.partial(sees, nodes, observer, "n3", "up"),
            f"{observer} to see n3 back",
        )
    assert counts(nodes, "n1", "n3") == 0


def test_a_shell_with_the_wrong_cookie_is_refused(nodes: NodeProcesses) -> None:
    result = nodes.shell("n1", "tree", cookie="not-the-cookie-" + "x" * 40)
    assert result.returncode == 1
    assert "wrong cluster cookie" in result.stdout
    assert "during the handshake" in nodes.log("n1")
    assert nodes.shell("n1", "tree").returncode == 0


def test_crash_through_the_shell_restarts_the_worker(nodes: NodeProcesses) -> None:
    before = int(nodes.table("n2", "tree")["root/diagnostics"][3])
    assert "crash injected" in nodes.output("n2", "crash root/diagnostics")
    nodes.wait_until(
        lambda: nodes.table("n2", "tree")["root/diagnostics"][3] == str(before + 1),
        "the restart count to rise",
    )
    row = nodes.table("n2", "tree")["root/diagnostics"]
    assert row[2] == "running"
    assert "InjectedCrash" in " ".join(row[7:])
    assert nodes.output("n1", "ping n2").startswith("pong from n2")


def test_a_node_without_cassandra_keeps_running_and_retries(tmp_path: Path) -> None:
    lonely = NodeProcesses(tmp_path, ["solo"], contact_points=["127.0.0.99"])
    try:
        lonely.start("solo")
        lonely.wait_until(
            lambda: int(lonely.table("solo", "tree")["root/storage"][3]) >= 2,
            "the storage actor to retry",
        )
        tree = lonely.table("solo", "tree")
        assert tree["root"][2] == "running"
        assert "CassandraUnavailable" in " ".join(tree["root/storage"][7:])
        assert lonely.processes["solo"].poll() is None
    finally:
        lonely.stop_all()


def test_a_node_whose_root_gives_up_exits_non_zero(tmp_path: Path) -> None:
    doomed = NodeProcesses(tmp_path, ["doomed"])
    port = doomed.config.nodes["doomed"].port
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        doomed.start("doomed", wait=False)
        assert doomed.processes["doomed"].wait(60) == 1
    log = doomed.log("doomed")
    assert "cannot listen on 127.0.0.1" in log
    assert "the root supervisor gave up" in log


def test_the_launcher_starts_every_local_node_and_stops_them_on_ctrl_c(tmp_path: Path) -> None:
    cluster = NodeProcesses(tmp_path, ["l1", "l2"])
    launcher = subprocess.Popen(
        [sys.executable, "-m", "node.launcher", "--config", str(cluster.config_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=cluster.env(),
        cwd=REPO,
    )
    try:
        for name in ("l1", "l2"):
            cluster.wait_until(
                functools.partial(lambda name: cluster.shell(name, "tree").returncode == 0, name),
                name,
            )
        launcher.send_signal(signal.SIGINT)
        output, _ = launcher.communicate(timeout=60)
    finally:
        if launcher.poll() is None:
            launcher.kill()
    assert launcher.returncode == 0
    assert "node l1 stopped" in output
    assert "node l2 stopped" in output
    assert output.index("node l2 stopped") < output.index("node l1 stopped")
    for name in ("l1", "l2"):
        assert cluster.shell(name, "tree").returncode == 1
