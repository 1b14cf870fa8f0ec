"""Links to a registration that prove they were handed out, not guessed.

The page a member is sent to after signing up (and the kiosk's QR code, which opens it on
their phone) carries a proof: an HMAC of the reference under a key derived from the cluster
cookie, so that every node makes and checks the same ones. A lookup with a valid proof is no
guess, so it is not counted by the wrong-guess throttle (:func:`signups.look_up`), and a
member behind a network someone else is guessing from still sees their own code.
"""

from __future__ import annotations

import hashlib
import hmac

PROOF_CHARS = 32


def _key(cookie: bytes) -> bytes:
    return hmac.new(cookie, b"gather registration links", hashlib.sha256).digest()


def proof(cookie: bytes, ref: str) -> str:
    """The proof that ``ref`` was handed out by this cluster (hex, :data:`PROOF_CHARS` long)."""
    digest = hmac.new(_key(cookie), ref.strip().upper().encode(), hashlib.sha256).hexdigest()
    return digest[:PROOF_CHARS]


def is_proof(cookie: bytes, ref: str, candidate: str) -> bool:
    """Whether ``candidate`` is the proof of ``ref`` (compared in constant time)."""
    return hmac.compare_digest(proof(cookie, ref).encode(), candidate.strip().lower().encode())


def registration_path(cookie: bytes, ref: str) -> str:
    """The path of ``ref``'s page with its proof (``/registrations/REF?proof=...``): where a
    sign-up on the website is sent, and what the kiosk's QR code opens under the public URL."""
    return f"/registrations/{ref}?proof={proof(cookie, ref)}"
