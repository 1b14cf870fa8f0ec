"""One Gather node process: its supervision tree, built from its entry in cluster.yaml.

::

    root                  one_for_one, at most 5 restarts in 30 s
    ├── link              LinkActor: the node link (listens, dials the peers)
    ├── storage           StorageActor: the Cassandra connection (restarted with backoff)
    ├── diagnostics       Diagnostics: ping, echo, counters
    └── <role>            one supervisor per role of the node, in the order
                          kiosk, web, sms, mail, worker; each role's issue fills its own

SIGTERM and SIGINT stop the tree in order (children in reverse order); when the root gives
up, the process exits with status 1 so that its service manager (or ``make run``'s
launcher) starts it again. SIGHUP reloads cluster.yaml (``NodeContext.reload``, the same as
the shell's ``reload``): the other nodes' entries apply at once, the rest at a restart.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import logging
import sys
from collections.abc import Callable

from config.cluster import ROLES, ClusterConfig, ConfigError
from node.context import NodeContext
from node.diagnostics import Diagnostics
from node.logbuffer import FORMAT, LogBuffer
from node.services import LinkActor, StorageActor
from supervision.spec import Backoff, ChildSpec, Strategy
from supervision.supervisor import Supervisor
from supervision.tree import Tree, run_root

log = logging.getLogger("gather.node")

ROOT_INTENSITY = 5
ROOT_PERIOD_S = 30.0
STORAGE_BACKOFF = Backoff(min=0.5, max=15.0, jitter=0.2, reset_after=60.0)


def settle_interpreter() -> None:
    """Tune the interpreter for serving, once a node's start-up has built what it keeps.

    What start-up built (modules, the driver's metadata, templates) lives as long as the
    process: out of the collector's sight (its garbage collected first), a full collection
    takes no ~30 ms pause in the middle of requests.
    """
    gc.collect()
    gc.freeze()


ROLE_CHILDREN: dict[str, str] = {
    "kiosk": "kiosk_ui.role:children",
    "web": "web.actor:children",
    "sms": "sms.actor:children",
    "mail": "mail.actor:children",
    "worker": "reports.actor:children",
}
"""``role -> "module:function"``: the function gives that role supervisor's children; the
module's ``STRATEGY``, if it has one, is the supervisor's strategy (else one_for_one).

Imported only on nodes with the role, so a kiosk never loads the web server and vice versa.
"""


def role_supervisor(role: str, context: NodeContext) -> ChildSpec:
    """The spec of ``role``'s supervisor (with no children for a role not built yet)."""
    target = ROLE_CHILDREN.get(role)
    if target is None:
        return Supervisor.spec(role, [], intensity=5, period=30.0)
    name, _, function = target.partition(":")
    module = importlib.import_module(name)
    children: Callable[[NodeContext], list[ChildSpec]] = getattr(module, function)
    strategy = getattr(module, "STRATEGY", Strategy.ONE_FOR_ONE)
    return Supervisor.spec(role, children(context), strategy=strategy, intensity=5, period=30.0)


def tree_spec(context: NodeContext) -> ChildSpec:
    """The root supervisor's spec for the node described by ``context``."""
    children = [
        ChildSpec("link", LinkActor, kwargs={"context": context}),
        ChildSpec(
            "storage",
            StorageActor,
            kwargs={"context": context},
            start_timeout=30.0,
            backoff=STORAGE_BACKOFF,
        ),
        ChildSpec("diagnostics", Diagnostics, kwargs={"context": context}),
    ]
    for role in ROLES:
        if role in context.node.roles:
            children.append(role_supervisor(role, context))
    return Supervisor.spec("root", children, intensity=ROOT_INTENSITY, period=ROOT_PERIOD_S)


def run(config: ClusterConfig, name: str) -> int:
    """Run node ``name`` until a signal; the exit status (1 when the root gave up)."""
    logs = LogBuffer()
    logging.basicConfig(level=logging.INFO, format=FORMAT, stream=sys.stderr)
    logging.getLogger().addHandler(logs)
    logging.getLogger("cassandra").setLevel(logging.WARNING)
    context = NodeContext(
        config=config, node=config.nodes[name], cookie=config.cookie.read(), logs=logs
    )
    if "sms" in context.node.roles:
        from sms.service import make_provider  # only sms nodes load the sms package

        make_provider(config.sms)  # a missing secret or key stops the node here, named
    if "mail" in context.node.roles:
        from mail.mailer import smtp_settings  # only mail nodes load the mail package

        if config.mail is None:
            raise ConfigError("mail: missing; the mail role needs it")
        smtp_settings(config.mail)  # a missing SMTP password stops the node here, named
    log.info("node %s starting (roles: %s)", name, ", ".join(context.node.roles) or "none")

    def started(tree: Tree) -> None:
        context.tree = tree
        settle_interpreter()
        log.info("node %s running on %s:%d", name, context.node.host, context.node.port)

    def hangup() -> None:
        log.info("SIGHUP: reloading %s", context.config.path)
        with contextlib.suppress(ConfigError):  # logged by reload: the node runs on as it was
            context.reload()

    reason = run_root(tree_spec(context), on_started=started, on_hangup=hangup)
    log.info("node %s stopped (%s)", name, reason)
    return 0
