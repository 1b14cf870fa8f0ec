"""The worker role's actors (``node.process.ROLE_CHILDREN["worker"]``, docs/reports.md).

::

    worker             one_for_one, at most 5 restarts in 30 s
    ├── runner         RunnerActor: runs reports with this node as coordinator; the nightly run
    ├── scan-1         ScanActor: scans the token ranges a coordinator hands it
    └── scan-N         (reports.workers_per_node of them, 2 by default)

Two scan actors by default: a scan's Python work (decoding rows, mapping them) holds the
process's GIL, so more threads in one process add no speed, but while one waits for its next
page from Cassandra the other maps the page it has. More speed comes from more worker nodes.
one_for_one: the actors share nothing; a crashed scan's ranges go to the other workers.
"""

from __future__ import annotations

from node.context import NodeContext
from reports.runner import RunnerActor
from reports.worker import ScanActor
from supervision.spec import ChildSpec


def children(context: NodeContext) -> list[ChildSpec]:
    """The worker role supervisor's children."""
    scans = [
        ChildSpec(f"scan-{i}", ScanActor, kwargs={"context": context})
        for i in range(1, context.config.reports.workers_per_node + 1)
    ]
    return [ChildSpec("runner", RunnerActor, kwargs={"context": context}), *scans]
