"""The MP4/MOV reader against ffprobe, packet by packet, on the fixtures and on files
ffmpeg makes for each variant the reader handles."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from demux_check import assert_packets_match_ffprobe, demux
from oracle import FIXTURES, ffprobe_json, make
from pywebcodecs.errors import FormatError
from pywebcodecs.source import BytesSource

VIDEO = ["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25:duration=2"]
AUDIO = ["-f", "lavfi", "-i", "sine=duration=2:sample_rate=44100"]

VARIANTS = {
    "bframes.mp4": [*VIDEO, *AUDIO, "-c:v", "libx264", "-bf", "2", "-c:a", "aac"],
    "fragmented.mp4": [*VIDEO, *AUDIO, "-c:v", "libx264", "-g", "10", "-c:a", "aac",
                       "-movflags", "frag_keyframe+empty_moov"],
    "fragmented-base-moof.mp4": [*VIDEO, *AUDIO, "-c:v", "libx264", "-g", "10", "-c:a", "aac",
                                 "-movflags", "frag_keyframe+empty_moov+default_base_moof"],
    "quicktime.mov": [*VIDEO, *AUDIO, "-c:v", "libx264", "-c:a", "aac"],
    "odd-size.mp4": ["-f", "lavfi", "-i", "testsrc2=size=162x122:rate=30:duration=1",
                     "-c:v", "libx264"],
    "two-audio.mp4": [*VIDEO, *AUDIO, "-f", "lavfi", "-i", "sine=duration=2:frequency=800",
                      "-map", "0", "-map", "1", "-map", "2", "-c:v", "libx264", "-c:a", "aac"],
    "hevc.mp4": [*VIDEO, "-c:v", "libx265", "-x265-params", "log-level=error", "-tag:v", "hvc1"],
    "vp9.mp4": [*VIDEO, "-c:v", "libvpx-vp9"],
    "av1.mp4": ["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25:duration=1",
                "-c:v", "libaom-av1", "-cpu-used", "8"],
    "opus.mp4": [*AUDIO, "-c:a", "libopus"],
    "flac.mp4": [*AUDIO, "-c:a", "flac", "-strict", "-2"],
    "mp3.mp4": [*AUDIO, "-c:a", "libmp3lame"],
    "ac3.mp4": [*AUDIO, "-c:a", "ac3"],
    "pcm.mov": [*AUDIO, "-c:a", "pcm_s16le"],
    "mono-8k.m4a": ["-f", "lavfi", "-i", "sine=duration=1:sample_rate=8000", "-c:a", "aac"],
    "surround-96k.mp4": ["-f", "lavfi", "-i", "sine=duration=1:sample_rate=96000", "-af",
                         "pan=5.1|c0=c0|c1=c0|c2=c0|c3=c0|c4=c0|c5=c0", "-c:a", "aac"],
}  # fmt: skip


@pytest.mark.parametrize("name", ["video.mp4", "edts.mp4"])
async def test_fixtures_match_ffprobe(name: str) -> None:
    await assert_packets_match_ffprobe(FIXTURES / name)


@pytest.mark.parametrize("name", sorted(VARIANTS))
async def test_generated_variants_match_ffprobe(name: str) -> None:
    path = make(f"isobmff-{name}", *VARIANTS[name])
    await assert_packets_match_ffprobe(path, check_channels=name != "mp3.mp4")


async def test_aac_priming_from_the_edit_list_starts_audio_before_zero() -> None:
    demuxer, packets = await demux(make("isobmff-bframes.mp4", *VARIANTS["bframes.mp4"]))
    audio = next(t for t in demuxer.tracks if t.kind == "audio")
    first = next(p for p in packets if p.track_id == audio.id)
    assert first.pts == -1024
    video = next(t for t in demuxer.tracks if t.kind == "video")
    assert min(p.pts for p in packets if p.track_id == video.id) == 0
    assert min(p.dts for p in packets if p.track_id == video.id) < 0


def rotated(path: Path, out: Path) -> Path:
    """A copy with the video tkhd matrix set to a 90° clockwise display rotation."""
    data = bytearray(path.read_bytes())
    at = data.index(b"tkhd")
    matrix = at + 4 + 4 + (32 if data[at + 4] == 1 else 20) + 16
    struct.pack_into(">9i", data, matrix, 0, 65536, 0, -65536, 0, 0, 0, 0, 1 << 30)
    out.write_bytes(data)
    return out


async def test_rotation_comes_from_the_track_matrix(tmp_path: Path) -> None:
    path = rotated(make("isobmff-bframes.mp4", *VARIANTS["bframes.mp4"]), tmp_path / "r.mp4")
    side_data = ffprobe_json(path, "-show_streams")["streams"][0]["side_data_list"][0]
    assert side_data["rotation"] == -90  # ffprobe counts counter-clockwise
    demuxer, _ = await demux(path)
    assert demuxer.tracks[0].rotation == 90


async def test_header_parsing_reads_no_media_data() -> None:
    path = make("isobmff-quicktime.mov", *VARIANTS["quicktime.mov"])
    demuxer, _ = await demux(path, window=4096)
    assert demuxer.container == "mov"
    assert demuxer.tracks[0].packet_count == 50 and demuxer.tracks[0].keyframe_count >= 1


async def test_cut_off_mdat_yields_the_complete_packets_with_a_warning(tmp_path: Path) -> None:
    source = make("isobmff-fastart.mp4", *VIDEO, "-c:v", "libx264", "-movflags", "+faststart")
    data = source.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) * 2 // 3])
    with pytest.warns(UserWarning, match="cut off"):
        demuxer, packets = await demux(cut)
    assert 0 < len(packets) < demuxer.tracks[0].packet_count
    assert demuxer.warnings


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"\x00\x00\x00\x08ftyp", "no moov box"),
        (b"\x00\x00\x00\x04ftyp", "less than its own header"),
        (b"\x00\x00\x00\x10ftypisom\x00\x00\x00\x00\x7f\xff\xff\xffmoov", "past the end"),
        (b"\x00\x00\x00\x01moov\x7f\xff\xff\xff\xff\xff\xff\xff", "past the end"),
    ],
)
async def test_broken_files_give_specific_errors(data: bytes, message: str) -> None:
    from pywebcodecs.formats import open_demuxer
    from pywebcodecs.reader import Reader

    with pytest.raises(FormatError, match=message):
        await open_demuxer(await Reader.open(BytesSource(data, name="bad.mp4")))


async def test_deep_nesting_is_refused() -> None:
    from pywebcodecs.formats import open_demuxer
    from pywebcodecs.reader import Reader

    depth = 10_000
    body = b""
    for _ in range(depth):
        body = struct.pack(">I4s", len(body) + 8, b"trak") + body
    moov = struct.pack(">I4s", len(body) + 8, b"moov") + body
    mvhd = struct.pack(">I4s", 108, b"mvhd") + bytes(4) + struct.pack(">IIII", 0, 0, 1000, 0)
    mvhd += bytes(108 - len(mvhd))
    moov = struct.pack(">I4s", len(body) + 8 + 108, b"moov") + mvhd + body
    with pytest.raises(FormatError):
        await open_demuxer(await Reader.open(BytesSource(moov, name="deep.mp4")))


FUZZ_INPUT = make("isobmff-fuzz.mp4", "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10:duration=2",
                  "-f", "lavfi", "-i", "sine=duration=2", "-c:v", "libx264", "-bf", "2",
                  "-c:a", "aac", "-movflags", "+faststart")  # fmt: skip


FUZZ_INPUT = make("isobmff-fuzz.mp4", "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10:duration=2",
                  "-f", "lavfi", "-i", "sine=duration=2", "-c:v", "libx264", "-bf", "2",
                  "-c:a", "aac", "-movflags", "+faststart")  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
async def test_mutated_files_give_format_errors_or_packets(data: st.DataObject) -> None:
    from pywebcodecs.formats import open_demuxer
    from pywebcodecs.reader import Reader

    original = bytearray(FUZZ_INPUT.read_bytes())
    for _ in range(data.draw(st.integers(0, 8))):
        # Most flips land in the moov box at the front, where the parsing happens.
        at = data.draw(st.integers(0, min(len(original) - 1, 6000)))
        original[at] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(original)))
    try:
        reader = await Reader.open(BytesSource(bytes(original[:cut]), name="fuzz.mp4"))
        demuxer = await open_demuxer(reader)
        async for _packet in demuxer.packets():
            pass
    except FormatError:
        pass
