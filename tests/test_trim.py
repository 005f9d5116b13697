"""Copied packets cut to a trim window (pywebcodecs.trim) in CPython, and a copy-only
trim end to end, checked by ffprobe."""

import asyncio
import subprocess
from pathlib import Path

import pytest

from oracle import ffprobe_json, make
from pywebcodecs import convert_media
from pywebcodecs.frame_plan import TrimWindow
from pywebcodecs.sink import FileSink
from pywebcodecs.track import Packet
from pywebcodecs.trim import PacketTrim


def video(pts: int, key: bool = False, dts: int | None = None) -> Packet:
    return Packet(1, pts, pts if dts is None else dts, 1, key, b"")


def kept(trim: PacketTrim, packets: list[Packet]) -> list[int]:
    out = [p for packet in packets for p in trim.push(packet)] + trim.finish()
    return [p.pts for p in out]


def test_copied_video_starts_at_the_key_frame_before_the_start() -> None:
    # 1 frame per unit, key frames every 10: the window 15..25 needs the group from 10.
    packets = [video(i, key=i % 10 == 0) for i in range(40)]
    trim = PacketTrim(TrimWindow(15, 25), timescale=1, is_video=True)
    assert kept(trim, packets) == list(range(10 - 15, 25 - 15))


def test_copied_video_ends_at_the_last_packet_decoded_before_the_end() -> None:
    packets = [video(i, key=i == 0) for i in range(30)]
    assert kept(PacketTrim(TrimWindow(None, 12), 1, True), packets) == list(range(12))


def test_a_start_inside_the_last_group_keeps_it_when_the_input_ends() -> None:
    packets = [video(i, key=i % 10 == 0) for i in range(30)]
    assert kept(PacketTrim(TrimWindow(25, None), 1, True), packets) == list(range(-5, 5))


def test_copied_audio_is_cut_at_the_packet_boundary_nearest_each_end() -> None:
    packets = [Packet(2, i * 1024, i * 1024, 1024, True, b"") for i in range(100)]
    trim = PacketTrim(TrimWindow(1.0, 1.5), timescale=48000, is_video=False)
    out = kept(trim, packets)
    # 1.0 s = 46.875 packets: the nearest boundary is packet 47; 1.5 s = 70.3 → up to 70.
    assert out[0] == 47 * 1024 - 48000 and out[-1] == 69 * 1024 - 48000


def test_copy_trim_of_an_mp4_is_timed_from_its_start(tmp_path: Path) -> None:
    source = make(
        "trim-copy-source.mp4",
        "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30:duration=3",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=3",
        "-c:v", "libx264", "-g", "30", "-bf", "0", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-shortest",
    )  # fmt: skip
    output = tmp_path / "cut.mkv"
    result = asyncio.run(convert_media(str(source), "mkv", video_codec="copy",
                                       audio_codec="copy", trim=(1.0, 2.0),
                                       sink=FileSink(output)))  # fmt: skip
    assert [t.action for t in result.tracks] == ["copy", "copy"]
    frames = ffprobe_json(output, "-show_entries", "packet=pts_time,flags",
                          "-select_streams", "v")["packets"]  # fmt: skip
    assert float(frames[0]["pts_time"]) == pytest.approx(0, abs=0.001)
    assert frames[0]["flags"].startswith("K")
    assert len(frames) == 30  # the key frame at 1.0 s up to the last before 2.0 s


def test_the_lead_in_is_how_long_the_kept_frames_show_before_the_start() -> None:
    trim = PacketTrim(TrimWindow(14, None), timescale=1, is_video=True)
    kept(trim, [video(i, key=i % 10 == 0) for i in range(30)])
    assert trim.lead_in == 4


def test_copied_b_frame_video_ends_with_the_frames_shown_before_the_end() -> None:
    # Decode order I0 P3 B1 B2 P6 B4 B5 P9 B7 B8: the window ends at 5.
    order = [0, 3, 1, 2, 6, 4, 5, 9, 7, 8]
    packets = [video(pts, key=pts == 0, dts=dts - 1) for dts, pts in enumerate(order)]
    trim = PacketTrim(TrimWindow(None, 5), timescale=1, is_video=True)
    out = [p for packet in packets for p in trim.push(packet)] + trim.finish()
    # B4 needs P6 (shown after the end, so hidden); B5 and what follows are not kept.
    assert [p.pts for p in out] == [0, 3, 1, 2, 6, 4]
    assert [p.pts for p in out if p.hidden] == [6]


def ramp_source() -> Path:
    """10 fps, frame N has luma 8 N (its picture tells its input time), a key frame every
    second, B-frames, and AAC audio."""
    return make(
        "trim-ramp.mp4",
        "-f", "lavfi", "-i", "color=black:size=64x64:rate=10:duration=3,geq=lum=N*8:cb=128:cr=128",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=3",
        "-c:v", "libx264", "-g", "10", "-keyint_min", "10", "-sc_threshold", "0",
        "-x264-params", "bframes=2:b-adapt=0", "-qp", "4", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-shortest",
    )  # fmt: skip


def first_luma(path: Path) -> float:
    """The mean luma (full range) of the first frame ffmpeg shows."""
    gray = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-frames:v", "1", "-f", "rawvideo",
         "-pix_fmt", "gray", "-"], capture_output=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    return sum(gray) / len(gray)


def copy_trimmed(
    container: str, tmp_path: Path, fragmented: bool = False
) -> tuple[Path, list[float], float]:
    """The ramp copied with trim (1.4, 2.45): the output, the shown frames' times, and
    where its audio starts."""
    output = tmp_path / f"cut.{container}"
    copy = {"video_codec": "copy", "audio_codec": "copy", "fragmented": fragmented}
    sink = FileSink(output)
    asyncio.run(convert_media(str(ramp_source()), container, trim=(1.4, 2.45), sink=sink, **copy))
    sink.close()
    frames = ffprobe_json(output, "-show_entries", "frame=pts_time", "-select_streams", "v")
    audio = ffprobe_json(output, "-show_entries", "frame=pts_time", "-select_streams", "a")
    times = [float(f["pts_time"]) for f in frames["frames"]]
    return output, times, float(audio["frames"][0]["pts_time"])


AAC_FRAME = 1024 / 48000


def ramp_luma(frame: int) -> float:
    """ffmpeg's full-range gray for frame N of the ramp (luma 8 N, limited range)."""
    return (8 * frame - 16) * 255 / 219


def test_copied_video_in_mp4_plays_from_the_trims_start(tmp_path: Path) -> None:
    # The kept group starts at the key frame at 1.0 s; the edit list hides 1.0-1.3 s and
    # ends before the reference frame shown after 2.45 s.
    output, times, audio_start = copy_trimmed("mp4", tmp_path)
    assert times == pytest.approx([i / 10 for i in range(11)], abs=0.001)  # 1.4 .. 2.4 s
    assert first_luma(output) == pytest.approx(ramp_luma(14), abs=2)
    assert abs(audio_start) < AAC_FRAME


@pytest.mark.parametrize(("container", "fragmented"), [("mkv", False), ("mp4", True)])
def test_copied_video_elsewhere_starts_at_the_key_frame(
    container: str, fragmented: bool, tmp_path: Path
) -> None:
    # Matroska cannot hide the frames before the start (its block times cannot be
    # negative), nor can a fragmented MP4 (ffmpeg shows them at negative times): the key
    # frame at 1.0 s shows at 0, and the audio starts 0.4 s later.
    output, times, audio_start = copy_trimmed(container, tmp_path, fragmented)
    assert times[0] == pytest.approx(0, abs=0.001)
    assert first_luma(output) == pytest.approx(ramp_luma(10), abs=2)
    assert audio_start == pytest.approx(0.4, abs=AAC_FRAME)
    assert [t for t in times if t < 1.45 - 0.001][-1] == pytest.approx(1.4, abs=0.001)
