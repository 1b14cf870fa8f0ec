"""The frame decoder and wire messages: round trips, and bad bytes that never break a node."""

from __future__ import annotations

import struct

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from node import wire
from node.frames import FrameDecoder, FrameError, encode

plain = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.text() | st.binary(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
frame_values = st.lists(plain, min_size=1, max_size=5)


@wire.message("test_asset_changed", version=2)
class AssetChanged:
    asset_id: str
    version: int
    note: str = ""


@given(st.lists(frame_values, min_size=1, max_size=8), st.data())
def test_frames_survive_any_split_of_the_stream(values: list, data: st.DataObject) -> None:
    stream = b"".join(encode(value) for value in values)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=6)))
    decoder = FrameDecoder()
    received = []
    for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        received += decoder.feed(stream[start:end])
    assert received == values
    assert decoder.pending == 0


@given(st.binary(max_size=2048))
def test_random_bytes_either_decode_or_raise_frame_error(junk: bytes) -> None:
    decoder = FrameDecoder(max_frame=1024)
    try:
        for frame in decoder.feed(junk):
            assert isinstance(frame, list)
    except FrameError:
        pass


@given(st.binary(min_size=1, max_size=64))
def test_a_malformed_payload_is_a_frame_error(payload: bytes) -> None:
    try:
        value = msgpack.unpackb(payload, raw=False, strict_map_key=False)
        valid = isinstance(value, list) and bool(value)
    except Exception:
        valid = False
    decoder = FrameDecoder()
    stream = struct.pack(">I", len(payload)) + payload
    if valid:
        assert decoder.feed(stream) == [value]
    else:
        with pytest.raises(FrameError):
            decoder.feed(stream)


def test_an_oversized_frame_is_refused_from_its_header_alone() -> None:
    decoder = FrameDecoder(max_frame=1024)
    with pytest.raises(FrameError, match="exceeds the limit"):
        decoder.feed(struct.pack(">I", 1025))


def test_a_truncated_frame_waits_for_the_rest() -> None:
    frame = encode(["tell", "root/x", [None, 0, "hello"]])
    decoder = FrameDecoder()
    assert decoder.feed(frame[:-3]) == []
    assert decoder.feed(frame[-3:]) == [["tell", "root/x", [None, 0, "hello"]]]


def test_messages_round_trip_and_tolerate_unknown_fields() -> None:
    sent = AssetChanged("a1", 3)
    assert wire.to_wire(sent) == [
        "test_asset_changed",
        2,
        {"asset_id": "a1", "version": 3, "note": ""},
    ]
    assert wire.from_wire(wire.to_wire(sent)) == sent
    newer = ["test_asset_changed", 3, {"asset_id": "a1", "version": 3, "colour": "red"}]
    assert wire.from_wire(newer) == sent
    assert wire.from_wire(wire.to_wire({"plain": [1, 2]})) == {"plain": [1, 2]}


@pytest.mark.parametrize(
    "bad",
    [
        "nope",
        ["test_asset_changed", 1],
        ["no_such_type", 1, {}],
        ["test_asset_changed", 1, ["not", "a", "map"]],
        ["test_asset_changed", 1, {"asset_id": "a1"}],
        [42, 1, {}],
    ],
)
def test_malformed_messages_are_wire_errors(bad: object) -> None:
    with pytest.raises(wire.WireError):
        wire.from_wire(bad)
