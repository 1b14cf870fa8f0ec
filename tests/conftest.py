"""Shared fixtures: the real local Cassandra cluster, started or reused once per test session.

A test that needs Cassandra and cannot get it fails with the reason; nothing is skipped.
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Iterator
from email.message import EmailMessage

import pytest

from config import cluster as cluster_config
from config.cluster import ClusterConfig
from devcluster import LocalCluster, LocalClusterError
from mail import notices as mail_notices
from mail.sandbox import MailSandbox
from notices.sender import Sender
from storage import migrate as storage_migrate
from storage.errors import StorageError
from storage.session import Database
from storage.store import Store
from tests.helpers import STORAGE_TEST_KEYSPACE


@pytest.fixture(scope="session")
def config() -> ClusterConfig:
    """The repository's cluster.yaml."""
    return cluster_config.load()


@pytest.fixture(scope="session")
def local_cluster(config: ClusterConfig) -> Iterator[LocalCluster]:
    """The local Cassandra cluster, every node UP (started now if it was not running)."""
    cluster = LocalCluster(config, say=lambda line: print(f"[devcluster] {line}"))
    try:
        cluster.up()
    except LocalClusterError as exc:
        pytest.fail(f"the local Cassandra cluster could not be started: {exc}", pytrace=False)
    yield cluster


# --- storage (issue 3): the schema migrated into a test keyspace, and the repositories on it ---


@pytest.fixture(scope="session")
def store(
    config: ClusterConfig, local_cluster: LocalCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    """Every storage repository on the ``gather_test`` keyspace, migrations applied first."""
    try:
        with Database(config) as db:
            storage_migrate.apply(db, config, STORAGE_TEST_KEYSPACE, say=lambda _: None)
        opened = Store(
            config,
            node="test-node",
            keyspace=STORAGE_TEST_KEYSPACE,
            archive_folder=tmp_path_factory.mktemp("archive"),
        )
    except StorageError as exc:
        pytest.fail(f"storage could not be set up on the local cluster: {exc}", pytrace=False)
    yield opened
    opened.close()


@pytest.fixture
def short_code() -> str:
    """A short code no other test uses."""
    return "T" + secrets.token_hex(4).upper()


# --- web (issue 6): a node context on the test keyspace, and an admin to sign in with ---


@pytest.fixture(scope="session")
def web_context(config: ClusterConfig, store: Store) -> object:
    """A NodeContext for a web node named ``web-test`` whose storage is the test ``store``,
    behind a reverse proxy on loopback (so tests can sign in from addresses of their own)."""
    from config.cluster import NodeConfig
    from node.context import NodeContext
    from node.logbuffer import LogBuffer

    node = NodeConfig(
        name="web-test",
        host="127.0.0.1",
        port=0,
        roles=("web",),
        http_port=0,
        trusted_proxies=("127.0.0.0/8",),  # the test client stands for a proxy's clients
    )
    return NodeContext(
        config=config, node=node, cookie=secrets.token_bytes(16), logs=LogBuffer(), store=store
    )


@pytest.fixture(scope="session")
def admin_login(store: Store) -> tuple[str, str]:
    """(username, password) of an admin created for this test session."""
    username = "t" + secrets.token_hex(6)
    password = secrets.token_urlsafe(16)
    store.admins.create(username, password)
    return username, password


# --- mail (issue 15): a real SMTP server on loopback, and the e-mail notices' sender ---


@pytest.fixture(scope="module")
def mail_sandbox() -> Iterator[MailSandbox]:
    """A loopback SMTP server that keeps what it takes (:class:`mail.sandbox.MailSandbox`)."""
    with MailSandbox() as running:
        yield running


@pytest.fixture
def email_sender(
    config: ClusterConfig, store: Store, mail_sandbox: MailSandbox
) -> Iterator[Sender[EmailMessage]]:
    """The ``email`` notices' sender (:func:`mail.notices.notifier`) on ``mail_sandbox``, as a
    node of its own, having sent first what other tests left owed."""
    assert config.mail is not None
    mail = dataclasses.replace(
        config.mail,
        smtp_host=mail_sandbox.host,
        smtp_port=mail_sandbox.port,
        security="none",
        user=None,
        password=None,
        timeout_s=5.0,
    )
    running = mail_notices.notifier(mail, config.site, f"mail-{secrets.token_hex(3)}")
    while running.run_pass(store):
        pass
    yield running
    running.close()
