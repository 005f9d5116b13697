"""The ADTS reader against ffprobe, packet by packet. ffprobe's packets are whole ADTS
frames; ours are the raw AAC frames WebCodecs decodes with an AudioSpecificConfig, so each
of our sizes plus its header (7 bytes, 9 with CRC) must equal ffprobe's."""

from __future__ import annotations

from pathlib import Path

import pytest

from demux_check import demux
from oracle import FIXTURES, decode_errors, ffprobe_format, ffprobe_packets, ffprobe_streams, make
from pywebcodecs import convert_media
from pywebcodecs.codec_data import parse_audio_specific_config
from pywebcodecs.errors import FormatError
from pywebcodecs.formats import open_demuxer
from pywebcodecs.reader import Reader
from pywebcodecs.sink import FileSink
from pywebcodecs.source import BytesSource

SINE = ["-f", "lavfi", "-i", "sine=duration=1.5:sample_rate=44100"]

VARIANTS = {
    "stereo.aac": [*SINE, "-ac", "2", "-c:a", "aac"],
    "mono-8k.aac": [*SINE, "-ar", "8000", "-c:a", "aac"],
    "surround-48k.aac": [*SINE, "-ar", "48000", "-af",
                         "pan=5.1|c0=c0|c1=c0|c2=c0|c3=c0|c4=c0|c5=c0", "-c:a", "aac"],
    "ltp.aac": [*SINE, "-c:a", "aac", "-profile:a", "aac_ltp", "-strict", "-2"],
    "id3.aac": [*SINE, "-c:a", "aac", "-write_id3v2", "1", "-metadata", "title=Tïtle"],
}  # fmt: skip


def frame_lengths(data: bytes) -> list[int]:
    lengths, pos = [], data.find(b"\xff\xf1")
    while pos + 7 <= len(data):
        lengths.append((data[pos + 3] & 3) << 11 | data[pos + 4] << 3 | data[pos + 5] >> 5)
        pos += lengths[-1]
    return lengths


def with_crc(data: bytes) -> bytes:
    """Every frame rewritten with protection_absent = 0 and a (dummy) CRC word."""
    out = bytearray()
    pos = 0
    for length in frame_lengths(data):
        header = bytearray(data[pos : pos + 7])
        header[1] &= 0xFE
        new_length = length + 2
        header[3] = header[3] & 0xFC | new_length >> 11
        header[4] = new_length >> 3 & 0xFF
        header[5] = header[5] & 0x1F | (new_length & 7) << 5
        out += header + b"\x12\x34" + data[pos + 7 : pos + length]
        pos += length
    return bytes(out)


async def assert_matches_ffprobe(path: Path, header_size: int = 7) -> None:
    demuxer, packets = await demux(path)
    ours = [(p.pts, p.dts, len(p.data) + header_size, p.is_key) for p in packets]
    assert ours == [(p.pts, p.dts, p.size, p.is_key) for p in ffprobe_packets(path)]
    stream = ffprobe_streams(path)[0]
    track = demuxer.tracks[0]
    assert (track.codec, f"1/{track.timescale}") == (stream["codec_name"], stream["time_base"])
    assert (track.sample_rate, track.channels) == (int(stream["sample_rate"]), stream["channels"])
    assert track.description is not None
    object_type = int(track.codec_string.removeprefix("mp4a.40."))
    config = (object_type, track.sample_rate, track.channels)
    assert parse_audio_specific_config(track.description) == config
    assert demuxer.format_name == "adts" and demuxer.container == "aac"


@pytest.mark.parametrize("name", sorted(VARIANTS))
async def test_generated_variants_match_ffprobe(name: str) -> None:
    await assert_matches_ffprobe(make(f"adts-{name}", *VARIANTS[name]))


async def test_fixture_matches_ffprobe_and_its_duration_is_estimated_closely() -> None:
    path = FIXTURES / "sample3.aac"
    await assert_matches_ffprobe(path)
    demuxer, _ = await demux(path, window=64 << 10)
    assert demuxer.tracks[0].codec_string == "mp4a.40.2"
    assert demuxer.tracks[0].description == bytes.fromhex("1210")
    assert demuxer.duration == pytest.approx(float(ffprobe_format(path)["duration"]), rel=0.02)


async def test_aac_ltp_gets_its_object_type() -> None:
    demuxer, _ = await demux(make("adts-ltp.aac", *VARIANTS["ltp.aac"]))
    assert demuxer.tracks[0].codec_string == "mp4a.40.4"


async def test_frames_with_crc_lose_nine_header_bytes(tmp_path: Path) -> None:
    path = tmp_path / "crc.aac"
    path.write_bytes(with_crc(make("adts-stereo.aac", *VARIANTS["stereo.aac"]).read_bytes()))
    await assert_matches_ffprobe(path, header_size=9)


async def test_id3v2_tag_before_the_frames_gives_tags() -> None:
    demuxer, _ = await demux(make("adts-id3.aac", *VARIANTS["id3.aac"]))
    assert demuxer.tags["title"] == "Tïtle"


async def test_junk_between_frames_is_skipped(tmp_path: Path) -> None:
    # ffprobe loses the frame boundaries after junk (it merges frames and drops the rest),
    # so here the reference is the frame list of the clean file.
    data = make("adts-stereo.aac", *VARIANTS["stereo.aac"]).read_bytes()
    lengths = frame_lengths(data)
    at = sum(lengths[:5])
    path = tmp_path / "junk.aac"
    path.write_bytes(data[:at] + b"\x00junk\xff\xf1garbage" * 3 + data[at:])
    _, packets = await demux(path)
    assert [len(p.data) + 7 for p in packets] == lengths


async def test_cut_off_last_frame_is_dropped_with_a_warning(tmp_path: Path) -> None:
    # ffprobe delivers the partial last frame as a packet; we keep only whole frames.
    path = tmp_path / "cut.aac"
    path.write_bytes(make("adts-stereo.aac", *VARIANTS["stereo.aac"]).read_bytes()[:-50])
    with pytest.warns(UserWarning, match="cut off"):
        _, packets = await demux(path)
    theirs = ffprobe_packets(path)[:-1]
    assert [(p.pts, len(p.data) + 7) for p in packets] == [(p.pts, p.size) for p in theirs]


async def open_bytes(data: bytes, name: str = "test.aac") -> list:
    demuxer = await open_demuxer(await Reader.open(BytesSource(data, name=name)))
    return [p async for p in demuxer.packets()]


async def test_a_header_alone_is_not_taken_for_adts() -> None:
    with pytest.raises(FormatError, match="not a media file"):
        await open_bytes(b"\xff\xf1\x50\x80\x02\x1f\xfc" + b"\x00" * 100, "bad.aac")


async def test_the_fixture_copies_into_mp4_and_decodes_cleanly(tmp_path: Path) -> None:
    # MP4 stores the raw frames ADTS wraps, so their packet sizes lose the 7-byte header.
    source = FIXTURES / "sample3.aac"
    out = tmp_path / "copy.mp4"
    sink = FileSink(out)
    try:
        await convert_media(str(source), "mp4", sink=sink)
    finally:
        sink.close()
    theirs = ffprobe_packets(source)
    assert [p.size for p in ffprobe_packets(out)] == [p.size - 7 for p in theirs]
    assert decode_errors(out) == ""
