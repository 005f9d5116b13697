"""Matroska files built here byte by byte with the EBML helpers, for what ffmpeg never
writes: laced blocks, MediaRecorder-style unknown sizes, ContentEncoding, BlockGroups."""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from oracle import ffprobe_format, make, stream_hashes
from pywebcodecs.errors import FormatError
from pywebcodecs.matroska import ids
from pywebcodecs.matroska.ebml import (
    element,
    encode_id,
    encode_size,
    float_element,
    master,
    read_header,
    string_element,
    uint_element,
)
from pywebcodecs.track import Packet
from test_matroska_demuxer import assert_packets_match_ffprobe, demux
from test_matroska_muxer import AUDIO_CASES, CASES, TONE_2S

AC3 = make("audio_ac3.mkv", *TONE_2S, *AUDIO_CASES["ac3"])


def ebml_header(doc_type: str = "matroska") -> bytes:
    return master(
        ids.EBML,
        uint_element(ids.EBML_VERSION, 1),
        string_element(ids.DOC_TYPE, doc_type),
        uint_element(ids.DOC_TYPE_VERSION, 4),
    )


def one_track(track_type: int, codec_id: str, media: bytes, *extra: bytes) -> bytes:
    """A Tracks element holding track 1."""
    return master(
        ids.TRACKS,
        master(
            ids.TRACK_ENTRY,
            uint_element(ids.TRACK_NUMBER, 1),
            uint_element(ids.TRACK_UID, 1),
            uint_element(ids.TRACK_TYPE, track_type),
            string_element(ids.CODEC_ID, codec_id),
            media,
            *extra,
        ),
    )


def ac3_track(*extra: bytes) -> bytes:
    """Track 1: AC-3, 48 kHz mono (as in AC3)."""
    audio = master(
        ids.AUDIO, float_element(ids.SAMPLING_FREQUENCY, 48000.0), uint_element(ids.CHANNELS, 1)
    )
    return one_track(2, "A_AC3", audio, *extra)


def xiph_sizes(sizes: list[int]) -> bytes:
    return b"".join(b"\xff" * (size // 255) + bytes([size % 255]) for size in sizes)


def ebml_lace_sizes(sizes: list[int]) -> bytes:
    out = encode_size(sizes[0])
    for previous, size in itertools.pairwise(sizes):
        out += ((1 << 14) | (size - previous + (1 << 13) - 1)).to_bytes(2, "big")  # biased
    return out


LACINGS = {
    "xiph": (0x02, xiph_sizes),
    "ebml": (0x06, ebml_lace_sizes),
    "fixed": (0x04, lambda sizes: b""),
}


def simple_block(time: int, frames: list[bytes], lacing: str | None = None) -> bytes:
    """A keyframe SimpleBlock of track 1, laced when it holds several frames."""
    flags = 0x80
    lace = b""
    if lacing and len(frames) > 1:
        bits, encode = LACINGS[lacing]
        flags |= bits
        lace = bytes([len(frames) - 1]) + encode([len(f) for f in frames[:-1]])
    body = encode_size(1) + time.to_bytes(2, "big", signed=True) + bytes([flags]) + lace
    return master(ids.SIMPLE_BLOCK, body, *frames)


async def test_laced_frames_without_a_duration_share_the_time_to_the_next_block(
    tmp_path: Path,
) -> None:
    path = tmp_path / "no_duration.mkv"
    path.write_bytes(laced_ac3(await ac3_packets(), "xiph", 4))
    demuxer, packets = await demux(path)
    assert_packets_match_ffprobe(path, demuxer, packets)
    assert {p.duration for p in packets} == {32}


def test_ebml_lace_sizes_round_trip_through_the_reader() -> None:
    from pywebcodecs.matroska.blocks import parse_block

    frames = [b"a" * 300, b"b" * 10, b"c" * 5000, b"d" * 7]
    block = simple_block(0, frames, "ebml")
    _, size, header = read_header(block, 0)
    parsed = parse_block(block, header, header + size)
    assert [block[s:e] for s, e in parsed.frames] == frames


def matroska_file(tracks: bytes, clusters: list[bytes], info: bytes = b"") -> bytes:
    info_element = master(ids.INFO, uint_element(ids.TIMESTAMP_SCALE, 1_000_000), info)
    return ebml_header() + master(ids.SEGMENT, info_element, tracks, *clusters)


async def ac3_packets() -> list[Packet]:
    _, packets = await demux(AC3)
    return packets


def laced_ac3(packets: list[Packet], lacing: str, per_block: int, *track_extra: bytes) -> bytes:
    """AC3's ``packets`` laced ``per_block`` to a SimpleBlock, in clusters of 16 frames."""
    clusters = []
    for start in range(0, len(packets), 16):
        group = packets[start : start + 16]
        blocks = []
        for i in range(0, len(group), per_block):
            chunk = group[i : i + per_block]
            if lacing == "fixed" and len({len(p.data) for p in chunk}) > 1:
                blocks += [simple_block(p.pts - group[0].pts, [p.data]) for p in chunk]
            else:
                blocks.append(
                    simple_block(chunk[0].pts - group[0].pts, [p.data for p in chunk], lacing)
                )
        clusters.append(master(ids.CLUSTER, uint_element(ids.TIMESTAMP, group[0].pts), *blocks))
    return matroska_file(ac3_track(*track_extra), clusters)


@pytest.mark.parametrize("lacing", LACINGS)
async def test_laced_frames_become_one_packet_each_like_ffprobe(
    lacing: str, tmp_path: Path
) -> None:
    path = tmp_path / f"{lacing}.mkv"
    path.write_bytes(
        laced_ac3(await ac3_packets(), lacing, 4, uint_element(ids.DEFAULT_DURATION, 32_000_000))
    )
    demuxer, packets = await demux(path)
    assert_packets_match_ffprobe(path, demuxer, packets)
    assert [p.data for p in packets] == [p.data for p in await ac3_packets()]
    assert stream_hashes(path) == stream_hashes(AC3)


def with_unknown_size_clusters(data: bytes) -> bytes:
    """``data`` (a file with an unknown-size Segment) with every Cluster size set to
    "unknown" in place, as Chrome's MediaRecorder writes them."""
    out = bytearray(data)
    _, size, header = read_header(data, 0)
    pos = header + size
    _, segment_size, header = read_header(data, pos)
    assert segment_size == -1
    pos += header
    while pos < len(data):
        element_id, size, header = read_header(data, pos)
        if element_id == ids.CLUSTER:
            length = header - 4  # Cluster IDs take 4 bytes
            out[pos + 4 : pos + header] = bytes([0xFF >> (length - 1)]) + b"\xff" * (length - 1)
        pos += header + size
    return bytes(out)


async def test_media_recorder_style_webm_without_sizes_duration_or_cues(tmp_path: Path) -> None:
    live = make("live.webm", *CASES["vp8_opus.webm"][1], "-live", "1", "-f", "webm")
    path = tmp_path / "recorded.webm"
    path.write_bytes(with_unknown_size_clusters(live.read_bytes()))
    assert "duration" not in ffprobe_format(path)
    demuxer, packets = await demux(path)
    assert demuxer.duration is None
    assert_packets_match_ffprobe(path, demuxer, packets)
    assert demuxer.warnings == []


def stripped_ac3_track(algorithm: int, settings: bytes = b"") -> bytes:
    compression = [uint_element(ids.CONTENT_COMP_ALGO, algorithm)]
    if settings:
        compression.append(element(ids.CONTENT_COMP_SETTINGS, settings))
    return ac3_track(
        master(
            ids.CONTENT_ENCODINGS,
            master(ids.CONTENT_ENCODING, master(ids.CONTENT_COMPRESSION, *compression)),
        )
    )


async def compressed_ac3(track: bytes, compress: Callable[[bytes], bytes]) -> bytes:
    packets = await ac3_packets()
    blocks = [simple_block(p.pts, [compress(p.data)]) for p in packets]
    return matroska_file(track, [master(ids.CLUSTER, uint_element(ids.TIMESTAMP, 0), *blocks)])


@pytest.mark.parametrize("algorithm", ["header stripping", "zlib"])
async def test_content_compression_is_undone_like_ffmpeg(algorithm: str, tmp_path: Path) -> None:
    path = tmp_path / "compressed.mkv"
    if algorithm == "zlib":
        path.write_bytes(await compressed_ac3(stripped_ac3_track(0), zlib.compress))
    else:  # every AC-3 frame starts with the sync word 0B 77
        path.write_bytes(
            await compressed_ac3(stripped_ac3_track(3, b"\x0b\x77"), lambda frame: frame[2:])
        )
    demuxer, packets = await demux(path)
    assert_packets_match_ffprobe(path, demuxer, packets)
    assert [p.data for p in packets] == [p.data for p in await ac3_packets()]
    assert stream_hashes(path) == stream_hashes(AC3)


async def test_other_compression_algorithms_are_a_clear_error_at_the_track_entry() -> None:
    data = await compressed_ac3(stripped_ac3_track(1), lambda frame: frame)
    with pytest.raises(FormatError, match="ContentCompression algorithm 1") as error:
        await demux(data)
    tracks = data.index(encode_id(ids.TRACKS))
    _, _, tracks_header = read_header(data, tracks)
    _, _, entry_header = read_header(data, tracks + tracks_header)
    assert error.value.offset == tracks + tracks_header + entry_header


async def test_block_groups_give_keyframes_by_reference_block_and_block_duration(
    tmp_path: Path,
) -> None:
    source = make("vp8_opus.webm", *CASES["vp8_opus.webm"][1])
    _, packets = await demux(source)
    video = [p for p in packets if p.track_id == 1]
    groups = []
    for p in video:
        children = [
            element(ids.BLOCK, encode_size(1) + p.pts.to_bytes(2, "big") + b"\0" + p.data),
            uint_element(ids.BLOCK_DURATION, 40),
        ]
        if not p.is_key:
            children.append(element(ids.REFERENCE_BLOCK, b"\xd8"))  # -40: the frame before
        groups.append(master(ids.BLOCK_GROUP, *children))
    size = uint_element(ids.PIXEL_WIDTH, 160) + uint_element(ids.PIXEL_HEIGHT, 120)
    track = one_track(1, "V_VP8", master(ids.VIDEO, size))
    path = tmp_path / "groups.mkv"
    path.write_bytes(
        matroska_file(track, [master(ids.CLUSTER, uint_element(ids.TIMESTAMP, 0), *groups)])
    )
    demuxer, ours = await demux(path)
    assert_packets_match_ffprobe(path, demuxer, ours)
    assert [(p.pts, p.is_key, p.data) for p in ours] == [(p.pts, p.is_key, p.data) for p in video]
    assert {p.duration for p in ours} == {40}


async def test_a_track_with_an_unknown_codec_is_listed_with_a_note() -> None:
    track = ac3_track().replace(b"A_AC3", b"A_XYZ")
    cluster = master(ids.CLUSTER, uint_element(ids.TIMESTAMP, 0), simple_block(0, [b"abc"]))
    demuxer, packets = await demux(matroska_file(track, [cluster]))
    assert demuxer.tracks[0].codec == "unknown"
    assert "A_XYZ" in demuxer.warnings[0]
    assert [p.data for p in packets] == [b"abc"]
