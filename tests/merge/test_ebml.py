"""EBML primitives: variable-length integers and elements, read back as written."""
from __future__ import annotations

import io

import pytest

from syncdub_companion.merge import ebml as E


@pytest.mark.parametrize("value", [0, 1, 126, 127, 16382, 16383, 2**21, 2**35 + 5, 2**56 - 2])
def test_sizes_round_trip_in_the_shortest_form(value):
    encoded = E.encode_size(value)
    assert E.read_vint(encoded, 0) == (value, len(encoded))
    shorter = len(encoded) - 1
    if shorter:
        with pytest.raises(E.EbmlError):
            E.encode_size(value, width=shorter)


def test_all_ones_is_an_unknown_size_and_never_written_for_a_real_one():
    assert E.read_vint(b"\xff", 0) == (E.UNKNOWN_SIZE, 1)
    assert E.read_vint(b"\x01\xff\xff\xff\xff\xff\xff\xff", 0) == (E.UNKNOWN_SIZE, 8)
    assert E.encode_size(127) == b"\x40\x7f"  # 0xff would read back as unknown


def test_fixed_width_sizes_can_be_patched_in_place():
    assert E.encode_size(5, width=8) == b"\x01" + bytes(6) + b"\x05"
    assert E.read_vint(E.encode_size(5, width=8), 0) == (5, 8)


def test_ids_keep_their_marker_bits():
    for element_id in (E.EBML_HEADER, E.SEGMENT, E.CLUSTER, E.TIMESTAMP, E.TRACK_UID):
        encoded = E.encode_id(element_id)
        assert E.read_vint(encoded, 0, keep_marker=True) == (element_id, len(encoded))


def test_masters_nest_and_drop_stale_crcs():
    payload = E.uint(E.TRACK_NUMBER, 3) + E.element(E.CRC32, b"\0\0\0\0") + E.string(E.NAME, "Deutsch")
    track = E.master(E.TRACK_ENTRY, E.children(payload))
    (kind, body), = E.children(track)
    assert kind == E.TRACK_ENTRY
    assert E.children(body) == [(E.TRACK_NUMBER, b"\x03"), (E.NAME, "Deutsch".encode())]


def test_headers_in_a_file_and_children_that_overrun_are_errors():
    inner = E.uint(E.TIMESTAMP, 1000) + E.element(E.SIMPLE_BLOCK, b"x" * 300)
    data = E.element(E.CLUSTER, inner)
    fh = io.BytesIO(data)
    cluster = E.header_at(fh, 0)
    assert (cluster.id, cluster.size, cluster.end) == (E.CLUSTER, len(inner), len(data))
    kids = list(E.children_in_file(fh, cluster, len(data)))
    assert [k.id for k in kids] == [E.TIMESTAMP, E.SIMPLE_BLOCK] and kids[1].end == len(data)
    with pytest.raises(E.EbmlError, match="runs past"):
        list(E.children_in_file(io.BytesIO(data[:-10]), cluster, len(data) - 10))  # a cut-off file
    with pytest.raises(E.EbmlError):
        E.children(inner[:-1])
    with pytest.raises(E.EbmlError):
        E.read_vint(b"\x00\x01", 0)
