"""The node link's tunables (cluster.yaml's ``link`` section) and its fixed sizes."""

from __future__ import annotations

import ssl
from dataclasses import dataclass

from node.frames import DEFAULT_MAX_FRAME

READ_SIZE = 256 * 1024
"""Bytes asked of a socket per read (and the stream reader's buffer limit)."""


@dataclass(frozen=True)
class LinkSettings:
    """Tunables of the link (cluster.yaml's ``link`` section)."""

    heartbeat_s: float = 0.5
    down_after_s: float = 2.5
    max_frame: int = DEFAULT_MAX_FRAME
    server_tls: ssl.SSLContext | None = None
    client_tls: ssl.SSLContext | None = None
