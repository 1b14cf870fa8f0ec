"""The local cluster manager's checks that need no running Cassandra."""

from __future__ import annotations

import socket

import pytest

from storage.localcluster import LocalClusterError
from storage.localcluster.node import LocalNode, balanced_token


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
