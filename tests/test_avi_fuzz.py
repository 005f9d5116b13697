"""Damaged AVI files give a FormatError naming the file and the format, or a clean (possibly
shorter) packet list; never another exception or a hang (the time-out ends one)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from demux_check import assert_clean_or_format_error
from oracle import make
from pywebcodecs.avi.demuxer import AviDemuxer
from pywebcodecs.source import BytesSource
from test_mpegts_check import damaged_copies

SAMPLE = make(
    "avi-fuzz.avi",
    "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10:duration=1",
    "-f", "lavfi", "-i", "sine=duration=1:sample_rate=8000",
    "-c:v", "libx264", "-g", "5", "-c:a", "libmp3lame",
).read_bytes()  # fmt: skip


#: Mostly the headers and the first chunks, where a broken byte changes the most.
MOVI = SAMPLE.index(b"movi")
POSITIONS = st.one_of(
    st.integers(0, 600), st.integers(MOVI - 8, MOVI + 600), st.integers(0, len(SAMPLE) - 1)
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=damaged_copies(SAMPLE, POSITIONS))
async def test_damaged_files_fail_only_with_format_errors(data: bytes) -> None:
    await assert_clean_or_format_error(BytesSource(data, "fuzz.avi"), AviDemuxer)
