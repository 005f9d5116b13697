"""MatroskaDemuxer on damaged input: only a FormatError naming the file and the format (or a
clean result) ever comes out, in bounded time (the time-out ends a hang), whatever the
bytes say."""

from __future__ import annotations

import time
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from demux_check import assert_clean_or_format_error
from oracle import make
from pywebcodecs.errors import FormatError
from pywebcodecs.matroska import ids
from pywebcodecs.matroska.demuxer import MatroskaDemuxer
from pywebcodecs.matroska.ebml import encode_id, master, uint_element
from pywebcodecs.reader import Reader
from pywebcodecs.source import BytesSource
from test_matroska_handbuilt import (
    AC3,
    ac3_track,
    ebml_header,
    laced_ac3,
    matroska_file,
    simple_block,
    with_unknown_size_clusters,
)
from test_matroska_muxer import pyav_media

SMALL = make(
    "fuzz_seed.webm",
    "-f",
    "lavfi",
    "-i",
    "testsrc=size=64x48:rate=10:duration=0.5",
    "-f",
    "lavfi",
    "-i",
    "sine=duration=0.5",
    "-c:v",
    "libvpx",
    "-c:a",
    "libopus",
).read_bytes()


#: The same small WebM re-cut as a MediaRecorder would write it, and AC-3 in EBML lacing.
RECORDED = with_unknown_size_clusters(
    make(
        "fuzz_live.webm", "-i", str(make("fuzz_seed.webm")), "-c", "copy", "-live", "1"
    ).read_bytes()
)
LACED = laced_ac3(pyav_media(AC3)[1], "ebml", 5)
SEEDS = {"small": SMALL, "recorded": RECORDED, "laced": LACED}


async def read_all(data: bytes) -> int:
    """Open and demux ``data``; the packet count, or a FormatError."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        demuxer = MatroskaDemuxer(await Reader.open(BytesSource(data, "fuzz.webm")))
        await demuxer.open()
        return len([packet async for packet in demuxer.packets()])


async def read_or_format_error(data: bytes) -> None:
    await assert_clean_or_format_error(BytesSource(data, "fuzz.webm"), MatroskaDemuxer)


#: 400 examples, bounded as a whole by the time-out (per-example deadlines flake under load).
FUZZ = settings(
    max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FUZZ
@given(st.sampled_from(sorted(SEEDS)), st.floats(0, 1))
async def test_truncation_anywhere_is_clean_or_a_format_error(seed: str, where: float) -> None:
    data = SEEDS[seed]
    await read_or_format_error(data[: int(len(data) * where)])


@FUZZ
@given(st.sampled_from(sorted(SEEDS)), st.data())
async def test_byte_flips_are_clean_or_a_format_error(seed: str, data: st.DataObject) -> None:
    damaged = bytearray(SEEDS[seed])
    flips = data.draw(
        st.lists(
            st.tuples(
                # Half the flips land in the first 700 bytes, where the headers are.
                st.integers(0, 700) | st.integers(0, len(damaged) - 1),
                st.integers(0, 255),
            ),
            min_size=1,
            max_size=8,
        )
    )
    for pos, value in flips:
        damaged[pos] = value
    await read_or_format_error(bytes(damaged))


SIZE_FIELDS = [b"\x01\xff\xff\xff\xff\xff\xff\xff", b"\x01\xff\xff\xff\xff\xff\xff\xfe"]


@FUZZ
@given(st.integers(0, 700) | st.integers(0, len(SMALL) - 8), st.sampled_from(SIZE_FIELDS))
async def test_huge_sizes_are_clean_or_a_format_error(pos: int, size: bytes) -> None:
    """2^56 - 1 ("unknown") and 2^56 - 2 written over any eight bytes."""
    await read_or_format_error(SMALL[:pos] + size + SMALL[pos + 8 :])


@pytest.mark.parametrize("data", [b"", b"\x1a\x45\xdf\xa3", b"\x1a\x45\xdf\xa3\x80", b"\0" * 64])
async def test_empty_and_tiny_inputs_are_a_format_error(data: bytes) -> None:
    with pytest.raises(FormatError):
        await read_all(data)


async def test_ten_thousand_nested_master_elements_take_bounded_time() -> None:
    nested = b""
    for _ in range(10_000):
        nested = master(ids.TRACK_ENTRY, nested)
    deep = ebml_header() + master(ids.SEGMENT, master(ids.TRACKS, nested))
    unknown_clusters = encode_id(ids.CLUSTER) + b"\xff"
    clusters = matroska_file(ac3_track(), []) + unknown_clusters * 10_000
    started = time.monotonic()
    await read_or_format_error(deep)
    assert await read_all(clusters) == 0
    assert time.monotonic() - started < 5


async def test_a_block_of_an_undeclared_track_is_skipped() -> None:
    cluster = master(ids.CLUSTER, uint_element(ids.TIMESTAMP, 0), simple_block(0, [b"x"]))
    other = cluster.replace(b"\x81\x00\x00\x80x", b"\x85\x00\x00\x80x")
    assert await read_all(matroska_file(ac3_track(), [cluster, other])) == 1
