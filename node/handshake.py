"""Mutual proof that both ends of a connection know the cluster cookie.

HMAC-SHA256 over fresh random nonces; the cookie never crosses the wire.

    client -> server  ["hello", PROTOCOL, client_name, purpose, client_nonce]
    server -> client  ["challenge", server_name, server_nonce, server_proof]
    client -> server  ["proof", client_proof]
    server -> client  ["welcome"]

``server_proof = HMAC(cookie, "server" | client_nonce | server_nonce | server | client)`` and
the client's proof is the same with "client" and the nonces swapped, so neither proof can be
replayed as the other, nor reused on another connection. ``purpose`` is ``"peer"`` for a node
or ``"shell"`` for an operator shell.

:func:`client_handshake` and :func:`server_handshake` run the two sides on a stream; each
frame must come alone and in turn, and none may exceed ``HANDSHAKE_MAX_FRAME`` bytes.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from collections.abc import Container
from typing import Any

from node.frames import FrameDecoder, encode

PROTOCOL = 1
NONCE_BYTES = 32
PURPOSES = ("peer", "shell")
HANDSHAKE_TIMEOUT_S = 5.0
HANDSHAKE_MAX_FRAME = 1024


class HandshakeError(ConnectionError):
    """The other end failed to prove it knows the cookie, or broke the protocol."""


def new_nonce() -> bytes:
    """A fresh random nonce for one handshake."""
    return secrets.token_bytes(NONCE_BYTES)


def proof(cookie: bytes, role: str, own: bytes, other: bytes, own_name: str, peer: str) -> bytes:
    """The HMAC that ``role`` ("server" or "client") sends to show it knows ``cookie``."""
    message = b"|".join(
        [role.encode(), own, other, own_name.encode(), peer.encode(), str(PROTOCOL).encode()]
    )
    return hmac.new(cookie, message, hashlib.sha256).digest()


def check(expected: bytes, received: object) -> None:
    """Compare in constant time; raise :class:`HandshakeError` on mismatch."""
    if not isinstance(received, bytes) or not hmac.compare_digest(expected, received):
        raise HandshakeError("the peer's proof does not match: wrong cluster cookie")


def parse_hello(frame: list[Any]) -> tuple[str, str, bytes]:
    """(client name, purpose, client nonce) from a hello frame, validated."""
    if len(frame) != 5 or frame[0] != "hello":
        raise HandshakeError(f"expected a hello frame, got {str(frame[0])[:20]!r}")
    _, protocol, name, purpose, nonce = frame
    if protocol != PROTOCOL:
        raise HandshakeError(f"protocol version {protocol!r} is not {PROTOCOL}")
    if not isinstance(name, str) or not 0 < len(name) <= 64:
        raise HandshakeError("hello: bad node name")
    if purpose not in PURPOSES:
        raise HandshakeError(f"hello: unknown purpose {purpose!r}")
    if not isinstance(nonce, bytes) or len(nonce) != NONCE_BYTES:
        raise HandshakeError("hello: bad nonce")
    return name, purpose, nonce


def parse_challenge(frame: list[Any]) -> tuple[str, bytes, bytes]:
    """(server name, server nonce, server proof) from a challenge frame, validated."""
    if len(frame) != 4 or frame[0] != "challenge":
        raise HandshakeError(f"expected a challenge frame, got {str(frame[0])[:20]!r}")
    _, name, nonce, server_proof = frame
    if not isinstance(name, str) or not isinstance(nonce, bytes) or len(nonce) != NONCE_BYTES:
        raise HandshakeError("challenge: malformed")
    return name, nonce, server_proof


async def client_handshake(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    cookie: bytes,
    own_name: str,
    expected: str | None,
    purpose: str = "peer",
) -> str:
    """Prove the cookie to a server and check its proof; return the server's name."""
    decoder = FrameDecoder(HANDSHAKE_MAX_FRAME)
    nonce = new_nonce()
    writer.write(encode(["hello", PROTOCOL, own_name, purpose, nonce]))
    name, server_nonce, server_proof = parse_challenge(await _read_frame(reader, decoder))
    if expected is not None and name != expected:
        raise HandshakeError(f"expected node {expected}, reached {name}")
    check(proof(cookie, "server", server_nonce, nonce, name, own_name), server_proof)
    writer.write(encode(["proof", proof(cookie, "client", nonce, server_nonce, own_name, name)]))
    if (await _read_frame(reader, decoder))[0] != "welcome":
        raise HandshakeError("no welcome after the proof")
    return name


async def server_handshake(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    cookie: bytes,
    own_name: str,
    peers: Container[str],
) -> tuple[str, str]:
    """Check a client's proof of the cookie and prove it back; return (client, purpose).

    A ``peer`` client must be one of ``peers``; a ``shell`` may have any name.
    """
    decoder = FrameDecoder(HANDSHAKE_MAX_FRAME)
    peer, purpose, client_nonce = parse_hello(await _read_frame(reader, decoder))
    if purpose == "peer" and peer not in peers:
        raise HandshakeError(f"{peer!r} is not a node of cluster.yaml")
    nonce = new_nonce()
    mine = proof(cookie, "server", nonce, client_nonce, own_name, peer)
    writer.write(encode(["challenge", own_name, nonce, mine]))
    frame = await _read_frame(reader, decoder)
    if frame[0] != "proof" or len(frame) != 2:
        raise HandshakeError("expected the client's proof")
    check(proof(cookie, "client", client_nonce, nonce, peer, own_name), frame[1])
    writer.write(encode(["welcome"]))
    return peer, purpose


async def _read_frame(reader: asyncio.StreamReader, decoder: FrameDecoder) -> list[Any]:
    while True:
        data = await reader.read(4096)
        if not data:
            raise ConnectionResetError("connection closed during the handshake")
        frames = decoder.feed(data)
        if frames:
            if len(frames) > 1 or decoder.pending:
                raise HandshakeError("spoke out of turn during the handshake")
            return frames[0]
