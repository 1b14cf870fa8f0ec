"""The error contract, locally and over the node link: a domain error goes back to its asker
as itself, with its fields, and the actor goes on; any other error crashes the actor, and
a remote asker learns it as a RemoteError.

Real actors in a real supervision tree, reached over real NodeLinks on loopback: the "home"
node's link hands what arrives to its tree (``TreeDelivery``); the "away" node asks.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import msgpack
import pytest

from actors import ActorCrashed, DomainError
from actors.errors import wire_name
from config.cluster import ClusterConfig, NodeConfig
from node.context import NodeContext
from node.delivery import TreeDelivery
from node.errors import RemoteError, decode_error, encode_error
from node.link import LinkSettings, NodeLink
from node.logbuffer import LogBuffer
from node.shell import ShellConnection, ShellError
from storage.errors import CassandraUnavailable, FullError, NotFound, Throttled, ValidationError
from supervision import ChildSpec, Tree
from tests.helpers import Inbox, Refuser, free_port, running, settled, wait_until

FAST = LinkSettings(heartbeat_s=0.1, down_after_s=0.5)
REFUSER = "root/refuser"


@dataclass
class Cluster:
    """The home node's tree and link, and the away node's link."""

    tree: Tree
    home: NodeLink
    away: NodeLink
    home_address: tuple[str, int]
    cookie: bytes

    def whoami(self) -> str:
        return self.tree.ask(REFUSER, "whoami")

    def restarts(self) -> int:
        return self.tree.snapshot(REFUSER).restarts


@pytest.fixture
def cluster(config: ClusterConfig) -> Iterator[Cluster]:
    addresses = {name: ("127.0.0.1", free_port()) for name in ("home", "away")}
    cookie = secrets.token_bytes(16)
    with running([ChildSpec("refuser", Refuser)], intensity=5, period=5.0) as tree:
        context = NodeContext(
            config=config,
            node=NodeConfig("home", *addresses["home"], roles=()),
            cookie=cookie,
            logs=LogBuffer(),
            tree=tree,
        )
        delivery = TreeDelivery(context)
        home = NodeLink("home", *addresses["home"], addresses, cookie, delivery, FAST)
        context.link = home
        away = NodeLink("away", *addresses["away"], addresses, cookie, Inbox(), FAST)
        home.start()
        away.start()
        try:
            wait_until(lambda: away.is_up("home") and home.is_up("away"), what="both links up")
            yield Cluster(tree, home, away, addresses["home"], cookie)
        finally:
            away.stop()
            home.stop()
            delivery.close()


def test_a_domain_error_goes_back_to_its_asker_here_and_remote_and_the_actor_goes_on(
    cluster: Cluster,
) -> None:
    instance = cluster.whoami()
    with pytest.raises(FullError, match="option 1 is full"):
        cluster.tree.ref(REFUSER).ask(["full"])
    with pytest.raises(FullError, match="option 1 is full") as remote:
        cluster.away.ask("home", REFUSER, ["full"])
    assert type(remote.value) is FullError
    assert cluster.whoami() == instance
    assert cluster.restarts() == 0


@pytest.mark.parametrize(
    ("message", "expected", "fields"),
    [
        (["throttled", 12.5], Throttled, {"wait_s": 12.5}),
        (
            ["invalid", "party_size", "must be at least 1"],
            ValidationError,
            {"field": "party_size", "message": "must be at least 1"},
        ),
    ],
)
def test_domain_errors_cross_the_link_with_their_fields(
    cluster: Cluster, message: list[object], expected: type[Exception], fields: dict[str, object]
) -> None:
    with pytest.raises(expected) as remote:
        cluster.away.ask("home", REFUSER, message)
    assert type(remote.value) is expected
    assert {name: getattr(remote.value, name) for name in fields} == fields
    assert cluster.restarts() == 0


def test_any_other_error_crashes_the_actor_and_a_remote_asker_gets_a_remote_error(
    cluster: Cluster,
) -> None:
    instance = cluster.whoami()
    with pytest.raises(ActorCrashed) as local:
        cluster.tree.ref(REFUSER).ask("crash")
    assert isinstance(local.value.__cause__, KeyError)
    settled(cluster.tree, REFUSER, restarts=1)
    restarted = cluster.whoami()
    assert restarted != instance
    with pytest.raises(RemoteError) as remote:
        cluster.away.ask("home", REFUSER, "crash")
    assert remote.value.error_type == "ActorCrashed"
    assert "KeyError" in remote.value.message
    settled(cluster.tree, REFUSER, restarts=2)
    assert cluster.whoami() not in (instance, restarted)


def test_the_shell_shows_a_domain_error_by_its_type(cluster: Cluster) -> None:
    shell = ShellConnection(*cluster.home_address, cluster.cookie)
    try:
        with pytest.raises(ShellError, match=r"NoSuchActor: .*root/nobody"):
            shell.call("info", "root/nobody")
        with pytest.raises(ShellError, match="FullError: option 1 is full"):
            shell.call("ask", REFUSER, ["full"])
    finally:
        shell.close()


class Late(DomainError):
    """A domain error whose argument is not plain data."""

    def __init__(self, due: object) -> None:
        super().__init__(due)
        self.due = due


def test_an_argument_that_is_not_plain_data_travels_as_its_text() -> None:
    due = datetime(2026, 12, 1, 21, 0, tzinfo=UTC)
    body = encode_error(Late(due))
    assert body == ["Late", str(due), wire_name(Late), [str(due)]]
    error = decode_error(msgpack.unpackb(msgpack.packb(body)))
    assert isinstance(error, Late)
    assert error.due == str(due)


@pytest.mark.parametrize(
    "error",
    [
        Throttled(12.5),
        ValidationError("party_size", "must be at least 1"),
        NotFound("event", "ABC"),
        CassandraUnavailable("no replicas", may_have_applied=True),
    ],
)
def test_every_domain_error_round_trips_with_its_arguments(error: DomainError) -> None:
    again = decode_error(msgpack.unpackb(msgpack.packb(encode_error(error))))
    assert type(again) is type(error)
    assert isinstance(again, DomainError)
    assert again.arguments() == error.arguments()


@pytest.mark.parametrize(
    ("body", "error_type", "message"),
    [
        (["ValueError", "no thanks"], "ValueError", "no thanks"),  # any error, and older peers
        (["FullError", "full"], "FullError", "full"),  # a domain error from an older peer
        (["Fresh", "new", "storage.errors.Fresh", [1]], "Fresh", "new"),  # a newer peer's
        (["Throttled", "soon", wire_name(Throttled), []], "Throttled", "soon"),  # wrong arguments
        ("just text", "Error", "just text"),
    ],
)
def test_what_cannot_be_made_again_arrives_as_a_remote_error(
    body: object, error_type: str, message: str
) -> None:
    error = decode_error(body)
    assert isinstance(error, RemoteError)
    assert (error.error_type, error.message) == (error_type, message)
