"""The driver session: per-class profiles from cluster.yaml, hosts, typed connection errors."""

from __future__ import annotations

import dataclasses
import pickle
import secrets
import time
from collections.abc import Callable
from typing import get_args

import pytest
from cassandra import ConsistencyLevel, OperationTimedOut, ReadTimeout, Unavailable, WriteTimeout
from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile, NoHostAvailable
from cassandra.policies import TokenAwarePolicy, WhiteListRoundRobinPolicy

from config.cluster import ClusterConfig, Consistency
from devcluster import LocalCluster
from storage.errors import CassandraUnavailable, MigrationError, ValidationError, WriteUncertain
from storage.flow import OpClass
from storage.session import PROTOCOL_VERSION, Database, _translate
from storage.store import Store


def test_each_operation_class_has_its_profile_from_cluster_yaml(
    store: Store, config: ClusterConfig
) -> None:
    for op in get_args(OpClass):
        wanted = config.cassandra.consistency[op]
        profile = store.db.profile(op)
        assert ConsistencyLevel.value_to_name[profile.consistency_level] == wanted.level
        assert profile.request_timeout == wanted.timeout_s
        assert isinstance(profile.load_balancing_policy, TokenAwarePolicy)
    serial = store.db.profile("signup").serial_consistency_level
    assert ConsistencyLevel.value_to_name[serial] == config.cassandra.consistency["signup"].serial


def test_changing_cluster_yaml_changes_the_profiles(config: ClusterConfig, store: Store) -> None:
    consistency = dict(config.cassandra.consistency)
    consistency["report"] = Consistency(level="ALL", timeout_s=7)
    changed = dataclasses.replace(
        config, cassandra=dataclasses.replace(config.cassandra, consistency=consistency)
    )
    with Database(changed, store.db.keyspace) as db:
        assert db.profile("report").consistency_level == ConsistencyLevel.ALL
        assert db.profile("report").request_timeout == 7
        assert db.execute("SELECT release_version FROM system.local", op="report")


def test_statements_are_prepared_once(store: Store) -> None:
    cql = "SELECT event_id FROM events WHERE event_id = ?"
    assert store.db.prepare(cql) is store.db.prepare(cql)


def _prepared_on(address: str, config: ClusterConfig) -> set[bytes]:
    """The ids of the statements node ``address`` has prepared (its local table)."""
    only_there = ExecutionProfile(load_balancing_policy=WhiteListRoundRobinPolicy([address]))
    cluster = Cluster(
        [address],
        port=config.cassandra.port,
        protocol_version=PROTOCOL_VERSION,
        execution_profiles={EXEC_PROFILE_DEFAULT: only_there},
    )
    try:
        rows = cluster.connect().execute("SELECT prepared_id FROM system.prepared_statements")
        return {row.prepared_id for row in rows}
    finally:
        cluster.shutdown()


def _wait_until(condition: Callable[[], bool], what: str, within_s: float = 60) -> None:
    deadline = time.monotonic() + within_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {within_s:g} s")
        time.sleep(0.5)


def test_a_node_back_from_an_outage_is_given_the_statements_prepared_meanwhile(
    store: Store, config: ClusterConfig, local_cluster: LocalCluster
) -> None:
    """Else the node answers "unprepared" to each such statement until the driver re-prepares
    it request by request, which the driver cannot do for a statement inside a batch."""
    down = local_cluster.node("node3")
    local_cluster.kill(down.name)
    try:
        _wait_until(
            lambda: not any(h.is_up for h in store.db.hosts() if h.address == down.address),
            f"the driver to see {down.name} down",
        )
        limit = secrets.randbelow(10**9) + 2  # a statement no test prepared before
        statement = store.db.prepare(f"SELECT title FROM events LIMIT {limit}")
    finally:
        local_cluster.start(down.name)
    _wait_until(
        lambda: statement.query_id in _prepared_on(down.address, config),
        f"{down.name} to be given the statement prepared while it was down",
    )


def test_the_driver_view_of_the_hosts(store: Store, config: ClusterConfig) -> None:
    hosts = store.db.hosts()
    assert [host.address for host in hosts] == list(config.cassandra.contact_points)
    assert all(host.is_up and host.release_version for host in hosts)


def test_connecting_while_cassandra_is_down_is_a_typed_error(config: ClusterConfig) -> None:
    nowhere = dataclasses.replace(
        config,
        cassandra=dataclasses.replace(config.cassandra, contact_points=("127.0.0.9",)),
    )
    with pytest.raises(CassandraUnavailable) as failure:
        Database(nowhere, connect_timeout_s=1)
    assert not failure.value.may_have_applied
    assert "127.0.0.9" in str(failure.value)


def test_a_missing_keyspace_says_to_migrate(config: ClusterConfig, store: Store) -> None:
    with pytest.raises(MigrationError, match=r"storage\.migrate"):
        Database(config, "gather_no_such_keyspace")


def test_storage_errors_survive_pickling() -> None:
    for error in (
        ValidationError("party_size", "must be from 1 to 20"),
        CassandraUnavailable("down"),
        WriteUncertain("timed out"),
    ):
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error) and str(copy) == str(error)
        assert copy.__dict__ == error.__dict__


def test_driver_failures_say_whether_the_write_may_have_applied() -> None:
    unavailable = _translate(Unavailable("", alive_replicas=1, required_replicas=2), is_write=True)
    assert type(unavailable) is CassandraUnavailable and not unavailable.may_have_applied
    timeout = _translate(WriteTimeout("", write_type=5), is_write=True)
    assert isinstance(timeout, WriteUncertain) and timeout.may_have_applied
    assert isinstance(_translate(OperationTimedOut(), is_write=True), WriteUncertain)
    read = _translate(ReadTimeout(""), is_write=False)
    assert type(read) is CassandraUnavailable and not read.may_have_applied
    lost = NoHostAvailable("", {"127.0.0.1": OperationTimedOut()})
    assert isinstance(_translate(lost, is_write=True), WriteUncertain)
    refused = _translate(
        NoHostAvailable("", {"127.0.0.1": ConnectionRefusedError()}), is_write=True
    )
    assert isinstance(refused, CassandraUnavailable) and not refused.may_have_applied
