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
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

PROTOCOL = 1
NONCE_BYTES = 32
PURPOSES = ("peer", "shell")


class HandshakeError(ConnectionError):
    """The other end failed to prove it knows the cookie, or broke the protocol."""


def new_nonce() -> bytes:
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


def parse_hello(frame: list) -> tuple[str, str, bytes]:
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


def parse_challenge(frame: list) -> tuple[str, bytes, bytes]:
    """(server name, server nonce, server proof) from a challenge frame, validated."""
    if len(frame) != 4 or frame[0] != "challenge":
        raise HandshakeError(f"expected a challenge frame, got {str(frame[0])[:20]!r}")
    _, name, nonce, server_proof = frame
    if not isinstance(name, str) or not isinstance(nonce, bytes) or len(nonce) != NONCE_BYTES:
        raise HandshakeError("challenge: malformed")
    return name, nonce, server_proof
