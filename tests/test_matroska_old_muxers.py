"""Matroska as older muxers (mkvmerge before 2010, Haali, AVI-to-MKV tools) wrote it:
the AAC profile in the CodecID with no CodecPrivate, and frames in BlockGroups with
ReferenceBlock and BlockDuration instead of SimpleBlocks. Checked against ffprobe/PyAV."""

from __future__ import annotations

import struct
from pathlib import Path

import av

from oracle import ffmpeg, ffprobe_packets, ffprobe_streams
from pywebcodecs.matroska import ids
from pywebcodecs.matroska.demuxer import MatroskaDemuxer
from pywebcodecs.matroska.ebml import (
    element,
    encode_size,
    float_element,
    master,
    string_element,
    uint_element,
)
from pywebcodecs.reader import Reader
from pywebcodecs.source import FileSource

VIDEO = ["-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10:duration=1"]
AUDIO = ["-f", "lavfi", "-i", "sine=duration=1:sample_rate=48000"]


def write_old_mkvmerge_file(out: Path) -> None:
    """H.264 in BlockGroups (ReferenceBlock on every non-key frame, BlockDuration on each)
    and AAC under ``A_AAC/MPEG4/LC`` with no CodecPrivate, timestamps in milliseconds."""
    source = out.with_name(out.stem + "-source.mp4")
    ffmpeg(*VIDEO, *AUDIO, "-c:v", "libx264", "-bf", "0", "-g", "5", "-c:a", "aac", source)
    with av.open(str(source)) as container:
        video = container.streams.video[0]
        avcc = bytes(video.codec_context.extradata or b"")
        packets = [(1 if p.stream is video else 2, round(float(p.pts * p.time_base) * 1000),
                    round(float(p.duration * p.time_base) * 1000), p.is_keyframe, bytes(p))
                   for p in container.demux() if p.size]  # fmt: skip
    tracks = master(
        ids.TRACKS,
        master(ids.TRACK_ENTRY, uint_element(ids.TRACK_NUMBER, 1),
               uint_element(ids.TRACK_UID, 1), uint_element(ids.TRACK_TYPE, 1),
               string_element(ids.CODEC_ID, "V_MPEG4/ISO/AVC"),
               element(ids.CODEC_PRIVATE, avcc),
               master(ids.VIDEO, uint_element(ids.PIXEL_WIDTH, 64),
                      uint_element(ids.PIXEL_HEIGHT, 48))),
        master(ids.TRACK_ENTRY, uint_element(ids.TRACK_NUMBER, 2),
               uint_element(ids.TRACK_UID, 2), uint_element(ids.TRACK_TYPE, 2),
               string_element(ids.CODEC_ID, "A_AAC/MPEG4/LC"),
               master(ids.AUDIO, float_element(ids.SAMPLING_FREQUENCY, 48000.0),
                      uint_element(ids.CHANNELS, 1))),
    )  # fmt: skip
    groups, last = [], {1: 0, 2: 0}
    for track, time, duration, key, data in sorted(packets, key=lambda p: p[1]):
        block = element(ids.BLOCK, encode_size(track) + struct.pack(">hB", time, 0) + data)
        children = [block, uint_element(ids.BLOCK_DURATION, duration)]
        if not key:
            children.append(element(ids.REFERENCE_BLOCK, struct.pack(">b", last[track] - time)))
        last[track] = time
        groups.append(master(ids.BLOCK_GROUP, *children))
    cluster = master(ids.CLUSTER, uint_element(ids.TIMESTAMP, 0), *groups)
    info = master(ids.INFO, uint_element(ids.TIMESTAMP_SCALE, 1_000_000))
    header = master(ids.EBML, string_element(ids.DOC_TYPE, "matroska"),
                    uint_element(ids.DOC_TYPE_VERSION, 2))  # fmt: skip
    out.write_bytes(header + master(ids.SEGMENT, info, tracks, cluster))
    source.unlink()


async def test_aac_without_codec_private_gets_the_config_ffmpeg_derives(tmp_path: Path) -> None:
    """Raw AAC frames decode only with an AudioSpecificConfig (without one, WebCodecs
    expects ADTS headers), and MP4 needs one to copy them: it is made from the profile in
    the CodecID and the track's rate and channels, as ffmpeg's reader does."""
    path = tmp_path / "old-mkvmerge.mkv"
    write_old_mkvmerge_file(path)
    with av.open(str(path)) as container:
        theirs = bytes(container.streams.audio[0].codec_context.extradata or b"")
    demuxer = MatroskaDemuxer(await Reader.open(FileSource(path)))
    await demuxer.open()
    video, audio = demuxer.tracks
    assert theirs and audio.description == theirs
    assert audio.codec_string == "mp4a.40.2"
    packets = [packet async for packet in demuxer.packets()]
    ours = [(p.track_id - 1, p.pts, len(p.data), p.is_key) for p in packets]
    expected = [(p.stream_index, p.pts, p.size, p.is_key) for p in ffprobe_packets(path)]
    assert ours == expected
    assert [s["codec_name"] for s in ffprobe_streams(path)] == [video.codec, audio.codec]
