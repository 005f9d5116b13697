"""MatroskaDemuxer against ffprobe: packets, tracks and durations of real and hand-built files."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from oracle import (
    FIXTURES,
    ffprobe_format,
    ffprobe_packets,
    ffprobe_streams,
    make,
    stream_hashes,
)
from pywebcodecs.errors import TruncatedMediaWarning
from pywebcodecs.matroska.demuxer import MatroskaDemuxer
from pywebcodecs.matroska.muxer import MkvMuxer, WebmMuxer
from pywebcodecs.matroska.packet_timing import REORDERED_CODECS
from pywebcodecs.reader import Reader
from pywebcodecs.source import BytesSource, FileSource
from pywebcodecs.track import AudioTrack, Packet, VideoTrack
from test_matroska_muxer import AUDIO_CASES, AV1_ARGS, CASES, TONE_2S, VIDEO_2S, remux_packets


async def demux(source: Path | bytes) -> tuple[MatroskaDemuxer, list[Packet]]:
    src = BytesSource(source) if isinstance(source, bytes) else FileSource(source)
    demuxer = MatroskaDemuxer(await Reader.open(src))
    await demuxer.open()
    return demuxer, [packet async for packet in demuxer.packets()]


def assert_packets_match_ffprobe(path: Path, demuxer: MatroskaDemuxer, packets: list[Packet]):
    """Same packets as ffprobe: stream, pts, size, key flag, and dts where ffprobe has one.

    Matroska stores no dts: for reordered video ffprobe takes the reorder depth from the
    H.264 SPS, which we do not parse, so there we check dts ≤ pts and strictly increasing.
    """
    index = {track.id: i for i, track in enumerate(demuxer.tracks)}
    reordered = {t.id for t in demuxer.tracks if t.codec in REORDERED_CODECS}
    expected = ffprobe_packets(path)
    assert len(packets) == len(expected)
    last_dts: dict[int, int] = {}
    for ours, theirs in zip(packets, expected, strict=True):
        assert (index[ours.track_id], ours.pts, len(ours.data), ours.is_key) == (
            theirs.stream_index,
            theirs.pts,
            theirs.size,
            theirs.is_key,
        )
        if ours.track_id in reordered:
            assert ours.dts <= ours.pts
            assert ours.dts > last_dts.get(ours.track_id, ours.dts - 1)
            last_dts[ours.track_id] = ours.dts
        else:
            assert ours.dts == theirs.dts


def assert_tracks_match_ffprobe(path: Path, demuxer: MatroskaDemuxer) -> None:
    streams = ffprobe_streams(path)
    assert len(streams) == len(demuxer.tracks)
    with av.open(str(path)) as container:
        extradata = [s.codec_context.extradata for s in container.streams]
    for track, stream, extra in zip(demuxer.tracks, streams, extradata, strict=True):
        assert track.codec == stream["codec_name"]
        assert track.timescale == int(stream["time_base"].split("/")[1])
        assert track.is_default == bool(stream["disposition"]["default"])
        if isinstance(track, VideoTrack):
            assert (track.width, track.height) == (stream["width"], stream["height"])
        else:
            assert isinstance(track, AudioTrack)
            assert track.sample_rate == int(stream["sample_rate"])
            assert track.channels == stream["channels"]
        if track.codec in ("h264", "hevc", "av1", "aac", "opus", "vorbis"):
            assert track.description == extra
        assert track.codec_string.startswith(CODEC_STRING_PREFIXES.get(track.codec, ""))
        assert track.codec_string
    if "duration" in ffprobe_format(path):
        assert demuxer.duration == pytest.approx(float(ffprobe_format(path)["duration"]))


#: The codec strings made from CodecPrivate or the bitstream (the rest are fixed names).
CODEC_STRING_PREFIXES = {
    "h264": "avc1.",
    "hevc": "hvc1.",
    "av1": "av01.0.",
    "vp9": "vp09.0",
    "aac": "mp4a.40.2",
}

READ_CASES = {
    **{name: args for name, (_, args) in CASES.items()},
    **{f"audio_{codec}.mkv": (*TONE_2S, *args) for codec, args in AUDIO_CASES.items()},
    "vp9_10bit.webm": (
        *VIDEO_2S,
        "-c:v",
        "libvpx-vp9",
        "-pix_fmt",
        "yuv420p10le",
        "-deadline",
        "realtime",
    ),
    "av1.webm": AV1_ARGS,
    "hevc_two_audio.mkv": (
        *VIDEO_2S,
        *TONE_2S,
        "-map",
        "0",
        "-map",
        "1",
        "-map",
        "1",
        "-c:v",
        "libx265",
        "-x265-params",
        "log-level=none:bframes=3",
        "-c:a:0",
        "libopus",
        "-c:a:1",
        "libvorbis",
        "-metadata:s:a:1",
        "language=fra",
        "-disposition:a:1",
        "0",
    ),
}


@pytest.mark.parametrize("name", READ_CASES)
async def test_packets_and_tracks_match_ffprobe(name: str) -> None:
    path = make(name, *READ_CASES[name])
    demuxer, packets = await demux(path)
    assert demuxer.container == ("webm" if name.endswith(".webm") else "mkv")
    assert_packets_match_ffprobe(path, demuxer, packets)
    assert_tracks_match_ffprobe(path, demuxer)
    assert demuxer.warnings == []


async def test_fixture_frames_webm_reads_like_ffprobe_with_a_vp9_codec_string() -> None:
    path = FIXTURES / "frames.webm"
    demuxer, packets = await demux(path)
    assert_packets_match_ffprobe(path, demuxer, packets)
    assert_tracks_match_ffprobe(path, demuxer)
    # No CodecPrivate: profile 0 and 8 bits from the keyframe, level 4 for 1080x1080.
    assert demuxer.tracks[0].codec_string == "vp09.00.40.08"


async def test_ten_bit_vp9_codec_string_comes_from_the_keyframe_header() -> None:
    demuxer, _ = await demux(make("vp9_10bit.webm", *READ_CASES["vp9_10bit.webm"]))
    assert demuxer.tracks[0].codec_string.startswith("vp09.02.")
    assert demuxer.tracks[0].codec_string.endswith(".10")


async def test_opus_pts_are_shifted_by_the_codec_delay_like_ffprobe() -> None:
    demuxer, packets = await demux(make("vp8_opus.webm", *CASES["vp8_opus.webm"][1]))
    opus = demuxer.tracks[1]
    assert opus.codec == "opus" and opus.codec_string == "opus"
    assert next(p.pts for p in packets if p.track_id == opus.id) == -7


async def test_language_and_default_flag_are_read() -> None:
    demuxer, _ = await demux(make("hevc_two_audio.mkv", *READ_CASES["hevc_two_audio.mkv"]))
    assert [t.codec for t in demuxer.tracks] == ["hevc", "opus", "vorbis"]
    assert demuxer.tracks[2].language == "fra"
    assert demuxer.tracks[2].is_default is False


async def test_tags_and_attached_cover_image_are_read(tmp_path: Path) -> None:
    cover = make("cover.png", "-f", "lavfi", "-i", "color=red:size=16x16", "-frames:v", "1")
    path = make(
        "tagged.mkv",
        *TONE_2S,
        "-c:a",
        "flac",
        "-metadata",
        "title=A Title",
        "-metadata",
        "ARTIST=Someone",
        "-attach",
        str(cover),
        "-metadata:s:t",
        "mimetype=image/png",
    )
    demuxer, _ = await demux(path)
    assert demuxer.tags["title"] == "A Title"
    assert demuxer.tags["artist"] == "Someone"
    assert [image.mime_type for image in demuxer.images] == ["image/png"]
    assert demuxer.images[0].data == cover.read_bytes()


@pytest.mark.parametrize(
    "name", ["h264_aac.mkv", "vp8_opus.webm", "audio_flac.mkv", "hevc_two_audio.mkv", "frames.webm"]
)
async def test_remux_through_our_reader_and_writer_keeps_every_packet(
    name: str, tmp_path: Path
) -> None:
    path = FIXTURES / name if name == "frames.webm" else make(name, *READ_CASES[name])
    demuxer, packets = await demux(path)
    muxer_type = WebmMuxer if name.endswith(".webm") else MkvMuxer
    out = tmp_path / name
    await remux_packets(demuxer.tracks, packets, muxer_type, out)
    assert stream_hashes(out) == stream_hashes(path)
    again, again_packets = await demux(out)
    assert [(p.pts, p.is_key, p.data) for p in again_packets] == [
        (p.pts, p.is_key, p.data) for p in packets
    ]
    assert again.duration == pytest.approx(demuxer.duration, abs=0.03)


async def test_truncated_file_yields_the_complete_packets_and_warns() -> None:
    path = make("h264_aac.mkv", *CASES["h264_aac.mkv"][1])
    data = path.read_bytes()
    _, full = await demux(path)
    cut = data[: len(data) * 2 // 3]
    with pytest.warns(TruncatedMediaWarning):
        demuxer, packets = await demux(cut)
    assert 0 < len(packets) < len(full)
    assert [p.data for p in packets] == [p.data for p in full[: len(packets)]]
    assert demuxer.warnings


async def test_file_cut_between_clusters_warns_that_the_segment_is_incomplete() -> None:
    path = make("h264_aac.mkv", *CASES["h264_aac.mkv"][1])
    data = path.read_bytes()
    second_cluster = data.index(b"\x1f\x43\xb6\x75", data.index(b"\x1f\x43\xb6\x75") + 4)
    with pytest.warns(TruncatedMediaWarning, match="before its Segment does"):
        _, packets = await demux(data[:second_cluster])
    assert packets


async def test_listing_tracks_reads_only_the_headers_and_packets_read_the_file_once() -> None:
    path = make("video_copy.mkv", "-i", str(FIXTURES / "video.mp4"), "-c", "copy")
    reader = await Reader.open(FileSource(path), window=64 << 10)
    demuxer = MatroskaDemuxer(reader)
    await demuxer.open()
    assert [t.codec for t in demuxer.tracks] == ["h264", "aac"]
    assert reader.bytes_fetched <= 2 * reader.window
    count = len([packet async for packet in demuxer.packets()])
    assert count == len(ffprobe_packets(path))
    assert reader.bytes_fetched < 1.2 * path.stat().st_size


async def test_file_cut_before_the_first_cluster_lists_tracks_and_warns() -> None:
    data = make("h264_aac.mkv", *CASES["h264_aac.mkv"][1]).read_bytes()
    with pytest.warns(TruncatedMediaWarning):
        demuxer, packets = await demux(data[: data.index(b"\x1f\x43\xb6\x75")])
    assert [t.codec for t in demuxer.tracks] == ["h264", "aac"]
    assert packets == []
