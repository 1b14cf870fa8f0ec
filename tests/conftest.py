"""Shared fixtures: the real local Cassandra cluster, started or reused once per test session.

A test that needs Cassandra and cannot get it fails with the reason; nothing is skipped.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from config import cluster as cluster_config
from config.cluster import ClusterConfig
from storage.localcluster import LocalCluster, LocalClusterError


@pytest.fixture(scope="session")
def config() -> ClusterConfig:
    """The repository's cluster.yaml."""
    return cluster_config.load()


@pytest.fixture(scope="session")
def local_cluster(config: ClusterConfig) -> Iterator[LocalCluster]:
    """The local Cassandra cluster, every node UP (started now if it was not running)."""
    cluster = LocalCluster(config, say=lambda line: print(f"[localcluster] {line}"))
    try:
        cluster.up()
    except LocalClusterError as exc:
        pytest.fail(f"the local Cassandra cluster could not be started: {exc}", pytrace=False)
    yield cluster
