"""H.264/HEVC stored Annex-B style (start codes, parameter sets in-band, no or an empty
avcC/hvcC) in MP4 and Matroska, as some writers store it: the readers rebuild the decoder
configuration and the length-prefixed samples, so copying into MP4 gives a file ffmpeg
decodes cleanly to the same pictures, with the right codec string and keyframes."""

from __future__ import annotations

import hashlib
import struct
import subprocess
from pathlib import Path

import pytest

from demux_check import demux
from oracle import decode_errors, ffprobe_packets, ffprobe_streams, make
from pywebcodecs import convert_media, parse_media
from pywebcodecs.codec_data import length_prefixed_to_annexb
from pywebcodecs.errors import FormatError
from pywebcodecs.isobmff.muxer import Mp4Muxer
from pywebcodecs.matroska import ids
from pywebcodecs.matroska.ebml import element, float_element, master, uint_element
from pywebcodecs.sink import FileSink
from pywebcodecs.track import Packet, Track
from test_matroska_handbuilt import matroska_file, one_track, simple_block

VIDEO = ["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25:duration=1", "-g", "10", "-bf", "0"]
SOURCES = {
    "h264": [*VIDEO, "-c:v", "libx264"],
    "hevc": [*VIDEO, "-c:v", "libx265", "-x265-params", "log-level=error", "-tag:v", "hvc1"],
}
START = b"\x00\x00\x00\x01"


def source(codec: str) -> Path:
    return make(f"annexb-source-{codec}.mp4", *SOURCES[codec])


def parameter_sets(codec: str, record: bytes) -> list[bytes]:
    """The NAL units in an avcC (ISO 14496-15 section 5.3.3.1) or hvcC (section 8.3.3.1)."""
    units = []
    if codec == "h264":
        pos = 6
        for _ in range(2):  # SPS, then PPS
            count = record[pos - 1] & 0x1F if pos == 6 else record[pos - 1]
            for _ in range(count):
                size = struct.unpack_from(">H", record, pos)[0]
                units.append(record[pos + 2 : pos + 2 + size])
                pos += 2 + size
            pos += 1
        return units
    pos, arrays = 23, record[22]
    for _ in range(arrays):
        count = struct.unpack_from(">H", record, pos + 1)[0]
        pos += 3
        for _ in range(count):
            size = struct.unpack_from(">H", record, pos)[0]
            units.append(record[pos + 2 : pos + 2 + size])
            pos += 2 + size
    return units


async def annexb_packets(codec: str) -> tuple[Track, list[Packet]]:
    """The source's packets with start codes, parameter sets in front of each keyframe."""
    demuxer, packets = await demux(source(codec))
    (track,) = demuxer.tracks
    assert track.description is not None
    header = b"".join(START + unit for unit in parameter_sets(codec, track.description))
    for packet in packets:
        body = length_prefixed_to_annexb(packet.data)
        packet.data = header + body if packet.is_key else body
    return track, packets


def decoded_md5(path: Path) -> str:
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-map", "0:v",
           "-f", "rawvideo", "-pix_fmt", "yuv420p", "-"]  # fmt: skip
    return hashlib.md5(subprocess.run(cmd, capture_output=True, check=True).stdout).hexdigest()


async def annexb_mp4(codec: str, path: Path, record: str) -> Path:
    """An MP4 of Annex-B samples whose avcC/hvcC is ``record``: "missing" (the box renamed
    ``free``) or "empty" (an 8-byte box, its old bytes left in a ``free`` box after it)."""
    track, packets = await annexb_packets(codec)
    sink = FileSink(path)
    muxer = Mp4Muxer(sink)
    muxer.add_track(track)
    for packet in packets:
        await muxer.write_packet(1, packet)
    await muxer.finish()
    sink.close()
    data = bytearray(path.read_bytes())
    name = b"avcC" if codec == "h264" else b"hvcC"
    at = data.index(name) - 4
    size = int.from_bytes(data[at : at + 4], "big")
    if record == "missing":
        data[at + 4 : at + 8] = b"free"
    else:
        data[at : at + 16] = (8).to_bytes(4, "big") + name + (size - 8).to_bytes(4, "big") + b"free"
    path.write_bytes(bytes(data))
    return path


def annexb_mkv(codec: str, track: Track, packets: list[Packet], private: bytes = b"") -> bytes:
    """A Matroska file of the Annex-B frames (ms timestamps), with ``private`` as its
    CodecPrivate when given."""
    video = master(ids.VIDEO, uint_element(ids.PIXEL_WIDTH, 160),
                   uint_element(ids.PIXEL_HEIGHT, 120))  # fmt: skip
    codec_id = "V_MPEG4/ISO/AVC" if codec == "h264" else "V_MPEGH/ISO/HEVC"
    extra = [element(ids.CODEC_PRIVATE, private)] if private else []
    entry = one_track(1, codec_id, video, float_element(ids.DEFAULT_DURATION, 40_000_000), *extra)
    blocks = []
    for packet in packets:
        block = simple_block(packet.pts * 1000 // track.timescale, [packet.data])
        if not packet.is_key:  # simple_block marks every block a keyframe: clear the flag
            flags_at = block.index(packet.data) - 1
            block = block[:flags_at] + bytes([block[flags_at] & 0x7F]) + block[flags_at + 1 :]
        blocks.append(block)
    cluster = master(ids.CLUSTER, uint_element(ids.TIMESTAMP, 0), *blocks)
    return matroska_file(entry, [cluster])


async def copy_to_mp4(src: Path, out: Path) -> None:
    sink = FileSink(out)
    try:
        result = await convert_media(str(src), "mp4", sink=sink, video_codec="copy")
    finally:
        sink.close()
    assert [(t.action, t.output_codec) for t in result.tracks] == [
        ("copy", ffprobe_streams(src)[0]["codec_name"])
    ]


def assert_same_pictures_and_keyframes(out: Path, original: Path) -> None:
    assert decode_errors(out) == ""
    assert decoded_md5(out) == decoded_md5(original)
    assert [p.is_key for p in ffprobe_packets(out)] == [p.is_key for p in ffprobe_packets(original)]


@pytest.mark.parametrize("codec", ["h264", "hevc"])
@pytest.mark.parametrize("record", ["missing", "empty"])
async def test_annexb_mp4_copies_into_a_clean_mp4(codec: str, record: str, tmp_path: Path) -> None:
    original = source(codec)
    path = await annexb_mp4(codec, tmp_path / "annexb.mp4", record)
    info = await parse_media(str(path))
    (expected,) = (await parse_media(str(original))).tracks
    (track,) = info.tracks
    assert (track.codec, track.codec_string) == (codec, expected.codec_string)
    assert track.description and info.warnings == []
    out = tmp_path / "out.mp4"
    await copy_to_mp4(path, out)
    assert_same_pictures_and_keyframes(out, original)


@pytest.mark.parametrize("codec", ["h264", "hevc"])
@pytest.mark.parametrize("private", ["none", "record", "annexb"])
async def test_annexb_matroska_copies_into_mp4(codec: str, private: str, tmp_path: Path) -> None:
    """Start codes in the frames, with no CodecPrivate, with a valid avcC/hvcC, or with the
    parameter sets as an Annex-B CodecPrivate (then only there, not in the frames)."""
    track, packets = await annexb_packets(codec)
    assert track.description is not None
    sets = b"".join(START + unit for unit in parameter_sets(codec, track.description))
    codec_private = {"none": b"", "record": track.description, "annexb": sets}[private]
    if private == "annexb":
        for packet in packets:
            packet.data = packet.data.removeprefix(sets)
    path = tmp_path / "annexb.mkv"
    path.write_bytes(annexb_mkv(codec, track, packets, codec_private))
    (expected,) = (await parse_media(str(source(codec)))).tracks
    (read,) = (await parse_media(str(path))).tracks
    assert (read.codec, read.codec_string) == (codec, expected.codec_string)
    _, demuxed = await demux(path)
    assert all(not p.data.startswith(START) for p in demuxed)  # now length-prefixed
    out = tmp_path / "out.mp4"
    await copy_to_mp4(path, out)
    assert_same_pictures_and_keyframes(out, source(codec))


async def test_annexb_without_parameter_sets_is_named_not_guessed(tmp_path: Path) -> None:
    track, packets = await annexb_packets("h264")
    for packet in packets:  # drop the SPS/PPS: nothing can configure a decoder
        if packet.is_key:
            packet.data = packet.data[packet.data.index(START + b"\x65") :]
    path = tmp_path / "no-sets.mkv"
    path.write_bytes(annexb_mkv("h264", track, packets))
    with pytest.raises(FormatError, match="no parameter sets") as error:
        await parse_media(str(path))
    assert "no-sets.mkv" in str(error.value) and "track 1" in str(error.value)
