"""Mutated and truncated MP3 and ADTS files (one reader core, two frame formats) give a
FormatError naming the file (and the format once detected) or packets; never another
exception or a hang (the time-out ends one)."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from demux_check import assert_clean_or_format_error
from oracle import make
from pywebcodecs.errors import FormatError
from pywebcodecs.formats import open_demuxer
from pywebcodecs.reader import Reader
from pywebcodecs.source import BytesSource

SINE = ["-f", "lavfi", "-i", "sine=duration=0.5"]
INPUTS = {
    "fuzz.mp3": make("mp3-fuzz.mp3", *SINE, "-metadata", "title=x", "-c:a", "libmp3lame"),
    "fuzz.aac": make("adts-fuzz.aac", *SINE, "-c:a", "aac"),
}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
async def test_mutated_files_give_format_errors_or_packets(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(INPUTS)))
    original = bytearray(INPUTS[name].read_bytes())
    for _ in range(data.draw(st.integers(0, 8))):
        at = data.draw(st.integers(0, len(original) - 1))
        original[at] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(original)))
    await assert_clean_or_format_error(BytesSource(original[:cut], name=name))


@pytest.mark.parametrize("filler", [b"\xff", b"\xff\xfb", b"\xff\xf1"])
async def test_a_megabyte_of_sync_like_junk_is_refused_quickly(filler: bytes) -> None:
    data = b"ID3\x04\x00\x00\x00\x00\x00\x00" + filler * (2 << 20)
    started = time.perf_counter()
    with pytest.raises(FormatError, match="no MPEG audio frame found in the first"):
        await open_demuxer(await Reader.open(BytesSource(data, name="junk.mp3")))
    assert time.perf_counter() - started < 10
