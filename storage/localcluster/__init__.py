"""A real multi-node Apache Cassandra cluster on this machine, one JVM per node on 127.0.0.N.

Run ``python -m storage.localcluster --help``; tests and ``make`` use :class:`LocalCluster`.
"""

from storage.localcluster.errors import LocalClusterError
from storage.localcluster.manager import LocalCluster, NodeStatus

__all__ = ["LocalCluster", "LocalClusterError", "NodeStatus"]
