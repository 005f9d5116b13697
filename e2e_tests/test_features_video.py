"""Trim, crop, frame rate, quality, bitrate and key frames in real Chromium, each output
checked by ffprobe/ffmpeg (never by our reader). Inputs are short and made by ffmpeg."""

from __future__ import annotations

import itertools
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

from audio_span import decoded_audio, edited_audio
from media import summarize
from oracle import decode_errors, ffprobe_json, hd_720p_20s, make
from pywebcodecs_host.headless import HeadlessEngine

REPO = Path(__file__).resolve().parents[1]
FRAME = 1 / 30
AUDIO_FRAME = 1024 / 48000  # the input's AAC frame; the Opus output's is 20 ms


def h264_aac_3s() -> Path:
    """320x240, 30 fps, 3 s, H.264 with B-frames + AAC, key frames every second."""
    return make(
        "features-h264-aac-3s.mp4",
        "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30:duration=3",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=3",
        "-c:v", "libx264", "-g", "30", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
    )  # fmt: skip


def h264_aac_3s_no_b_frames() -> Path:
    """As :func:`h264_aac_3s` without B-frames: copied video ends at the last packet
    decoded before the trim's end, which with B-frames may show a few frames later."""
    return make(
        "features-h264-aac-3s-no-b.mp4",
        "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30:duration=3",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=3",
        "-c:v", "libx264", "-g", "30", "-bf", "0", "-pix_fmt", "yuv420p", "-c:a", "aac",
        "-shortest",
    )  # fmt: skip


def quadrants(pix_fmt: str = "yuv420p") -> Path:
    """320x240, 1 s: red top left, green top right, blue bottom left, white bottom right.
    H.264 in 4:2:0; VP9 (profile 1) in WebM for other chroma layouts, which the browser
    decodes into other frame formats (I422, I444)."""
    colour = "color=c={}:s=160x120:r=30:d=1"
    graph = (f"{colour.format('red')}[a];{colour.format('lime')}[b];{colour.format('blue')}[c];"
             f"{colour.format('white')}[d];[a][b]hstack[top];[c][d]hstack[bottom];"
             f"[top][bottom]vstack,format={pix_fmt}")  # fmt: skip
    if pix_fmt == "yuv420p":
        return make("quadrants.mp4", "-filter_complex", graph, "-c:v", "libx264", "-t", "1")
    return make(f"quadrants-{pix_fmt}.webm", "-filter_complex", graph, "-c:v", "libvpx-vp9",
                "-deadline", "realtime", "-t", "1")  # fmt: skip


def sixty_fps() -> Path:
    return make(
        "testsrc-60fps-2s.mp4",
        "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=60:duration=2",
        "-c:v", "libx264", "-pix_fmt", "yuv420p",
    )  # fmt: skip


def video_packets(path: Path) -> list[tuple[float, bool]]:
    """(pts seconds, is key) of every video packet, in presentation order."""
    packets = ffprobe_json(path, "-select_streams", "v:0", "-show_entries",
                           "packet=pts_time,flags")["packets"]  # fmt: skip
    return sorted((float(p["pts_time"]), p["flags"].startswith("K")) for p in packets)


def pixel(path: Path, x: int, y: int) -> tuple[int, int, int]:
    """The RGB colour ffmpeg decodes at (x, y) of the first frame."""
    result = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-vf", f"crop=2:2:{x}:{y}", "-frames:v", "1",
         "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True, check=True, timeout=60,
    )  # fmt: skip
    red, green, blue = result.stdout[:3]
    return red, green, blue


def assert_video_trimmed(output: Path, length: float) -> None:
    video = summarize(output)["video"]
    assert video.start == pytest.approx(0, abs=1e-3)
    assert video.end == pytest.approx(length, abs=FRAME + 1e-3)
    assert decode_errors(output) == ""


def test_trim_reencoded_cuts_frame_and_sample_exactly(engine: HeadlessEngine,
                                                      tmp_path: Path) -> None:  # fmt: skip
    output = tmp_path / "trim.webm"
    summary = engine.convert(h264_aac_3s(), output, container="webm", trim=[0.5, 2.0])
    assert summary["ok"], summary
    assert_video_trimmed(output, 1.5)
    # Opus: the audio ffmpeg decodes (pre-skip applied) starts and ends sample-exactly.
    audio = decoded_audio(output)
    assert float(audio.start) == pytest.approx(0, abs=0.001)
    assert float(audio.end) == pytest.approx(1.5, abs=0.001)
    assert len(video_packets(output)) == 45


def test_trim_copied_starts_at_a_key_frame(engine: HeadlessEngine, tmp_path: Path) -> None:
    output = tmp_path / "trim.mp4"
    summary = engine.convert(h264_aac_3s_no_b_frames(), output, container="mp4", video_codec="copy",
                             audio_codec="copy", trim={"start": 1.0, "end": 2.0})  # fmt: skip
    assert summary["ok"], summary
    assert [track["action"] for track in summary["tracks"]] == ["copy", "copy"]
    assert_video_trimmed(output, 1.0)
    # Copied AAC is cut at packet boundaries: within one of its frames at each end.
    start, end = edited_audio(output)
    assert float(start) == pytest.approx(0, abs=AUDIO_FRAME + 0.001)
    assert float(end) == pytest.approx(1.0, abs=AUDIO_FRAME + 0.001)
    assert video_packets(output)[0] == (pytest.approx(0, abs=0.001), True)


def test_crop_rotate_and_resize_in_one_pass(engine: HeadlessEngine, tmp_path: Path) -> None:
    output = tmp_path / "crop.webm"
    # The right half (green over white), turned clockwise (white left, green right), then
    # scaled to 120 pixels wide.
    summary = engine.convert(quadrants(), output, container="webm", crop=[160, 0, 160, 240],
                             rotate=90, resize=[120, None])  # fmt: skip
    assert summary["ok"], summary
    video = ffprobe_json(output, "-select_streams", "v:0", "-show_streams")["streams"][0]
    assert (video["width"], video["height"]) == (120, 80)
    left, right = pixel(output, 25, 40), pixel(output, 95, 40)
    assert min(left) > 200, left  # white
    assert right[1] > 180 and right[0] < 80 and right[2] < 80, right  # green


COLOURS = {"red": (255, 0, 0), "green": (0, 255, 0), "blue": (0, 0, 255), "white": (255, 255, 255)}


def colour_at(path: Path, x: int, y: int) -> str:
    """The name of the quadrant colour ffmpeg decodes at (x, y), checked to be near it."""
    rgb = pixel(path, x, y)
    name, distance = min(((name, math.dist(rgb, ref)) for name, ref in COLOURS.items()),
                         key=lambda item: item[1])  # fmt: skip
    assert distance < 80, (x, y, rgb)
    return name


def corners(path: Path) -> list[str]:
    """The colours a quarter of the way in from each corner: top left, top right, bottom
    left, bottom right."""
    video = ffprobe_json(path, "-select_streams", "v:0", "-show_streams")["streams"][0]
    width, height = video["width"], video["height"]
    return [colour_at(path, x, y) for y in (height // 4, height * 3 // 4)
            for x in (width // 4, width * 3 // 4)]  # fmt: skip


@pytest.mark.parametrize("crop", [[80, 60, 160, 120], [81, 61, 159, 119]])
def test_crop_alone_keeps_the_rectangle_asked(engine: HeadlessEngine, tmp_path: Path,
                                              crop: list[int]) -> None:  # fmt: skip
    """The middle of the quadrants, so each corner of the output is another colour; an odd
    rectangle lands on the 2x2 chroma grid (80, 60, 160, 120)."""
    output = tmp_path / "crop.webm"
    summary = engine.convert(quadrants(), output, container="webm", crop=crop)
    assert summary["ok"], summary
    video = ffprobe_json(output, "-select_streams", "v:0", "-show_streams")["streams"][0]
    assert (video["width"], video["height"]) == (160, 120)
    assert corners(output) == ["red", "green", "blue", "white"]
    assert decode_errors(output) == ""


@pytest.mark.parametrize(
    ("rotate", "size", "expected"),
    [(90, (240, 320), ["blue", "red", "white", "green"]),
     (180, (320, 240), ["white", "blue", "green", "red"]),
     (270, (240, 320), ["green", "white", "red", "blue"])],
)  # fmt: skip
def test_rotate_alone_turns_the_picture_clockwise(engine: HeadlessEngine, tmp_path: Path,
                                                  rotate: int, size: tuple[int, int],
                                                  expected: list[str]) -> None:  # fmt: skip
    output = tmp_path / "rotate.webm"
    summary = engine.convert(quadrants(), output, container="webm", rotate=rotate)
    assert summary["ok"], summary
    video = ffprobe_json(output, "-select_streams", "v:0", "-show_streams")["streams"][0]
    assert (video["width"], video["height"]) == size
    assert corners(output) == expected
    assert decode_errors(output) == ""


@pytest.mark.parametrize(
    ("pix_fmt", "crop"),
    [("yuv422p", [80, 60, 160, 120]), ("yuv444p", [80, 60, 160, 120]),
     ("yuv420p", [82, 62, 156, 116])],
)  # fmt: skip
def test_crop_and_rotate_other_frame_shapes(engine: HeadlessEngine, tmp_path: Path,
                                            pix_fmt: str, crop: list[int]) -> None:  # fmt: skip
    """About the middle of the quadrants turned clockwise, from frames in other chroma
    layouts, and from 4:2:0 with chroma planes 78x58 (not a multiple of 4 pixels)."""
    output = tmp_path / "rotate.webm"
    summary = engine.convert(quadrants(pix_fmt), output, container="webm", rotate=90,
                             crop=crop)  # fmt: skip
    assert summary["ok"], summary
    video = ffprobe_json(output, "-select_streams", "v:0", "-show_streams")["streams"][0]
    assert (video["width"], video["height"]) == (crop[3], crop[2])
    assert corners(output) == ["blue", "red", "white", "green"]
    assert decode_errors(output) == ""


def psnr(output: Path, reference: Path, reference_filter: str) -> float:
    """ffmpeg's average PSNR (dB) of ``output`` against ``reference`` passed through
    ``reference_filter``, frame by frame."""
    result = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "info", "-i", str(output), "-i", str(reference),
         "-lavfi", f"[1:v]{reference_filter}[ref];[0:v][ref]psnr", "-f", "null", "-"],
        capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    match = re.search(r"PSNR .* average:([\d.]+|inf)", result.stderr)
    assert match, result.stderr
    return float(match.group(1))


@pytest.mark.parametrize(("rotate", "transpose"), [(90, "clock"), (270, "cclock")])
def test_rotated_frames_match_ffmpegs_transpose(engine: HeadlessEngine, tmp_path: Path,
                                                rotate: int, transpose: str) -> None:  # fmt: skip
    """Every frame of a detailed picture (a misplaced row or block would cost far more than
    the encoder's loss), none dropped."""
    output = tmp_path / "rotate.webm"
    summary = engine.convert(h264_aac_3s(), output, container="webm", rotate=rotate,
                             audio_codec="drop", video_bitrate=2_000_000)  # fmt: skip
    assert summary["ok"], summary
    assert len(video_packets(output)) == 90
    # No rotation at all measures 29.4 dB here, the wrong way round 6 dB.
    assert psnr(output, h264_aac_3s(), f"transpose={transpose}") > 20


def test_60_to_30_fps_halves_the_frames_at_constant_intervals(engine: HeadlessEngine,
                                                             tmp_path: Path) -> None:  # fmt: skip
    output = tmp_path / "30fps.webm"
    summary = engine.convert(sixty_fps(), output, container="webm", frame_rate=30,
                             keyframe_interval=0.5)  # fmt: skip
    assert summary["ok"], summary
    packets = video_packets(output)
    assert len(packets) == 60
    times = [time for time, _ in packets]
    # WebM stores whole milliseconds: 33 or 34 ms apart.
    assert all(0.032 <= b - a <= 0.035 for a, b in itertools.pairwise(times))
    keys = [time for time, key in packets if key]
    assert keys == pytest.approx([0, 0.5, 1.0, 1.5], abs=0.001)


def test_quality_orders_the_output_sizes(engine: HeadlessEngine, tmp_path: Path) -> None:
    sizes = {}
    for quality in ("low", "high"):
        output = tmp_path / f"{quality}.webm"
        summary = engine.convert(h264_aac_3s(), output, container="webm", quality=quality,
                                 audio_codec="drop")  # fmt: skip
        assert summary["ok"], summary
        assert decode_errors(output) == ""
        sizes[quality] = output.stat().st_size
    assert sizes["low"] * 1.5 < sizes["high"], sizes


def test_video_bitrate_is_met_within_a_quarter(engine: HeadlessEngine, tmp_path: Path) -> None:
    """5 s of 720p at 1 Mb/s: long enough for the encoder's rate control to settle."""
    output = tmp_path / "1mbps.webm"
    summary = engine.convert(hd_720p_20s(), output, container="webm", video_codec="vp8",
                             audio_codec="drop", trim=[0, 5], video_bitrate=1_000_000)  # fmt: skip
    assert summary["ok"], summary
    packets = ffprobe_json(output, "-select_streams", "v:0", "-show_entries",
                           "packet=size")["packets"]  # fmt: skip
    bits = sum(int(p["size"]) for p in packets) * 8
    assert bits / 5 == pytest.approx(1_000_000, rel=0.25)


def test_terminal_flags_reach_the_engine(tmp_path: Path) -> None:
    output = tmp_path / "flags.webm"
    result = subprocess.run(
        [sys.executable, "-m", "pywebcodecs_host.cli", "convert", str(h264_aac_3s()),
         str(output), "--start", "0.5", "--end", "2.5", "--crop", "0,0,160,120",
         "--resize", "80x", "--fps", "15", "--quality", "low", "--keyframe-interval", "1",
         "--audio-bitrate", "32000", "--json"],
        capture_output=True, text=True, timeout=600, cwd=REPO,
    )  # fmt: skip
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert result.returncode == 0 and summary["ok"], result.stderr
    video = ffprobe_json(output, "-select_streams", "v:0", "-show_streams")["streams"][0]
    assert (video["width"], video["height"]) == (80, 60)
    packets = video_packets(output)
    assert len(packets) == 30  # 2 s at 15 fps
    assert [time for time, key in packets if key] == pytest.approx([0, 1], abs=0.001)
    audio = decoded_audio(output)
    assert float(audio.end) == pytest.approx(2.0, abs=0.001)
