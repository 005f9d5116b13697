"""Damaged transport streams give a FormatError or a clean (possibly shorter) packet list,
never a crash or a hang."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from demux_check import assert_clean_or_format_error
from oracle import make
from pywebcodecs.mpegts.demuxer import MpegTsDemuxer
from pywebcodecs.source import BytesSource
from test_mpegts_check import damaged_copies
from test_mpegts_remux import split_pictures

SAMPLE = make(
    "mpegts-fuzz.ts",
    "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10:duration=1",
    "-f", "lavfi", "-i", "sine=duration=1:sample_rate=8000",
    "-c:v", "libx264", "-g", "5", "-c:a", "aac",
).read_bytes()  # fmt: skip

#: Mostly the tables and the first PES headers (the first 12 packets), where a broken byte
#: changes the most.
POSITIONS = st.one_of(st.integers(0, 12 * 188), st.integers(0, len(SAMPLE) - 1))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=damaged_copies(SAMPLE, POSITIONS))
async def test_damaged_streams_fail_only_with_format_errors(data: bytes) -> None:
    await assert_clean_or_format_error(BytesSource(data, "fuzz.ts"), MpegTsDemuxer)


#: H.264 with B-frames, no delimiters and every picture split over two PES, beside AC-3
#: and DTS: the access unit cutter and the AC-3/DTS frame readers get the damage.
BROADCAST = split_pictures(make(
    "mpegts-fuzz-broadcast.ts",
    "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10:duration=1",
    "-f", "lavfi", "-i", "sine=duration=1:sample_rate=48000",
    "-map", "0", "-map", "1", "-map", "1", "-c:v", "libx264", "-bf", "2", "-g", "5",
    "-c:a:0", "ac3", "-c:a:1", "dca", "-strict", "-2", "-ac:a:1", "2",
).read_bytes())  # fmt: skip


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=damaged_copies(BROADCAST, st.integers(0, len(BROADCAST) - 1)))
async def test_damaged_broadcast_streams_fail_only_with_format_errors(data: bytes) -> None:
    await assert_clean_or_format_error(BytesSource(data, "fuzz.ts"), MpegTsDemuxer)
