"""The real local Cassandra cluster: replication factor 3, tunable consistency, a node lost."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator

import pytest
from cassandra import ConsistencyLevel, Unavailable
from cassandra.cluster import Cluster, NoHostAvailable, Session
from cassandra.query import SimpleStatement

from config.cluster import ClusterConfig
from devcluster import LocalCluster, LocalClusterError
from devcluster.node import PAUSE_THREADS, running_var, thread_names
from storage.session import PROTOCOL_VERSION

KEYSPACE = "foundation_test"


@pytest.fixture(scope="module")
def session(config: ClusterConfig, local_cluster: LocalCluster) -> Iterator[Session]:
    cluster = Cluster(
        list(config.cassandra.contact_points),
        port=config.cassandra.port,
        protocol_version=PROTOCOL_VERSION,
    )
    session = cluster.connect()
    session.execute(
        f"CREATE KEYSPACE IF NOT EXISTS {KEYSPACE} WITH replication = "
        "{'class': 'SimpleStrategy', 'replication_factor': 3}"
    )
    session.execute(f"CREATE TABLE IF NOT EXISTS {KEYSPACE}.kv (k uuid PRIMARY KEY, v text)")
    yield session
    cluster.shutdown()


def _at(session: Session, cql: str, level: int, *args: object) -> list:
    return list(session.execute(SimpleStatement(cql, consistency_level=level), args))


def _wait_seen(local_cluster: LocalCluster, observer: str, address: str, state: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if local_cluster.gossip_view(local_cluster.node(observer)).get(address) == state:
            return
        time.sleep(0.5)
    pytest.fail(f"{observer} did not see {address} as {state} within 60 s")


def test_every_node_is_up_and_the_keyspace_has_three_replicas(
    session: Session, local_cluster: LocalCluster
) -> None:
    assert [row.state for row in local_cluster.status()] == ["UP", "UP", "UP"]
    row = session.execute(
        "SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = %s", (KEYSPACE,)
    ).one()
    assert row.replication["replication_factor"] == "3"


def test_quorum_survives_a_killed_node_and_all_does_not(
    session: Session, local_cluster: LocalCluster
) -> None:
    key, late_key = uuid.uuid4(), uuid.uuid4()
    insert = f"INSERT INTO {KEYSPACE}.kv (k, v) VALUES (%s, %s)"
    select = f"SELECT v FROM {KEYSPACE}.kv WHERE k = %s"
    _at(session, insert, ConsistencyLevel.ALL, key, "before")
    local_cluster.kill("node3")
    try:
        for survivor in ("node1", "node2"):  # either may coordinate the writes below
            _wait_seen(local_cluster, survivor, "127.0.0.3", "DN")
        _at(session, insert, ConsistencyLevel.QUORUM, late_key, "while node3 was down")
        assert _at(session, select, ConsistencyLevel.QUORUM, late_key)[0].v == (
            "while node3 was down"
        )
        assert _at(session, select, ConsistencyLevel.QUORUM, key)[0].v == "before"
        with pytest.raises((Unavailable, NoHostAvailable)) as failure:
            _at(session, insert, ConsistencyLevel.ALL, uuid.uuid4(), "needs every replica")
        errors = (
            failure.value.errors.values()
            if isinstance(failure.value, NoHostAvailable)
            else [failure.value]
        )
        assert all(isinstance(error, Unavailable) for error in errors), errors
    finally:
        local_cluster.start("node3")
    for survivor in ("node1", "node2"):
        _wait_seen(local_cluster, survivor, "127.0.0.3", "UN")
    assert _at(session, select, ConsistencyLevel.ALL, late_key)[0].v == "while node3 was down"


def test_the_manager_works_on_the_folders_of_the_running_nodes(
    config: ClusterConfig, local_cluster: LocalCluster
) -> None:
    """Another checkout's manager (a fresh ``LocalCluster``) finds the running nodes' own data
    folder, so that restarting a killed node there reuses its data and host id."""
    manager = LocalCluster(config, say=lambda _: None)
    for node in manager.nodes:
        process = node.process()
        assert process is not None, f"{node.name} is not running"
        assert f"-Dcassandra.config=file://{node.config_file}" in " ".join(process.cmdline())
    addresses = [node.address for node in manager.nodes]
    assert running_var(addresses, config.cassandra.port, config.name) == manager.var
    assert running_var(addresses, config.cassandra.port, "another cluster") is None


def test_mbean_attributes_are_read_over_jmx_and_a_refused_value_is_an_error(
    config: ClusterConfig, local_cluster: LocalCluster
) -> None:
    node = local_cluster.node("node1")
    service, proxy = (
        "org.apache.cassandra.db:type=StorageService",
        "org.apache.cassandra.db:type=StorageProxy",
    )
    assert local_cluster.mbean_attribute(node, service, "ClusterName") == config.name
    with pytest.raises(LocalClusterError, match="has no attribute 'NoSuchAttribute'"):
        local_cluster.mbean_attribute(node, service, "NoSuchAttribute")
    with pytest.raises(LocalClusterError, match="after setting it to 'v3'"):
        local_cluster.set_mbean_attribute(node, proxy, "PaxosVariant", "v3")


def test_only_the_gc_pause_threads_of_a_node_run_at_normal_priority(
    local_cluster: LocalCluster,
) -> None:
    """The JVM at nice 10 under SCHED_BATCH, its GC workers and VM thread at nice 0 (as ``up``
    leaves every node, started or reused)."""
    process = local_cluster.nodes[0].process()
    assert process is not None
    policies: dict[str, set[tuple[int, int]]] = {"pause": set(), "other": set()}
    for thread_id, name in thread_names(process):
        try:
            policy = (os.sched_getscheduler(thread_id), os.getpriority(os.PRIO_PROCESS, thread_id))
        except ProcessLookupError:
            continue  # ended meanwhile
        policies["pause" if name.startswith(PAUSE_THREADS) else "other"].add(policy)
    assert policies == {"pause": {(os.SCHED_OTHER, 0)}, "other": {(os.SCHED_BATCH, 10)}}
