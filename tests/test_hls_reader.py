"""The HLS reader against ffprobe on the same playlist, on presentations ffmpeg's HLS
muxer writes: MPEG-TS segments, fMP4 segments, one file with byte ranges, and a master
playlist with two variants."""

from __future__ import annotations

from pathlib import Path

import pytest

from oracle import ffmpeg
from pywebcodecs.errors import FormatError
from pywebcodecs.hls.demuxer import HlsDemuxer
from pywebcodecs.reader import Reader
from pywebcodecs.source import BytesSource, FileSource
from test_mpegts_check import assert_matches_ffprobe, demux

VIDEO = ["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25:duration=3"]
#: 48 kHz so that ADTS frames last a whole number of 90 kHz ticks (see HlsDemuxer's note).
AUDIO = ["-f", "lavfi", "-i", "sine=duration=3:sample_rate=48000"]
HLS = ["-f", "hls", "-hls_time", "1", "-hls_list_size", "0"]

PRESENTATIONS = {
    "ts/index.m3u8": [*VIDEO, *AUDIO, "-c:v", "libx264", "-g", "25", "-c:a", "aac", *HLS],
    "fmp4/index.m3u8": [*VIDEO, *AUDIO, "-c:v", "libx264", "-g", "25", "-c:a", "aac", *HLS,
                        "-hls_segment_type", "fmp4"],
    "single/index.m3u8": [*VIDEO, "-c:v", "libx264", "-g", "25", *HLS,
                          "-hls_flags", "single_file"],
    "master/out_%v.m3u8": [*VIDEO, *AUDIO, "-map", "0:v", "-map", "1:a", "-map", "0:v",
                           "-map", "1:a", "-c:v", "libx264", "-g", "25", "-c:a", "aac",
                           "-s:v:1", "96x72", "-b:v:0", "400k", "-b:v:1", "100k", *HLS,
                           "-master_pl_name", "master.m3u8",
                           "-var_stream_map", "v:0,a:0 v:1,a:1"],
}  # fmt: skip


@pytest.fixture(scope="module")
def hls_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hls")
    for playlist, args in PRESENTATIONS.items():
        (root / playlist).parent.mkdir()
        ffmpeg(*args, root / playlist)
    return root


@pytest.mark.parametrize("playlist", ["ts/index.m3u8", "single/index.m3u8"])
async def test_ts_segments_match_ffprobe_on_the_playlist(hls_root: Path, playlist: str) -> None:
    demuxer, _ = await assert_matches_ffprobe(HlsDemuxer, hls_root / playlist)
    assert demuxer.duration == pytest.approx(3.0)
    assert demuxer.ended


async def test_fmp4_segments_match_ffprobe_on_the_playlist(hls_root: Path) -> None:
    demuxer, _ = await assert_matches_ffprobe(
        HlsDemuxer, hls_root / "fmp4/index.m3u8", annexb=False
    )
    assert demuxer.container == "hls (mp4)"
    assert [t.timescale for t in demuxer.tracks] == [12800, 48000]


async def test_master_playlist_reads_the_highest_bandwidth_variant(hls_root: Path) -> None:
    demuxer, packets = await demux(HlsDemuxer, FileSource(hls_root / "master/master.m3u8"))
    assert [v.uri for v in demuxer.variants] == ["out_0.m3u8", "out_1.m3u8"]
    assert demuxer.variants[0].resolution == (160, 120)
    assert demuxer.variants[1].codecs is not None
    assert (demuxer.tracks[0].width, demuxer.tracks[0].height) == (160, 120)
    variant, _ = await assert_matches_ffprobe(HlsDemuxer, hls_root / "master/out_0.m3u8")
    expected = [(p.pts, p.dts, len(p.data)) async for p in variant.packets()]
    assert [(p.pts, p.dts, len(p.data)) for p in packets] == expected


class RecordingSource(FileSource):
    """A file source that notes which neighbours it was asked to open."""

    def __init__(self, path: Path, opened: list[str]) -> None:
        super().__init__(path)
        self.opened = opened

    def open_relative(self, reference: str) -> RecordingSource:
        self.opened.append(reference)
        return RecordingSource(Path(self.path).parent / reference, self.opened)


async def test_open_reads_only_the_start_of_the_segments(hls_root: Path) -> None:
    opened: list[str] = []
    path = hls_root / "ts/index.m3u8"
    demuxer = HlsDemuxer(await Reader.open(RecordingSource(path, opened), window=16 * 1024))
    await demuxer.open()
    assert len(demuxer.tracks) == 2
    assert opened == ["index0.ts"]
    async for _ in demuxer.packets():
        pass
    assert opened == ["index0.ts", "index1.ts", "index2.ts"]


async def test_a_live_playlist_is_read_as_it_stands(hls_root: Path, tmp_path: Path) -> None:
    text = (hls_root / "ts/index.m3u8").read_text().replace("#EXT-X-ENDLIST\n", "")
    for segment in (hls_root / "ts").glob("*.ts"):
        (tmp_path / segment.name).write_bytes(segment.read_bytes())
    (tmp_path / "live.m3u8").write_text(text)
    live, packets = await demux(HlsDemuxer, FileSource(tmp_path / "live.m3u8"))
    _, complete = await demux(HlsDemuxer, FileSource(hls_root / "ts/index.m3u8"))
    assert not live.ended
    assert packets == complete


async def test_a_missing_segment_is_named(hls_root: Path, tmp_path: Path) -> None:
    (tmp_path / "index.m3u8").write_text((hls_root / "ts/index.m3u8").read_text())
    with pytest.raises(FormatError, match=r"cannot open 'index0\.ts' named by index\.m3u8"):
        await demux(HlsDemuxer, FileSource(tmp_path / "index.m3u8"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("#EXTM3U\n#EXT-X-ENDLIST\n", "lists no segment"),
        ("#EXTM3U\na.ts\n", r"line 2: segment 'a\.ts' has no #EXTINF"),
        ("#EXTM3U\n#EXTINF:x,\na.ts\n", "expected a duration"),
        ('#EXTM3U\n#EXT-X-KEY:METHOD=AES-128,URI="k"\n', "encrypted segments"),
        ("#EXTM3U\n#EXT-X-STREAM-INF:RESOLUTION=1x1\na.m3u8\n", "without a BANDWIDTH"),
        ("#EXTM3U\n#EXTINF:1,\n#EXT-X-BYTERANGE:12@x\na.ts\n", "expected a byte range"),
        # The fuzz found a NUL reaching the operating system's open(): refused at its line.
        (
            "#EXTM3U\n#EXTINF:1,\na\0.ts\n",
            r"bad\.m3u8: line 3: URI 'a\\x00\.ts' holds the character '\\x00'",
        ),
        ('#EXTM3U\n#EXT-X-MAP:URI="i\x1b.mp4"\n#EXTINF:1,\na.ts\n', r"line 2: URI 'i\\x1b"),
        (
            "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv\x7f.m3u8\n",
            r"master playlist line 3: URI 'v\\x7f\.m3u8'",
        ),
    ],
)
async def test_broken_playlists_raise_format_errors(
    tmp_path: Path, text: str, message: str
) -> None:
    (tmp_path / "bad.m3u8").write_text(text)
    with pytest.raises(FormatError, match=message):
        await demux(HlsDemuxer, FileSource(tmp_path / "bad.m3u8"))


async def test_a_source_that_cannot_open_neighbours_is_refused() -> None:
    with pytest.raises(FormatError, match="not a RelativeSource"):
        await demux(HlsDemuxer, BytesSource(b"#EXTM3U\n#EXTINF:1,\na.ts\n", "mem.m3u8"))
