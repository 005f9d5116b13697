"""WebmMuxer / MkvMuxer: remux ffmpeg-made files (demuxed by PyAV) and check with ffprobe."""

from __future__ import annotations

import subprocess
from fractions import Fraction
from pathlib import Path

import av
import pytest

from audio_span import AudioSpan, decoded_audio
from oracle import decode_errors, ffprobe_format, ffprobe_json, ffprobe_streams, make, stream_hashes
from pywebcodecs.errors import UnsupportedError
from pywebcodecs.matroska.demuxer import MatroskaDemuxer
from pywebcodecs.matroska.muxer import MatroskaMuxer, MkvMuxer, WebmMuxer
from pywebcodecs.reader import Reader
from pywebcodecs.sink import FileSink, MemorySink
from pywebcodecs.source import BytesSource, FileSource
from pywebcodecs.track import AudioTrack, ColorInfo, Packet, Track, VideoTrack

VIDEO_2S = ("-f", "lavfi", "-i", "testsrc=size=160x120:rate=25:duration=2")
VIDEO_3S = ("-f", "lavfi", "-i", "testsrc=size=160x120:rate=25:duration=3")
TONE_2S = ("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=2")
TONE_3S = ("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=3")
GOP = ("-g", "25")
YUV420 = ("-pix_fmt", "yuv420p")


def model_description(codec: str, extradata: bytes | None) -> bytes | None:
    """PyAV's extradata as the model's ``description``: FLAC gets its ``fLaC`` + block header."""
    if not extradata:
        return None
    if codec == "flac" and len(extradata) == 34:
        return b"fLaC\x80\x00\x00\x22" + bytes(extradata)
    return bytes(extradata)


def pyav_media(path: Path) -> tuple[list[Track], list[Packet]]:
    """Tracks and packets of ``path`` as PyAV (ffmpeg's demuxer) sees them, in file order."""
    tracks: list[Track] = []
    with av.open(str(path)) as container:
        for stream in container.streams:
            ctx = stream.codec_context
            time_base = stream.time_base
            assert time_base is not None and time_base.numerator == 1
            common = {
                "id": stream.index,
                "codec": ctx.codec.canonical_name,
                "codec_string": ctx.codec.canonical_name,
                "description": model_description(ctx.codec.canonical_name, ctx.extradata),
                "timescale": time_base.denominator,
            }
            if stream.type == "video":
                rate = stream.average_rate
                tracks.append(
                    VideoTrack(
                        **common,
                        width=ctx.width,
                        height=ctx.height,
                        frame_rate=float(rate) if rate else None,
                    )
                )
            else:
                tracks.append(
                    AudioTrack(**common, sample_rate=ctx.sample_rate, channels=ctx.channels)
                )
        packets = [
            Packet(
                track_id=p.stream.index,
                pts=p.pts,
                dts=p.dts if p.dts is not None else p.pts,
                duration=p.duration or 0,
                is_key=p.is_keyframe,
                data=bytes(p),
            )
            for p in container.demux()
            if p.size
        ]
    return tracks, packets


async def remux_packets(
    tracks: list[Track], packets: list[Packet], muxer_type: type[MatroskaMuxer], out: Path
) -> Path:
    """Write ``packets`` through a fresh muxer into the file ``out``."""
    sink = FileSink(out)
    muxer = muxer_type(sink)
    ids = {track.id: muxer.add_track(track) for track in tracks}
    for packet in packets:
        await muxer.write_packet(ids[packet.track_id], packet)
    await muxer.finish()
    sink.close()
    return out


async def remux(source: Path, muxer_type: type[MatroskaMuxer], out: Path) -> Path:
    return await remux_packets(*pyav_media(source), muxer_type, out)


def ffprobe_warnings(path: Path, *args: str) -> str:
    cmd = ["ffprobe", "-v", "warning", *args, str(path)]
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stderr


def stream_duration(stream: dict) -> Fraction:
    """A Matroska stream's duration as ffprobe reports it (the DURATION tag)."""
    hms = stream["tags"]["DURATION"]
    hours, minutes, seconds = hms.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + Fraction(seconds)


def packet_end(tracks: list[Track], packets: list[Packet], track_id: int | None = None) -> Fraction:
    """Where the last packet (of one track, or of all) ends, in seconds."""
    scale = {track.id: track.timescale for track in tracks}
    return max(
        Fraction(p.pts + p.duration, scale[p.track_id])
        for p in packets
        if track_id in (None, p.track_id)
    )


def assert_faithful_remux(source: Path, out: Path) -> None:
    """Same packets, clean probe and decode, and durations where the packets end.

    ffmpeg's own durations may be up to one packet shorter: its muxer knew the encoder's
    trimmed duration of the last audio packet (and Opus DiscardPadding), which the file's
    packets do not carry.
    """
    assert stream_hashes(out) == stream_hashes(source)
    assert ffprobe_warnings(out) == ""
    assert decode_errors(out) == ""
    tracks, packets = pyav_media(source)
    slack = max(Fraction(p.duration, tracks[p.track_id].timescale) for p in packets)
    duration = Fraction(ffprobe_format(out)["duration"])
    assert duration == packet_end(tracks, packets)
    assert abs(duration - Fraction(ffprobe_format(source)["duration"])) <= slack
    for track, ours, theirs in zip(
        tracks, ffprobe_streams(out), ffprobe_streams(source), strict=True
    ):
        assert ours["codec_name"] == theirs["codec_name"]
        assert stream_duration(ours) == packet_end(tracks, packets, track.id)
        assert abs(stream_duration(ours) - stream_duration(theirs)) <= slack


def seek_packets(path: Path, at: float) -> list[dict]:
    return ffprobe_json(
        path,
        "-read_intervals",
        f"{at}%+0.5",
        "-show_entries",
        "packet=stream_index,pts_time,flags",
    )["packets"]


def assert_seekable(out: Path, at: float) -> list[dict]:
    """Cues are written, and ffprobe's seek to ``at`` lands on a keyframe before it."""
    assert b"\x1c\x53\xbb\x6b" in out.read_bytes()[-4096:], "no Cues element at the end"
    assert ffprobe_warnings(out, "-read_intervals", f"{at}%+0.5", "-show_packets") == ""
    packets = seek_packets(out, at)
    assert 0 < float(packets[0]["pts_time"]) <= at
    assert packets[0]["flags"].startswith("K")
    return packets


AV1_ARGS = (
    *VIDEO_2S,
    "-c:v",
    "libaom-av1",
    "-cpu-used",
    "8",
    "-usage",
    "realtime",
    *YUV420,
    *GOP,
)

CASES = {
    "vp8_opus.webm": (WebmMuxer, (*VIDEO_3S, *TONE_3S, "-c:v", "libvpx", *GOP, "-c:a", "libopus")),
    "vp9_vorbis.webm": (
        WebmMuxer,
        (*VIDEO_3S, *TONE_3S, "-c:v", "libvpx-vp9", "-deadline", "realtime", *GOP, *YUV420),
    ),
    "h264_aac.mkv": (
        MkvMuxer,
        (*VIDEO_3S, *TONE_3S, "-c:v", "libx264", "-bf", "2", *GOP, *YUV420, "-c:a", "aac"),
    ),
}


@pytest.mark.parametrize("name", CASES)
async def test_remux_keeps_every_packet_and_the_duration_and_seeks(
    name: str, tmp_path: Path
) -> None:
    muxer_type, args = CASES[name]
    source = make(name, *args)
    out = await remux(source, muxer_type, tmp_path / name)
    assert_faithful_remux(source, out)
    # Video cues are per keyframe, so the seek lands where it does in ffmpeg's file.
    assert assert_seekable(out, 2.0) == seek_packets(source, 2.0)


AUDIO_CASES = {
    "flac": ("-c:a", "flac"),
    "mp3": ("-c:a", "libmp3lame"),
    "ac3": ("-c:a", "ac3"),
    "eac3": ("-c:a", "eac3"),
    "pcm_s16le": ("-c:a", "pcm_s16le"),
    "pcm_s24le": ("-c:a", "pcm_s24le"),
    "pcm_f32le": ("-c:a", "pcm_f32le"),
    "pcm_u8": ("-c:a", "pcm_u8"),
}


@pytest.mark.parametrize("codec", AUDIO_CASES)
async def test_remux_of_audio_only_mkv_keeps_every_packet(codec: str, tmp_path: Path) -> None:
    source = make(f"audio_{codec}.mkv", *TONE_2S, *AUDIO_CASES[codec])
    out = await remux(source, MkvMuxer, tmp_path / "out.mkv")
    assert_faithful_remux(source, out)
    assert ffprobe_streams(out)[0]["codec_name"] == codec


async def test_long_audio_only_file_gets_a_cluster_and_cue_every_five_seconds(
    tmp_path: Path,
) -> None:
    source = make(
        "flac_12s.mkv", "-f", "lavfi", "-i", "sine=sample_rate=8000:duration=12", "-c:a", "flac"
    )
    out = await remux(source, MkvMuxer, tmp_path / "out.mkv")
    assert_faithful_remux(source, out)
    data = out.read_bytes()
    assert data.count(b"\x1f\x43\xb6\x75") == 3
    assert_seekable(out, 7.0)


async def test_av1_webm_keeps_the_av1c_codec_private(tmp_path: Path) -> None:
    source = make("av1.webm", *AV1_ARGS)
    out = await remux(source, WebmMuxer, tmp_path / "av1.webm")
    assert_faithful_remux(source, out)
    with av.open(str(out)) as ours, av.open(str(source)) as theirs:
        assert ours.streams[0].codec_context.extradata == theirs.streams[0].codec_context.extradata


def test_webm_refuses_codecs_webm_cannot_hold() -> None:
    with pytest.raises(UnsupportedError, match="WEBM file cannot hold h264"):
        WebmMuxer(MemorySink()).add_track(
            VideoTrack(id=1, codec="h264", codec_string="avc1", timescale=1000, width=2, height=2)
        )


async def test_a_pts_before_zero_is_a_clear_error() -> None:
    muxer = MkvMuxer(MemorySink())
    number = muxer.add_track(
        AudioTrack(
            id=1,
            codec="pcm_s16le",
            codec_string="pcm-s16",
            timescale=1000,
            sample_rate=8000,
            channels=1,
        )
    )
    with pytest.raises(ValueError, match="cannot be negative"):
        await muxer.write_packet(number, Packet(number, -5, -5, 10, True, b"x"))


async def test_webcodecs_microsecond_timestamps_round_to_milliseconds(tmp_path: Path) -> None:
    """Packets in 1/1e6 units (WebCodecs) land on the nearest millisecond."""
    source = make("vp8_opus.webm", *CASES["vp8_opus.webm"][1])
    tracks, packets = pyav_media(source)
    for track in tracks:
        factor = 1_000_000 // track.timescale
        track.timescale = 1_000_000
        for packet in packets:
            if packet.track_id == track.id:
                packet.pts, packet.dts, packet.duration = (
                    packet.pts * factor + 400,
                    packet.dts * factor + 400,
                    packet.duration * factor,
                )
    await remux_packets(tracks, packets, WebmMuxer, tmp_path / "us.webm")
    assert_faithful_remux(source, tmp_path / "us.webm")


async def test_colour_display_size_language_name_and_default_flag_are_written(
    tmp_path: Path,
) -> None:
    source = make("h264_aac.mkv", *CASES["h264_aac.mkv"][1])
    tracks, packets = pyav_media(source)
    video, audio = tracks
    assert isinstance(video, VideoTrack)
    video.color = ColorInfo(primaries="bt709", transfer="bt709", matrix="bt709", full_range=False)
    video.display_width, video.display_height = 320, 120
    audio.language, audio.name, audio.is_default = "fra", "Commentary", False
    out = await remux_packets(tracks, packets, MkvMuxer, tmp_path / "described.mkv")
    assert ffprobe_warnings(out) == ""
    video_stream, audio_stream = ffprobe_streams(out)
    assert (video_stream["color_primaries"], video_stream["color_transfer"]) == ("bt709", "bt709")
    assert (video_stream["color_space"], video_stream["color_range"]) == ("bt709", "tv")
    assert video_stream["sample_aspect_ratio"] == "2:1"
    assert audio_stream["tags"]["language"] == "fra"
    assert audio_stream["tags"]["title"] == "Commentary"
    assert audio_stream["disposition"]["default"] == 0
    assert video_stream["disposition"]["default"] == 1
    # and our reader gets the same fields back
    demuxer = MatroskaDemuxer(await Reader.open(FileSource(out)))
    await demuxer.open()
    read_video, read_audio = demuxer.tracks
    assert isinstance(read_video, VideoTrack)
    assert read_video.color == video.color
    assert (read_video.display_width, read_video.pixel_aspect) == (320, (2, 1))
    assert (read_audio.language, read_audio.name, read_audio.is_default) == (
        "fra",
        "Commentary",
        False,
    )


@pytest.mark.parametrize("name", ["av1.webm", "vp8_opus.webm", "h264_aac.mkv"])
async def test_av1_opus_and_aac_without_a_description_get_a_codec_private(
    name: str, tmp_path: Path
) -> None:
    """As from browser encoders, which give no description for AV1 (and maybe Opus, AAC)."""
    source = make(name, *(AV1_ARGS if name == "av1.webm" else CASES[name][1]))
    demuxer = MatroskaDemuxer(await Reader.open(FileSource(source)))
    await demuxer.open()
    packets = [packet async for packet in demuxer.packets()]
    for track in demuxer.tracks:
        if track.codec in ("av1", "opus", "aac"):
            track.description = None
    # With no OpusHead there is no pre-skip: shift to 0 as the pipeline's interleaver does.
    shift = min(0, *(p.pts for p in packets))
    for packet in packets:
        packet.pts -= shift
        packet.dts -= shift
    muxer_type = WebmMuxer if name.endswith(".webm") else MkvMuxer
    out = await remux_packets(demuxer.tracks, packets, muxer_type, tmp_path / name)
    assert ffprobe_warnings(out) == ""
    assert decode_errors(out) == ""
    assert stream_hashes(out) == stream_hashes(source)


def test_h264_without_its_avcc_is_refused() -> None:
    track = VideoTrack(id=1, codec="h264", codec_string="avc1.64001f", timescale=1000, width=2,
                       height=2)  # fmt: skip
    with pytest.raises(UnsupportedError, match="needs its decoder description"):
        MkvMuxer(MemorySink()).add_track(track)


@pytest.mark.parametrize(("name", "container"), [("vp8_opus.webm", "mkv"), ("h264_aac.mkv", "mkv")])
async def test_convert_media_copies_matroska_through_our_reader_and_writer(
    name: str, container: str, tmp_path: Path
) -> None:
    from pywebcodecs import convert_media

    source = make(name, *CASES[name][1])
    sink = MemorySink()
    await convert_media(source, container, sink=sink)
    out = tmp_path / f"out.{container}"
    out.write_bytes(sink.getvalue())
    assert stream_hashes(out) == stream_hashes(source)
    assert ffprobe_warnings(out) == ""
    assert decode_errors(out) == ""


@pytest.mark.parametrize(("rotation", "ffprobe_rotation"), [(90, -90), (180, -180), (270, 90)])
async def test_rotation_is_written_as_projection_pose_roll(
    rotation: int, ffprobe_rotation: int, tmp_path: Path
) -> None:
    source = make("h264_aac.mkv", *CASES["h264_aac.mkv"][1])
    tracks, packets = pyav_media(source)
    assert isinstance(tracks[0], VideoTrack)
    tracks[0].rotation = rotation
    out = await remux_packets(tracks, packets, MkvMuxer, tmp_path / "rotated.mkv")
    side_data = ffprobe_streams(out)[0]["side_data_list"]
    assert [s["rotation"] for s in side_data if "rotation" in s] == [ffprobe_rotation]
    demuxer = MatroskaDemuxer(await Reader.open(FileSource(out)))
    await demuxer.open()
    assert isinstance(demuxer.tracks[0], VideoTrack)
    assert demuxer.tracks[0].rotation == rotation


async def test_packets_without_durations_still_give_the_full_duration(tmp_path: Path) -> None:
    source = make("vp8_opus.webm", *CASES["vp8_opus.webm"][1])
    tracks, packets = pyav_media(source)
    for packet in packets:
        packet.duration = 0
    out = await remux_packets(tracks, packets, WebmMuxer, tmp_path / "no_durations.webm")
    with_durations = await remux(source, WebmMuxer, tmp_path / "durations.webm")
    assert ffprobe_format(out)["duration"] == ffprobe_format(with_durations)["duration"]


#: 1.013 s: not a whole number of 20 ms Opus frames, so the last one is padded.
OPUS_1013MS = ("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=1.013",
               "-c:a", "libopus")  # fmt: skip


def discard_paddings(path: Path) -> list[int]:
    """Each audio packet's DiscardPadding in samples, as ffprobe reports it (0 without)."""
    packets = ffprobe_json(path, "-select_streams", "a:0", "-show_packets")["packets"]
    return [
        sum(int(side.get("discard_padding", 0)) for side in p.get("side_data_list", []))
        for p in packets
    ]


@pytest.mark.parametrize("container", ["webm", "mkv"])
@pytest.mark.parametrize("name", ["opus-1013ms.ogg", "opus-1013ms.webm"])
async def test_opus_end_padding_is_written_as_discard_padding(
    name: str, container: str, tmp_path: Path
) -> None:
    """Copied Opus keeps its true end: from Ogg, the last granule position; from ffmpeg's
    WebM, its DiscardPadding. ffmpeg then decodes exactly the source's samples, from 0."""
    from pywebcodecs import convert_media

    source = make(name, *OPUS_1013MS)
    sink = MemorySink()
    await convert_media(source, container, sink=sink)
    out = tmp_path / f"out.{container}"
    out.write_bytes(sink.getvalue())
    paddings = discard_paddings(out)
    assert paddings[-1] == 24 and not any(paddings[:-1])  # 51 frames - 312 pre-skip - 48624
    whole = AudioSpan(Fraction(0), Fraction(1013, 1000), 48_624)
    assert decoded_audio(out) == decoded_audio(source) == whole
    assert decode_errors(out) == ""


async def test_a_block_group_with_discard_padding_reads_back() -> None:
    """Our reader takes the DiscardPadding of our writer's BlockGroup off the duration."""
    head = b"OpusHead" + bytes([1, 2]) + (312).to_bytes(2, "little") + bytes(7)
    track = AudioTrack(id=1, codec="opus", codec_string="opus", description=head,
                       timescale=1_000_000, sample_rate=48_000, channels=2)  # fmt: skip
    sink = MemorySink()
    muxer = WebmMuxer(sink)
    muxer.add_track(track)
    frame = bytes([0xFC, 0xFF, 0xFE])  # one 20 ms CELT frame of silence
    await muxer.write_packet(1, Packet(1, -6_500, -6_500, 20_000, True, frame))
    await muxer.write_packet(1, Packet(1, 13_500, 13_500, 12_000, True, frame, 8_000_000))
    await muxer.finish()
    demuxer = MatroskaDemuxer(await Reader.open(BytesSource(sink.getvalue())))
    await demuxer.open()
    packets = [p async for p in demuxer.packets()]
    assert [(p.pts, p.duration, p.discard_padding) for p in packets] == [
        (-7, 20, 0), (13, 12, 8_000_000)]  # fmt: skip


async def test_b_frames_without_durations_end_one_frame_after_the_last(tmp_path: Path) -> None:
    """Without durations, a reference frame's pts gap spans the B-frames shown before it:
    taken as its length it ended the track two frames late (TS copies read 1.31 s for 1 s)."""
    source = make("h264-bframes-1s.mp4", "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=25:d=1",
                  "-c:v", "libx264", "-bf", "2", "-g", "25")  # fmt: skip
    tracks, packets = pyav_media(source)
    assert any(p.pts != p.dts for p in packets)  # B-frames indeed
    for packet in packets:
        packet.duration = 0
    out = await remux_packets(tracks, packets, MkvMuxer, tmp_path / "no_durations.mkv")
    assert float(ffprobe_format(out)["duration"]) == pytest.approx(1.0, abs=0.001)
