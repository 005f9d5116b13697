"""Damaged playlists and segments give a FormatError naming the playlist and the format, or a
clean result; never another exception or a hang (the time-out ends one). And the source
that joins segments reads exactly like their concatenation."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from demux_check import assert_clean_or_format_error
from oracle import make
from pywebcodecs.hls.demuxer import HlsDemuxer
from pywebcodecs.hls.splice import Part, SpliceSource
from pywebcodecs.source import BytesSource

SEGMENT = make(
    "hls-fuzz-segment.ts",
    "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10:duration=1",
    "-f", "lavfi", "-i", "sine=duration=1:sample_rate=48000",
    "-c:v", "libx264", "-g", "5", "-c:a", "aac",
).read_bytes()  # fmt: skip
PLAYLIST = (
    "#EXTM3U\n#EXT-X-VERSION:4\n#EXT-X-TARGETDURATION:1\n"
    "#EXTINF:0.5,\n#EXT-X-BYTERANGE:6016@0\nseg.ts\n"
    "#EXTINF:0.5,\nseg.ts\n#EXT-X-ENDLIST\n"
)


class MemoryFolder(BytesSource):
    """Bytes with named neighbours: a folder held in memory."""

    def __init__(self, files: dict[str, bytes], name: str) -> None:
        super().__init__(files.get(name, b""), name)
        self.files = files

    def open_relative(self, reference: str) -> MemoryFolder:
        if reference not in self.files:
            raise FileNotFoundError(reference)
        return MemoryFolder(self.files, reference)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    playlist_edits=st.lists(st.tuples(st.integers(0, len(PLAYLIST) - 1), st.characters()),
                            max_size=4),
    segment_cut=st.integers(0, len(SEGMENT)),
    segment_edits=st.lists(st.tuples(st.integers(0, 3000), st.integers(0, 255)), max_size=6),
)  # fmt: skip
async def test_damaged_presentations_fail_only_with_format_errors(
    playlist_edits: list[tuple[int, str]],
    segment_cut: int,
    segment_edits: list[tuple[int, int]],
) -> None:
    playlist = list(PLAYLIST)
    for position, character in playlist_edits:
        playlist[position] = character
    segment = bytearray(SEGMENT[:segment_cut])
    for position, value in segment_edits:
        if position < len(segment):
            segment[position] = value
    files = {"index.m3u8": "".join(playlist).encode("utf-8", "replace"), "seg.ts": bytes(segment)}
    await assert_clean_or_format_error(MemoryFolder(files, "index.m3u8"), HlsDemuxer)


@settings(max_examples=200, deadline=None)
@given(
    pieces=st.lists(st.binary(max_size=40), min_size=1, max_size=6),
    ranged=st.lists(st.booleans(), min_size=6, max_size=6),
    reads=st.lists(st.tuples(st.integers(0, 260), st.integers(0, 120)), max_size=8),
)
def test_joined_parts_read_like_their_concatenation(
    pieces: list[bytes], ranged: list[bool], reads: list[tuple[int, int]]
) -> None:
    parts = [
        Part(lambda piece=piece: BytesSource(b"xx" + piece), 2, len(piece) if known else None)
        for piece, known in zip(pieces, ranged, strict=False)
    ]
    joined = SpliceSource(parts, "joined")
    whole = b"".join(pieces)

    async def check() -> None:
        for offset, size in reads:
            assert await joined.read(offset, size) == whole[offset : offset + size]
        assert await joined.size() == (len(whole) if all(ranged[: len(pieces)]) else None)

    asyncio.run(check())
