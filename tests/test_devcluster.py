"""The development cluster's checks that need no running Cassandra."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import yaml

from config import cluster
from config.cluster import ClusterConfig, ConfigError
from devcluster import LocalClusterError, settings
from devcluster.distribution import POM, cassandra_version
from devcluster.node import LocalNode, balanced_token


def _config_with_local(tmp_path: Path, local: object) -> ClusterConfig:
    """The committed cluster.yaml with ``cassandra.local`` replaced (None: removed)."""
    document = yaml.safe_load(cluster.DEFAULT_PATH.read_text())
    if local is None:
        del document["cassandra"]["local"]
    else:
        document["cassandra"]["local"] = local
    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump(document))
    return cluster.load(path)


def test_the_committed_default_runs_three_nodes() -> None:
    assert settings.load(cluster.load()) == settings.LocalSettings(nodes=3, heap_mb=512)


@pytest.mark.parametrize(
    ("local", "message"),
    [
        ({"nodes": 3}, "cassandra.local.heap_mb: missing"),
        ({"nodes": 0, "heap_mb": 512}, "cassandra.local.nodes: expected an integer from 1 to 9"),
        ({"nodes": 3, "heap_mb": "1G"}, "cassandra.local.heap_mb: expected an integer"),
        ({"nodes": 3, "heap_mb": 512, "seeds": 1}, "cassandra.local.seeds: unknown key"),
        ([3, 512], "cassandra.local: expected a mapping"),
        (None, "cassandra.local: missing"),
    ],
)
def test_a_bad_local_section_is_named_with_the_expected_form(
    tmp_path: Path, local: object, message: str
) -> None:
    config = _config_with_local(tmp_path, local)
    with pytest.raises(ConfigError) as error:
        settings.load(config)
    assert message in str(error.value)
    assert str(config.path) in str(error.value)


def test_the_pom_that_fetches_the_jars_is_in_the_package() -> None:
    assert POM.is_file()
    assert cassandra_version().startswith("5.0.")


def test_tokens_are_balanced_over_the_murmur3_ring() -> None:
    assert [balanced_token(i, 3) for i in (1, 2, 3)] == [
        -9223372036854775808,
        -3074457345618258603,
        3074457345618258602,
    ]


def test_a_port_in_use_is_named_with_its_holder() -> None:
    node = LocalNode(
        index=9, count=9, cluster_name="t", native_port=9042, heap_mb=512, replication_factor=3
    )
    with socket.socket() as holder:
        holder.bind(("127.0.0.9", 9042))
        holder.listen()
        with pytest.raises(LocalClusterError, match=r"port 127\.0\.0\.9:9042 is already in use"):
            node.check_ports_free()


def test_a_log_rolled_over_since_the_start_is_read_from_its_beginning(tmp_path: Path) -> None:
    node = LocalNode(
        index=1,
        count=3,
        cluster_name="t",
        native_port=9042,
        heap_mb=512,
        replication_factor=3,
        var=tmp_path,
    )
    node.log_file.parent.mkdir(parents=True)
    node.log_file.write_text("a long log of yesterday's runs\n" * 10)
    offset = node.log_file.stat().st_size
    node.log_file.write_text("Starting listening for CQL clients\n")  # logback's daily roll-over
    assert "Starting listening" in node.log_since(offset)
    with node.log_file.open("a") as log:
        log.write("after\n")
    assert node.log_since(len("Starting listening for CQL clients\n")) == "after\n"
