"""A development tool, not part of Gather: a real multi-node Apache Cassandra cluster on this
machine, one JVM per node on 127.0.0.N, as cluster.yaml's ``cassandra.local`` describes it.

``make`` runs ``python -m devcluster up`` (``--help`` lists the commands); the tests use
:class:`LocalCluster`. The server's jars and config templates are in ``devcluster/server/``.
"""

from devcluster.errors import LocalClusterError
from devcluster.manager import LocalCluster, NodeStatus

__all__ = ["LocalCluster", "LocalClusterError", "NodeStatus"]
