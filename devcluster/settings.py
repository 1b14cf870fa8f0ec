"""The development cluster's own settings: ``cassandra.local`` in cluster.yaml.

Gather's configuration (``config.cluster``) allows the section and leaves it alone; it is
parsed here with the same section helpers, so a bad value gets the same kind of message
(``<file>: cassandra.local.nodes: expected an integer from 1 to 9, got 40``).
"""

from __future__ import annotations

from dataclasses import dataclass

from config import cluster as cluster_config
from config.cluster import ClusterConfig, Section


@dataclass(frozen=True)
class LocalSettings:
    """How many Cassandra nodes to run on this machine (on 127.0.0.1..N), with what heap."""

    nodes: int
    heap_mb: int


def load(config: ClusterConfig) -> LocalSettings:
    """``cassandra.local`` of the cluster.yaml that ``config`` was loaded from."""
    return cluster_config.read(config.path, _parse)


def _parse(top: Section) -> LocalSettings:
    local = top.section("cassandra").section("local")
    local.only("nodes", "heap_mb")
    return LocalSettings(
        nodes=local.integer("nodes", 1, 9), heap_mb=local.integer("heap_mb", 256, 16384)
    )
