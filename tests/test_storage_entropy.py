"""System random bytes handed out a block at a time (storage.entropy)."""

from __future__ import annotations

import os
from collections import Counter

from storage import entropy


def test_bytes_are_never_handed_out_twice_across_blocks() -> None:
    count = 7  # does not divide the block: some draws straddle a refill
    drawn = [entropy.token_bytes(count) for _ in range(3 * entropy.BLOCK_SIZE // count)]
    assert all(len(token) == count for token in drawn)
    assert len(set(drawn)) == len(drawn)
    assert len(entropy.token_bytes(entropy.BLOCK_SIZE + 1)) == entropy.BLOCK_SIZE + 1


def test_every_byte_value_comes_up_evenly() -> None:
    counts = Counter(b"".join(entropy.token_bytes(64) for _ in range(4096)))  # 1,024 each
    assert len(counts) == 256
    assert min(counts.values()) > 800 and max(counts.values()) < 1250  # ~7 sigma either way


def test_a_forked_child_never_repeats_its_parents_bytes() -> None:
    entropy.token_bytes(1)  # the parent holds a block that is mostly unused
    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:  # the child: send what it draws next, and leave at once
        os.write(writing, entropy.token_bytes(32))
        os._exit(0)
    os.close(writing)
    childs = os.read(reading, 32)
    os.close(reading)
    os.waitpid(child, 0)
    assert len(childs) == 32
    assert childs != entropy.token_bytes(32)
