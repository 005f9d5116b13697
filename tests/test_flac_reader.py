"""The native FLAC reader against ffprobe, frame by frame: sample rates, channel counts,
bit depths, block sizes, tags, cover art, an ID3v2 prefix, truncated and broken files."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from demux_check import assert_clean_or_format_error, assert_packets_match_ffprobe, demux
from oracle import FIXTURES, decode_errors, ffprobe_packets, ffprobe_streams, make, stream_hashes
from pywebcodecs import convert_media
from pywebcodecs.crc import flac_crc8, flac_crc16
from pywebcodecs.demuxer import Demuxer
from pywebcodecs.errors import FormatError, TruncatedMediaWarning
from pywebcodecs.flac.demuxer import FlacDemuxer
from pywebcodecs.flac.frame_header import parse_frame_header
from pywebcodecs.formats import open_demuxer
from pywebcodecs.reader import Reader
from pywebcodecs.sink import FileSink
from pywebcodecs.source import BytesSource
from pywebcodecs.track import Packet


def sine(rate: int, seconds: float = 1) -> list[str]:
    return ["-f", "lavfi", "-i", f"sine=frequency=997:duration={seconds}:sample_rate={rate}"]


VARIANTS = {
    "mono-8k": [*sine(8000), "-c:a", "flac"],
    "stereo-44k": [*sine(44100), "-ac", "2", "-c:a", "flac"],
    "stereo-48k-s24": [*sine(48000), "-ac", "2", "-c:a", "flac", "-sample_fmt", "s32"],
    "mono-96k": [*sine(96000, 0.5), "-c:a", "flac"],
    "5.1-22k": [*sine(22050), "-ac", "6", "-c:a", "flac"],
    "frame-1152-level0": [*sine(32000), "-c:a", "flac", "-frame_size", "1152",
                          "-compression_level", "0"],
    "odd-rate-11025": [*sine(11025, 2), "-c:a", "flac", "-compression_level", "12"],
    "noise": ["-f", "lavfi", "-i", "anoisesrc=d=1:r=44100:a=0.9", "-c:a", "flac"],
}  # fmt: skip


def variant(name: str) -> Path:
    return make(f"flac-{name}.flac", *VARIANTS[name])


async def open_bytes(data: bytes, name: str = "test.flac") -> tuple[Demuxer, list[Packet]]:
    demuxer = await open_demuxer(await Reader.open(BytesSource(data, name)))
    return demuxer, [packet async for packet in demuxer.packets()]


@pytest.mark.parametrize("name", sorted(VARIANTS))
async def test_generated_variants_match_ffprobe(name: str) -> None:
    demuxer = await assert_packets_match_ffprobe(variant(name))
    track = demuxer.tracks[0]
    stream = ffprobe_streams(variant(name))[0]
    assert demuxer.format_name == "flac" and track.codec_string == "flac"
    assert track.duration == stream["duration_ts"]
    assert demuxer.duration == pytest.approx(float(stream["duration"]), abs=1e-6)


async def test_description_is_flac_signature_and_streaminfo_marked_last() -> None:
    data = variant("stereo-44k").read_bytes()
    demuxer, _ = await open_bytes(data)
    description = demuxer.tracks[0].description
    assert description is not None and len(description) == 42
    assert description[:8] == b"fLaC\x80\x00\x00\x22"
    assert description[8:] == data[8:42]  # the file's own STREAMINFO body


async def test_fixture_audio_matches_ffprobe_and_its_png_is_a_cover() -> None:
    path = FIXTURES / "sample.flac"
    demuxer, packets = await demux(path)
    probe = ffprobe_packets(path)
    ours = [(p.pts, p.dts, len(p.data), p.is_key) for p in packets]
    assert ours == [(p.pts, p.dts, p.size, p.is_key) for p in probe if p.stream_index == 0]
    assert [i.mime_type for i in demuxer.images] == ["image/png"]
    picture = next(p for p in probe if p.stream_index == 1)
    assert len(demuxer.images[0].data) == picture.size
    assert demuxer.images[0].data[:8] == b"\x89PNG\r\n\x1a\n"
    assert demuxer.tags["title"] == "The Happy Meeting" and demuxer.tags["track"] == "4"
    assert demuxer.duration == pytest.approx(19.714286, abs=1e-6)


async def test_frames_are_found_through_small_windows_without_reading_the_file_whole() -> None:
    path = FIXTURES / "sample.flac"
    big = await demux(path)
    demuxer, packets = await demux(path, window=65536)
    assert [p.data for p in packets] == [p.data for p in big[1]]
    assert demuxer.reader.bytes_fetched < 1.5 * path.stat().st_size


async def test_vorbis_comment_tags_are_lower_cased_as_ffprobe_names_them() -> None:
    path = make("flac-tags.flac", *sine(16000), "-metadata", "title=Tïtle", "-metadata",
                "artist=Someone", "-metadata", "album_artist=Various", "-c:a", "flac")  # fmt: skip
    demuxer, _ = await demux(path)
    assert demuxer.tags["title"] == "Tïtle" and demuxer.tags["artist"] == "Someone"
    assert demuxer.tags["album_artist"] == "Various"


async def test_an_id3v2_tag_before_flac_is_skipped_and_read() -> None:
    frame = b"\x03Prefix title"
    tag_body = struct.pack(">4sIH", b"TIT2", len(frame), 0) + frame
    tag = b"ID3\x03\x00\x00" + bytes([0, 0, 0, len(tag_body)]) + tag_body
    original = variant("mono-8k").read_bytes()
    demuxer, packets = await open_bytes(tag + original)
    _, plain_packets = await open_bytes(original)
    assert demuxer.format_name == "flac" and demuxer.tags["title"] == "Prefix title"
    assert [p.data for p in packets] == [p.data for p in plain_packets]


async def test_a_file_cut_inside_a_frame_keeps_the_whole_frames_with_a_warning() -> None:
    data = variant("stereo-44k").read_bytes()
    _, whole = await open_bytes(data)
    with pytest.warns(TruncatedMediaWarning, match="cut off"):
        demuxer, packets = await open_bytes(data[:-100])
    assert [p.data for p in packets] == [p.data for p in whole[:-1]]
    assert demuxer.warnings


def streaminfo_body(min_block: int, max_block: int, rate: int = 44100) -> bytes:
    packed = rate << 44 | 1 << 41 | 15 << 36  # stereo, 16 bits, unknown length
    return struct.pack(">HH", min_block, max_block) + bytes(6) + packed.to_bytes(8) + bytes(16)


def streaminfo_file(body: bytes, *, last: bool = True) -> bytes:
    return b"fLaC" + bytes([0x80 if last else 0]) + len(body).to_bytes(3, "big") + body


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"fLa", "not a media file"),
        (b"fLaC", "metadata block header"),
        (b"fLaC\x84\x00\x00\x08" + bytes(8), "expected the STREAMINFO block first"),
        (streaminfo_file(bytes(20)), "STREAMINFO of 20 bytes"),
        (b"fLaC\x80\xff\xff\xff" + bytes(40), "file ends inside the STREAMINFO block"),
        (streaminfo_file(bytes(34)), "sample rate of 0"),
        (streaminfo_file(streaminfo_body(4096, 16)), "block sizes 4096..16"),
        (streaminfo_file(streaminfo_body(8, 8)), "block sizes 8..8"),
    ],
)  # fmt: skip
async def test_broken_headers_give_specific_errors(data: bytes, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        await open_bytes(data, "bad.flac")


def good_streaminfo() -> bytes:
    return variant("mono-8k").read_bytes()[8:42]


@pytest.mark.parametrize(
    ("block", "message"),
    [
        (b"\x04\x00\x00\x08" + b"\xff\xff\xff\xff" + bytes(4), "vendor string of 4294967295"),
        (b"\x04\x00\x00\x08" + bytes(4) + b"\xff\xff\xff\x7f", "claims 2147483647 fields"),
        (b"\x06\x00\x00\x0c" + bytes(4) + b"\x00\x00\x10\x00" + bytes(4), "MIME type"),
        (b"\x7f\x00\x00\x00", "type 127 is forbidden"),
    ],
)
async def test_broken_comment_and_picture_blocks_give_specific_errors(
    block: bytes, message: str
) -> None:
    data = streaminfo_file(good_streaminfo(), last=False) + bytes([block[0] | 0x80]) + block[1:]
    with pytest.raises(FormatError, match=message):
        await open_bytes(data)


async def test_metadata_without_frames_gives_a_track_and_no_packets() -> None:
    demuxer, packets = await open_bytes(streaminfo_file(good_streaminfo()))
    assert packets == [] and demuxer.tracks[0].sample_rate == 8000


async def test_garbage_after_the_metadata_is_an_error_naming_its_offset() -> None:
    with pytest.raises(FormatError, match="at byte 42: expected a FLAC frame header"):
        await open_bytes(streaminfo_file(good_streaminfo()) + b"garbage" * 10)


async def test_endless_metadata_blocks_are_bounded() -> None:
    data = streaminfo_file(good_streaminfo(), last=False) + b"\x01\x00\x00\x00" * 20_000
    with pytest.raises(FormatError, match="more than 10000 metadata blocks"):
        await open_bytes(data)


FUZZ_INPUT = make("flac-fuzz.flac", *sine(8000, 0.3), "-metadata", "title=x", "-c:a", "flac")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
async def test_mutated_files_give_format_errors_or_packets(data: st.DataObject) -> None:
    original = bytearray(FUZZ_INPUT.read_bytes())
    for _ in range(data.draw(st.integers(0, 8))):
        at = data.draw(st.integers(0, len(original) - 1))
        original[at] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(original)))
    await assert_clean_or_format_error(BytesSource(bytes(original[:cut]), "fuzz.flac"), FlacDemuxer)


def as_variable_blocksize(data: bytes, frames: list[Packet]) -> bytes:
    """The same frames re-headed with the variable blocking strategy (RFC 9639 section
    9.1.1): sample numbers in place of frame numbers, CRC-8 and CRC-16 recomputed."""
    head = data[: len(data) - sum(len(p.data) for p in frames)]
    out = bytearray(head)
    for packet in frames:
        frame = packet.data
        old = parse_frame_header(frame, 0)
        assert old is not None
        number_len = 1 if frame[4] < 0x80 else 8 - (frame[4] ^ 0xFF).bit_length()
        header = bytearray(frame[: old.size - 1])
        header[1] |= 1
        header[4 : 4 + number_len] = utf8_number(packet.pts)
        header.append(flac_crc8(bytes(header)))
        body = header + frame[old.size : -2]
        out += body + flac_crc16(bytes(body)).to_bytes(2, "big")
    return bytes(out)


def utf8_number(value: int) -> bytes:
    if value < 0x80:
        return bytes([value])
    length = 2
    while value >= 1 << (5 * length + 1):
        length += 1
    tail = [0x80 | (value >> (6 * i) & 0x3F) for i in reversed(range(length - 1))]
    first = (0xFF00 >> length & 0xFF) | value >> (6 * (length - 1))
    return bytes([first, *tail])


async def test_variable_blocksize_frames_take_their_pts_from_the_sample_number(
    tmp_path: Path,
) -> None:
    source = variant("mono-8k")
    _, frames = await demux(source)
    path = tmp_path / "variable.flac"
    path.write_bytes(as_variable_blocksize(source.read_bytes(), frames))
    assert decode_errors(path) == ""
    _, packets = await demux(path)
    assert [p.pts for p in packets] == [p.pts for p in frames]
    await assert_packets_match_ffprobe(path)


async def test_a_damaged_frame_header_joins_its_frame_to_the_one_before_with_a_warning() -> None:
    data = bytearray(variant("stereo-44k").read_bytes())
    _, frames = await open_bytes(bytes(data))
    start = len(data) - sum(len(p.data) for p in frames)
    damaged = start + sum(len(p.data) for p in frames[:3])
    data[damaged + 5] ^= 0x55  # breaks frame 3's CRC-8
    demuxer, packets = await open_bytes(bytes(data))
    assert [p.pts for p in packets] == [p.pts for p in frames[:3] + frames[4:]]
    assert packets[2].data == frames[2].data + bytes(data[damaged : damaged + len(frames[3].data)])
    assert demuxer.warnings == [
        f"test.flac: flac: at byte {damaged + len(frames[3].data)}: no frame header for "
        "frame 3; went on at frame 4"
    ]


@pytest.mark.parametrize("container", ["mkv", "mp4"])
async def test_flac_copies_into_matroska_and_mp4_unchanged(tmp_path: Path, container: str) -> None:
    source = FIXTURES / "sample.flac"
    out = tmp_path / f"copy.{container}"
    sink = FileSink(out)
    try:
        await convert_media(str(source), container, sink=sink)
    finally:
        sink.close()
    assert stream_hashes(out)[0] == stream_hashes(source)[0]
    assert decode_errors(out) == ""
