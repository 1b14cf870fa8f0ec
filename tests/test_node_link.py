"""The node link in one process: authentication, tell/ask/broadcast, up/down, bad peers."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import socket
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.cluster import LinkConfig
from node import handshake, tls
from node.frames import FrameDecoder, encode
from node.handshake import client_handshake
from node.link import LinkSettings, NodeEvent, NodeLink, PeerUnavailable, RemoteError
from node.shell import ShellConnection, ShellError
from tests.helpers import Inbox, free_port, wait_until

FAST = LinkSettings(heartbeat_s=0.1, down_after_s=0.5)


Trio = tuple[dict[str, NodeLink], dict[str, Inbox], dict[str, tuple[str, int]]]
"""Three linked nodes a, b, c: their links, what each received, their addresses."""


@pytest.fixture
def trio() -> Iterator[Trio]:
    addresses = {name: ("127.0.0.1", free_port()) for name in ("a", "b", "c")}
    inboxes = {name: Inbox() for name in addresses}
    links = {
        name: NodeLink(name, *addresses[name], addresses, b"secret", inboxes[name], FAST)
        for name in addresses
    }
    for link in links.values():
        link.start()
    for link in links.values():
        wait_until(functools.partial(lambda link: all(p.up for p in link.peers()), link))
    yield links, inboxes, addresses
    for link in links.values():
        link.stop()


def test_tell_ask_and_broadcast_between_nodes(trio: Trio) -> None:
    links, inboxes, _ = trio
    links["a"].tell("b", "root/web", {"hello": 1})
    assert inboxes["b"].wait_for(1) == [("root/web", {"hello": 1})]
    assert links["a"].ask("c", "root/worker", "ping") == {"path": "root/worker", "echo": "ping"}
    with pytest.raises(RemoteError, match="ValueError: no thanks"):
        links["a"].ask("c", "root/worker", "fail")
    with pytest.raises(RemoteError, match="UnsendableAnswer"):
        links["a"].ask("c", "root/worker", "unsendable")
    reached = links["b"].broadcast("root/cache", "asset-1 changed")
    assert sorted(reached) == ["a", "b", "c"]
    for name in ("a", "c"):
        assert ("root/cache", "asset-1 changed") in inboxes[name].wait_for(1)


def test_a_stopped_peer_is_noticed_down_and_its_return_up(trio: Trio) -> None:
    links, inboxes, addresses = trio
    events: list[NodeEvent] = []
    links["a"].subscribe(events.append)
    links["c"].stop()
    wait_until(lambda: any(e.node == "c" and not e.up for e in events))
    with pytest.raises(PeerUnavailable):
        links["a"].tell("c", "root/x", 1)
    revived = NodeLink(
        "c", "127.0.0.1", addresses["c"][1], addresses, b"secret", inboxes["c"], FAST
    )
    revived.start()
    try:
        wait_until(lambda: any(e.node == "c" and e.up for e in events))
        assert links["a"].ask("c", "root/x", 2) == {"path": "root/x", "echo": 2}
    finally:
        revived.stop()


def test_a_node_with_the_wrong_cookie_never_gets_in(trio: Trio) -> None:
    links, _, addresses = trio
    intruder = NodeLink("a", "127.0.0.1", free_port(), addresses, b"wrong", Inbox(), FAST)
    intruder.start()
    try:
        wait_until(lambda: all("cookie" in peer.last_error for peer in intruder.peers()))
        assert not any(peer.up for peer in intruder.peers())
    finally:
        intruder.stop()
    assert all(peer.up for peer in links["b"].peers())


async def prove_with_the_wrong_cookie(address: tuple[str, int]) -> bytes:
    """Play a node "a" that answers the server's challenge with a proof of the wrong cookie,
    without checking the server's own proof; return what the server sends after it."""
    reader, writer = await asyncio.open_connection(*address)
    nonce = handshake.new_nonce()
    writer.write(encode(["hello", handshake.PROTOCOL, "a", "peer", nonce]))
    decoder = FrameDecoder(handshake.HANDSHAKE_MAX_FRAME)
    while not (frames := decoder.feed(await reader.read(4096))):
        pass
    server, server_nonce, _ = handshake.parse_challenge(frames[0])
    mine = handshake.proof(b"wrong", "client", nonce, server_nonce, "a", server)
    writer.write(encode(["proof", mine]))
    after = await reader.read(4096)
    writer.close()
    return after


def test_a_peer_proving_the_wrong_cookie_is_refused(
    trio: Trio, caplog: pytest.LogCaptureFixture
) -> None:
    links, _, addresses = trio
    caplog.set_level(logging.WARNING, logger="gather.link")
    after = asyncio.run(asyncio.wait_for(prove_with_the_wrong_cookie(addresses["b"]), 5))
    assert after == b""  # no welcome: the connection is closed
    wait_until(lambda: "refused connection from" in caplog.text, what="the refusal logged")
    assert "wrong cluster cookie" in caplog.text
    assert "dropped connection" not in caplog.text
    assert links["a"].ask("b", "root/x", "still here") == {"path": "root/x", "echo": "still here"}


def test_a_node_missing_from_cluster_yaml_is_refused(
    trio: Trio, caplog: pytest.LogCaptureFixture
) -> None:
    _, _, addresses = trio
    caplog.set_level(logging.WARNING, logger="gather.link")
    stranger = NodeLink(
        "z", "127.0.0.1", free_port(), {"b": addresses["b"]}, b"secret", Inbox(), FAST
    )
    stranger.start()
    try:
        wait_until(lambda: "'z' is not a node of cluster.yaml" in caplog.text, what="refusal")
        wait_until(lambda: "during the handshake" in stranger.peers()[0].last_error)
        assert not stranger.is_up("b")
    finally:
        stranger.stop()
    assert "refused connection from" in caplog.text


def test_a_shell_with_the_wrong_cookie_is_refused_and_the_right_one_served(trio: Trio) -> None:
    _, _, addresses = trio
    with pytest.raises(ShellError, match="cookie"):
        ShellConnection("127.0.0.1", addresses["b"][1], b"wrong")
    shell = ShellConnection("127.0.0.1", addresses["b"][1], b"secret")
    try:
        assert shell.node == "b"
        assert shell.call("tree") == ["tree", []]
        with pytest.raises(ShellError, match="KeyError"):
            shell.call("boom")
    finally:
        shell.close()


@pytest.mark.parametrize(
    "garbage",
    [
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        struct.pack(">I", 2**31) + b"x",
        encode(["tell", "root/x", [None, 0, "before the handshake"]]),
        struct.pack(">I", 3) + b"\xc1\xc1\xc1",
    ],
)
def test_bad_bytes_drop_that_connection_and_the_node_carries_on(trio: Trio, garbage: bytes) -> None:
    links, inboxes, addresses = trio
    with socket.create_connection(addresses["b"]) as rogue:
        rogue.sendall(garbage)
        rogue.settimeout(6)
        assert rogue.recv(4096) == b""
    assert inboxes["b"].told == []
    assert links["a"].ask("b", "root/x", "still here") == {"path": "root/x", "echo": "still here"}


def make_certificates(folder: Path) -> None:
    """A CA and one node certificate signed by it, made with the openssl command."""

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=gather-ca",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    )
    openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=node",
        "-keyout",
        "node.key",
        "-out",
        "node.csr",
    )
    openssl(
        "x509",
        "-req",
        "-in",
        "node.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-out",
        "node.pem",
    )


def test_with_tls_on_nodes_talk_and_a_plaintext_peer_is_dropped(tmp_path: Path) -> None:
    make_certificates(tmp_path)
    link_config = LinkConfig(
        heartbeat_s=0.1,
        down_after_s=0.5,
        max_frame_bytes=2**20,
        tls_certfile=tmp_path / "node.pem",
        tls_keyfile=tmp_path / "node.key",
        tls_cafile=tmp_path / "ca.pem",
    )
    server_tls, client_tls = tls.contexts(link_config)
    settings = LinkSettings(0.1, 0.5, 2**20, server_tls, client_tls)
    addresses = {name: ("127.0.0.1", free_port()) for name in ("a", "b")}
    inboxes = {name: Inbox() for name in addresses}
    links = [NodeLink(n, *addresses[n], addresses, b"s", inboxes[n], settings) for n in addresses]
    plain = NodeLink("a", "127.0.0.1", free_port(), addresses, b"s", Inbox(), FAST)
    for link in [*links, plain]:
        link.start()
    try:
        wait_until(lambda: all(p.up for link in links for p in link.peers()))
        links[0].tell("b", "root/x", "over tls")
        assert inboxes["b"].wait_for(1) == [("root/x", "over tls")]
        wait_until(lambda: all(peer.last_error for peer in plain.peers()))
        assert not any(peer.up for peer in plain.peers())
    finally:
        for link in [*links, plain]:
            link.stop()


frames_after_handshake = st.lists(
    st.one_of(
        st.binary(max_size=64),
        st.lists(
            st.one_of(
                st.none(),
                st.integers(-(2**63), 2**63 - 1),
                st.text(max_size=12),
                st.binary(max_size=8),
            ),
            min_size=1,
            max_size=6,
        ).map(encode),
        st.sampled_from(
            [
                encode(["tell", "root/x", ["no_such_type", 1, {}]]),
                encode(["ask", [1], "root/x", [None, 0, 1], 5]),
                encode(["ask", 7, "root/x", [None, 0, 1], "soon"]),
                encode(["reply", 1, True, [None, 0, 1]]),
                encode(["cmd", 1, "tree", []]),
                struct.pack(">I", 2**30),
            ]
        ),
    ),
    min_size=1,
    max_size=5,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(frames=frames_after_handshake)
def test_an_authenticated_peer_sending_junk_never_breaks_the_node(
    trio: Trio, frames: list[bytes]
) -> None:
    links, _, addresses = trio

    async def misbehave() -> None:
        reader, writer = await asyncio.open_connection(*addresses["b"])
        await client_handshake(reader, writer, b"secret", "a", "b")
        with contextlib.suppress(ConnectionError, TimeoutError):  # the node may drop us
            for frame in frames:
                writer.write(frame)
            await writer.drain()
            await asyncio.wait_for(reader.read(4096), 0.2)
        writer.close()

    asyncio.run(misbehave())
    assert links["a"].ask("b", "root/x", "still here") == {"path": "root/x", "echo": "still here"}
    assert all(peer.up for peer in links["b"].peers())
