"""The token ranges a report's scan is split into: the ring's own ranges, each cut in equal
parts, so that every token of the ring is in exactly one range.

Murmur3 tokens run from ``MIN_TOKEN`` to ``MAX_TOKEN``; a range is ``(start, end]`` and is
scanned with ``token(pk) > start AND token(pk) <= end``. The ring's last range wraps around
(its start is above its end); it is cut at the top of the ring first. No key has the token
``MIN_TOKEN`` (Murmur3 gives such a key ``MAX_TOKEN``), so ``(MIN_TOKEN, end]`` misses none.

Example::

    >>> ring = [RingRange(MIN_TOKEN, 0, ("127.0.0.1",)), RingRange(0, MIN_TOKEN, ("127.0.0.2",))]
    >>> [(r.start // 2**62, r.end // 2**62, r.replicas[0]) for r in split(ring, 4)]
    [(-2, -1, '127.0.0.1'), (-1, 0, '127.0.0.1'), (0, 1, '127.0.0.2'), (1, 1, '127.0.0.2')]
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from storage.session import RingRange

MIN_TOKEN = -(2**63)
MAX_TOKEN = 2**63 - 1


@dataclass(frozen=True)
class TokenRange:
    """One range of a scan: tokens ``(start, end]`` (``start < end``) and the Cassandra
    nodes that hold it, the primary replica first."""

    start: int
    end: int
    replicas: tuple[str, ...]


def split(ring: list[RingRange], ranges: int) -> list[TokenRange]:
    """At least ``ranges`` ranges covering the ring once, in token order: each of the ring's
    ranges cut into parts of about equal width, each part keeping its ring range's replicas."""
    pieces: list[TokenRange] = []
    for part in ring:
        if part.start < part.end:
            pieces.append(TokenRange(part.start, part.end, part.replicas))
            continue
        if part.start < MAX_TOKEN:
            pieces.append(TokenRange(part.start, MAX_TOKEN, part.replicas))
        if part.end > MIN_TOKEN:
            pieces.append(TokenRange(MIN_TOKEN, part.end, part.replicas))
    if not pieces:
        return [TokenRange(MIN_TOKEN, MAX_TOKEN, ring[0].replicas if ring else ())]
    width = sum(piece.end - piece.start for piece in pieces)
    cut: list[TokenRange] = []
    for piece in pieces:
        parts = max(1, math.ceil(ranges * (piece.end - piece.start) / width))
        step = (piece.end - piece.start) / parts
        edges = [piece.start + round(step * i) for i in range(parts)] + [piece.end]
        cut.extend(
            TokenRange(low, high, piece.replicas)
            for low, high in itertools.pairwise(edges)
            if high > low
        )
    return sorted(cut, key=lambda token_range: token_range.start)
