"""The MP4 writer: every file the MP4 reader tests use, remuxed in the three layouts, must
hold the same packets (ffprobe's pts, dts, size and key flag per stream), the same stream
hashes, and read and decode without a warning."""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path

import pytest

from audio_span import decoded_audio, edited_audio
from demux_check import demux
from oracle import (
    FIXTURES,
    decode_errors,
    ffprobe_json,
    ffprobe_packets,
    ffprobe_streams,
    make,
    stream_hashes,
)
from pywebcodecs.conversion import convert_media
from pywebcodecs.isobmff.muxer import Mp4Muxer
from pywebcodecs.isobmff.sample_log import SampleLog
from pywebcodecs.sink import FileSink, MemorySink
from pywebcodecs.track import Track, VideoTrack
from test_isobmff_reader import VARIANTS

LAYOUTS = {
    "progressive": {},
    "fast_start": {"fast_start": True},
    "fragmented": {"fragmented": True},
}
#: The reader's variants this file remuxes (AC-3 and PCM: test_audio_codec_copy.py).
WRITABLE = sorted(name for name in VARIANTS if name not in ("ac3.mp4", "pcm.mov"))


def source(name: str) -> Path:
    if name in ("video.mp4", "edts.mp4"):
        return FIXTURES / name
    return make(f"isobmff-{name}", *VARIANTS[name])


async def remux(src: Path, out: Path, tweak: dict | None = None, **layout: bool) -> Path:
    """Demux ``src`` with the MP4 reader and write every track with :class:`Mp4Muxer`;
    ``tweak`` changes fields of the video track."""
    demuxer, packets = await demux(src)
    sink = FileSink(out)
    muxer = Mp4Muxer(sink, **layout)
    ids = {}
    for track in demuxer.tracks:
        video = isinstance(track, VideoTrack)
        changed: Track = dataclasses.replace(track, **tweak) if tweak and video else track
        ids[track.id] = muxer.add_track(changed)
    for packet in packets:
        await muxer.write_packet(ids[packet.track_id], packet)
    await muxer.finish()
    sink.close()
    return out


def per_stream(path: Path) -> dict[int, list[tuple]]:
    streams: dict[int, list[tuple]] = {}
    for p in ffprobe_packets(path):
        streams.setdefault(p.stream_index, []).append((p.pts, p.dts, p.size, p.is_key))
    return streams


def probe_warnings(path: Path) -> str:
    result = subprocess.run(["ffprobe", "-v", "warning", str(path)], capture_output=True, text=True)
    return result.stderr.strip()


def top_level_boxes(data: bytes) -> list[str]:
    types, at = [], 0
    while at + 8 <= len(data):
        size = int.from_bytes(data[at : at + 4], "big")
        if size == 1:
            size = int.from_bytes(data[at + 8 : at + 16], "big")
        types.append(data[at + 4 : at + 8].decode("latin-1"))
        at += size
    return types


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("name", ["video.mp4", "edts.mp4", *WRITABLE])
async def test_remux_keeps_every_packet_and_hash(name: str, layout: str, tmp_path: Path) -> None:
    src = source(name)
    out = await remux(src, tmp_path / "out.mp4", **LAYOUTS[layout])
    assert probe_warnings(out) == ""
    assert stream_hashes(out) == stream_hashes(src)
    assert per_stream(out) == per_stream(src)
    assert decode_errors(out) == ""


@pytest.mark.parametrize("rotation", [90, 180, 270])
async def test_rotation_round_trips_through_the_track_matrix(rotation: int, tmp_path: Path) -> None:
    src = source("bframes.mp4")
    out = await remux(src, tmp_path / "rotated.mp4", {"rotation": rotation})
    side_data = ffprobe_json(out, "-show_streams")["streams"][0]["side_data_list"][0]
    # ffprobe counts counter-clockwise, in [-180, 180)
    assert side_data["rotation"] == (180 - rotation) % 360 - 180
    demuxer, _ = await demux(out)
    assert isinstance(demuxer.tracks[0], VideoTrack) and demuxer.tracks[0].rotation == rotation


async def test_pixel_aspect_is_written_as_pasp(tmp_path: Path) -> None:
    out = await remux(source("bframes.mp4"), tmp_path / "pasp.mp4", {"pixel_aspect": (4, 3)})
    assert ffprobe_streams(out)[0]["sample_aspect_ratio"] == "4:3"
    demuxer, _ = await demux(out)
    assert isinstance(demuxer.tracks[0], VideoTrack) and demuxer.tracks[0].pixel_aspect == (4, 3)


@pytest.mark.parametrize(
    ("layout", "boxes"),
    [
        ("progressive", ["ftyp", "mdat", "moov"]),
        ("fast_start", ["ftyp", "moov", "mdat"]),
        ("fragmented", ["ftyp", "moov", "moof", "mdat"]),
    ],
)
async def test_layouts_order_their_boxes_in_memory(layout: str, boxes: list[str]) -> None:
    demuxer, packets = await demux(source("bframes.mp4"))
    sink = MemorySink()
    muxer = Mp4Muxer(sink, **LAYOUTS[layout])
    for track in demuxer.tracks:
        muxer.add_track(track)
    for packet in packets:
        await muxer.write_packet(packet.track_id, packet)
    await muxer.finish()
    assert top_level_boxes(sink.getvalue())[: len(boxes)] == boxes


async def test_fragments_start_at_video_keyframes(tmp_path: Path) -> None:
    out = await remux(source("fragmented.mp4"), tmp_path / "frag.mp4", fragmented=True)
    types = top_level_boxes(out.read_bytes())
    keys = [p for p in ffprobe_packets(out) if p.stream_index == 0 and p.is_key]
    assert types.count("moof") == len(keys) > 1


async def test_convert_media_copies_into_mp4(tmp_path: Path) -> None:
    src = source("bframes.mp4")
    out = tmp_path / "converted.mp4"
    sink = FileSink(out)
    await convert_media(src, "mp4", video_codec="copy", audio_codec="copy", sink=sink)
    sink.close()
    assert probe_warnings(out) == ""
    assert stream_hashes(out) == stream_hashes(src)


def test_chunk_offsets_past_4_gib_use_co64() -> None:
    log = SampleLog()
    log.add(0, 0, 100, True, 1)
    log.chunk_offsets.append(0)
    log.chunk_counts.append(1)
    small = b"".join(log.stbl_children(1000, force_co64=False))
    large = b"".join(log.stbl_children(5 << 30, force_co64=False))
    assert b"stco" in small and b"co64" not in small
    assert b"co64" in large and (5 << 30).to_bytes(8, "big") in large


def test_mp4_cannot_hold_mulaw() -> None:
    from pywebcodecs.errors import UnsupportedError
    from pywebcodecs.track import AudioTrack

    track = AudioTrack(id=1, codec="pcm_mulaw", codec_string="ulaw", timescale=8000,
                       sample_rate=8000, channels=1)  # fmt: skip
    with pytest.raises(UnsupportedError, match="cannot hold pcm_mulaw"):
        Mp4Muxer(MemorySink()).add_track(track)


@pytest.mark.parametrize("name", ["opus-1013ms.ogg", "opus-1013ms.webm"])
@pytest.mark.parametrize("layout", ["progressive", "fragmented"])
async def test_opus_pre_skip_and_end_padding_go_into_the_edit_list(
    layout: str, name: str, tmp_path: Path
) -> None:
    """Opus copied into MP4 as ffmpeg writes it: counted in 48 kHz samples, the edit
    starts after the pre-skip (ffmpeg decodes from 0 and drops the pre-skip once), and the
    edit and the last sample end where the Ogg last granule position or the Matroska
    DiscardPadding says (to a millisecond from Matroska, which counts in them)."""
    from test_matroska_muxer import OPUS_1013MS

    out = await remux(make(name, *OPUS_1013MS), tmp_path / "opus.mp4", **LAYOUTS[layout])
    assert ffprobe_streams(out)[0]["time_base"] == "1/48000"
    packets = ffprobe_json(out, "-show_entries", "packet=pts,duration", "-show_packets")["packets"]
    assert packets[0]["pts"] == -312
    if layout == "progressive":  # ffprobe gives fragments' samples no duration
        # The WebM's block times are whole milliseconds: its last one is 0.5 ms off.
        slack = 0.001 if name.endswith(".ogg") else 0.0015
        assert (packets[-1]["pts"] + packets[-1]["duration"]) / 48_000 == pytest.approx(
            1.013, abs=slack)  # fmt: skip
        start, end = edited_audio(out)
        assert (start, float(end)) == (0, pytest.approx(1.013, abs=slack))
    decoded = decoded_audio(out)
    assert decoded.start == 0 and decoded.samples >= 48_624
    assert probe_warnings(out) == "" and decode_errors(out) == ""
