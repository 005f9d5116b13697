"""convert_media in CPython: copying between containers, per-track choices, progress,
abort and the errors a user sees; outputs checked by ffprobe/ffmpeg."""

from __future__ import annotations

from pathlib import Path

import pytest

from oracle import FIXTURES, decode_errors, ffprobe_packets, ffprobe_streams, make, stream_hashes
from pywebcodecs import (
    ConversionAborted,
    ConversionProgress,
    FormatError,
    PyWebCodecsError,
    UnsupportedError,
    convert_media,
    parse_media,
)
from pywebcodecs.sink import FileSink
from pywebcodecs.track import Track


async def copy_to(src: Path, out: Path, container: str, **options: object) -> object:
    sink = FileSink(out)
    try:
        return await convert_media(str(src), container, sink=sink, **options)
    finally:
        sink.close()


async def test_mp4_to_mkv_copies_every_packet(tmp_path: Path) -> None:
    out = tmp_path / "video.mkv"
    result = await copy_to(FIXTURES / "video.mp4", out, "mkv")
    assert [(p.action, p.output_codec) for p in result.tracks] == [
        ("copy", "h264"),
        ("copy", "aac"),
    ]
    assert stream_hashes(out) == stream_hashes(FIXTURES / "video.mp4")
    assert decode_errors(out) == ""
    assert result.progress.video_frames == 125 and result.progress.done


async def test_aac_priming_is_kept_in_sync_when_copying(tmp_path: Path) -> None:
    """The edit list's negative start is moved to 0 with the video: both shift together."""
    out = tmp_path / "edts.mkv"
    await copy_to(FIXTURES / "edts.mp4", out, "mkv")
    first = {}
    for packet in ffprobe_packets(out):
        first.setdefault(packet.stream_index, packet.pts)
    assert min(first.values()) == 0
    source_first = {}
    for packet in ffprobe_packets(FIXTURES / "edts.mp4"):
        source_first.setdefault(packet.stream_index, packet.pts)
    # Audio leads video by its priming in the source (-2112/44100 s), and still does.
    assert source_first[1] == -2112 and source_first[0] == 0
    assert first[1] == 0 and first[0] == round(2112 / 44100 * 1000)  # ms, as Matroska stores


async def test_track_callbacks_choose_per_track(tmp_path: Path) -> None:
    seen: list[str] = []

    def on_audio_track(track: Track) -> str:
        seen.append(track.codec)
        return "drop"

    out = tmp_path / "video-only.mkv"
    result = await copy_to(FIXTURES / "video.mp4", out, "mkv", on_audio_track=on_audio_track)
    assert seen == ["aac"]
    assert [s["codec_type"] for s in ffprobe_streams(out)] == ["video"]
    assert result.progress.audio_frames == 0


def long_webm() -> Path:
    return make("copy-long.webm", "-f", "lavfi", "-i",
                "testsrc2=size=320x240:rate=30:duration=20", "-c:v", "libvpx",
                "-deadline", "realtime", "-cpu-used", "8")  # fmt: skip


async def test_progress_is_reported_and_ends_at_one(tmp_path: Path) -> None:
    reports: list[ConversionProgress] = []
    await copy_to(long_webm(), tmp_path / "out.webm", "webm", on_progress=reports.append)
    assert reports[-1].done and reports[-1].fraction == 1.0
    assert reports[-1].video_frames == 600
    fractions = [r.fraction for r in reports]
    assert fractions == sorted(fractions)


async def test_an_abort_signal_stops_the_conversion(tmp_path: Path) -> None:
    class Signal:
        """Like an AbortSignal whose abort() is called after the 100th packet."""

        checks = 0

        @property
        def aborted(self) -> bool:
            self.checks += 1
            return self.checks > 100

    with pytest.raises(ConversionAborted):
        await copy_to(long_webm(), tmp_path / "out.webm", "webm", signal=Signal())


async def test_copy_into_a_container_that_cannot_hold_the_codec(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedError, match="a WEBM file cannot hold h264"):
        await copy_to(FIXTURES / "video.mp4", tmp_path / "out.webm", "webm", video_codec="copy")


async def test_reencoding_outside_the_browser_says_why(tmp_path: Path) -> None:
    with pytest.raises(PyWebCodecsError, match="needs the browser's WebCodecs"):
        await copy_to(FIXTURES / "video.mp4", tmp_path / "out.webm", "webm")


async def test_unknown_containers_and_garbage_are_named(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedError, match="unknown output container 'avi'"):
        await copy_to(FIXTURES / "video.mp4", tmp_path / "out.avi", "avi")
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(b"hello, not media" * 100)
    with pytest.raises(FormatError, match=r"garbage\.bin: at byte 0: not a media file"):
        await copy_to(garbage, tmp_path / "out.mkv", "mkv")


@pytest.mark.parametrize(
    ("name", "args", "container"),
    [
        ("detect.opus", ["-c:a", "libopus"], "ogg"),
        ("detect.oga", ["-c:a", "flac"], "ogg"),
        ("detect.flac", ["-c:a", "flac"], "flac"),
        ("detect.wav", ["-c:a", "pcm_s16le"], "wav"),
        ("detect.mp3", ["-c:a", "libmp3lame"], "mp3"),
        ("detect.aac", ["-c:a", "aac", "-f", "adts"], "aac"),
        ("detect.ts", ["-c:a", "aac", "-f", "mpegts"], "mpegts"),
    ],
)
async def test_every_format_is_detected_by_content(tmp_path: Path, name: str, args: list[str],
                                                   container: str) -> None:  # fmt: skip
    """Detection ignores the file name: each file is opened under a name that lies."""
    source = make(name, "-f", "lavfi", "-i", "sine=duration=1", *args)
    disguised = tmp_path / "clip.mp4"
    disguised.write_bytes(source.read_bytes())
    info = await parse_media(str(disguised))
    assert info.container == container
    assert [t.kind for t in info.tracks] == ["audio"]
    assert info.tracks[0].packet_count == len(ffprobe_packets(source))


CLIP = ["-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10:duration=1",
        "-f", "lavfi", "-i", "sine=duration=1", "-c:v", "libx264", "-c:a", "aac"]  # fmt: skip


def header_only(name: str, *args: str, end: bytes) -> bytes:
    """The start of an ffmpeg-made file up to ``end`` (the first media data's header)."""
    data = make(name, *args).read_bytes()
    return data[: data.index(end)]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("init-segment.mp4", lambda: header_only("empty-frag.mp4", *CLIP, "-movflags",
                                                "frag_keyframe+empty_moov", end=b"moof")),
        ("no-clusters.mkv", lambda: header_only("empty.mkv", *CLIP, end=b"\x1f\x43\xb6\x75")),
        ("no-samples.wav", lambda: header_only("empty.wav", "-f", "lavfi", "-i",
                                               "sine=duration=1", end=b"data")
                                   + b"data" + bytes(4)),
    ],
)  # fmt: skip
async def test_an_input_with_headers_and_no_packets_is_an_error(
    tmp_path: Path, name: str, data: object
) -> None:
    """Such a file used to "convert" into an MKV without a Cluster (ffprobe cannot open it)
    or an MP4 without samples."""
    source = tmp_path / name
    source.write_bytes(data())  # type: ignore[operator]
    container = "wav" if name.endswith(".wav") else "mkv"
    with pytest.raises(FormatError, match=rf"{name}: no media data in track 1 \("):
        await copy_to(source, tmp_path / f"out.{container}", container)


async def test_a_kept_track_without_packets_is_named(tmp_path: Path) -> None:
    source = make("audio-empty.mkv", *CLIP, "-af", "atrim=end_sample=0")
    with pytest.raises(FormatError, match=r"no media data in track 2 \(aac\).*drop the track"):
        await copy_to(source, tmp_path / "out.mkv", "mkv")
    result = await copy_to(source, tmp_path / "out.mkv", "mkv", audio_codec="drop")
    assert result.progress.video_frames == 10
    assert decode_errors(tmp_path / "out.mkv") == ""


async def test_flac_without_streaminfo_first_is_not_written_into_mp4(tmp_path: Path) -> None:
    """A damaged CodecPrivate whose first block is no STREAMINFO: an MP4 reader refuses
    such a dfLa, so the writer does too (the copy fuzz found the unreadable output)."""
    data = bytearray(make("flac-video.mkv", *CLIP[:-2], "-c:a", "flac").read_bytes())
    data[data.index(b"fLaC") + 4] = 0x04  # block type 4: VORBIS_COMMENT
    source = tmp_path / "no-streaminfo.mkv"
    source.write_bytes(data)
    with pytest.raises(UnsupportedError, match="FLAC in MP4 needs the fLaC header and STREAMINFO"):
        await copy_to(source, tmp_path / "out.mp4", "mp4")


@pytest.mark.parametrize("name", ["missing.mp4", "a-folder", "nul\0.mp4"])
async def test_an_input_path_that_cannot_be_opened_is_named(tmp_path: Path, name: str) -> None:
    (tmp_path / "a-folder").mkdir()
    with pytest.raises(PyWebCodecsError, match=r"cannot open the input: "):
        await convert_media(str(tmp_path / name), "mkv")


async def test_variable_frame_rate_video_gets_no_default_duration(tmp_path: Path) -> None:
    """A frame rate that is only an average (frames 0.1 s and 0.3 s apart) must not become
    Matroska's DefaultDuration: ffmpeg would time every frame by it. A constant one does."""
    vfr = make("vfr.mp4", *CLIP[:4], "-vf", "select='lt(mod(n\\,4)\\,2)'", "-fps_mode", "vfr",
               "-c:v", "libx264")  # fmt: skip
    cfr = make("cfr.mp4", *CLIP[:4], "-c:v", "libx264")
    for source, rate in ((vfr, None), (cfr, "10/1")):
        out = tmp_path / f"{source.stem}.mkv"
        await copy_to(source, out, "mkv")
        assert decode_errors(out) == ""
        (stream,) = ffprobe_streams(out)
        assert rate is None or stream["r_frame_rate"] == rate
        assert (b"\x23\xe3\x83" in out.read_bytes()) == (rate is not None)  # DefaultDuration


async def test_an_unexpected_failure_still_leaves_as_a_pywebcodecs_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The safety net under the fixed causes: a struct.error deep in a writer (as the fuzz
    found in the tkhd) reaches the caller as the engine's error, naming the file."""
    import struct

    from pywebcodecs.matroska.muxer import MatroskaMuxer

    async def broken(*args: object) -> None:
        raise struct.error("'I' format requires 0 <= number <= 4294967295")

    monkeypatch.setattr(MatroskaMuxer, "write_packet", broken)
    with pytest.raises(PyWebCodecsError, match=r"^video\.mp4: .*\(error: 'I' format") as info:
        await copy_to(FIXTURES / "video.mp4", tmp_path / "out.mkv", "mkv")
    assert isinstance(info.value.__cause__, struct.error)
