"""Metadata and progress of a re-encode in real Chromium: an anamorphic picture keeps its
shape on screen, tags go along, and progress reports frames while the run goes on (in the
engine and in the terminal's progress line). Outputs are checked by ffprobe."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from oracle import ffprobe_json, make
from pywebcodecs_host.headless import HeadlessEngine

REPO = Path(__file__).resolve().parents[1]


def anamorphic_clip() -> Path:
    """8 s of 960x720 H.264 whose pixels are 4:3 wide (a 16:9 picture), with AAC and tags:
    long enough that re-encoding spans several progress reports even on an idle machine."""
    return make(
        "anamorphic-8s-960.mp4",
        "-f", "lavfi", "-i", "testsrc2=size=960x720:rate=25:duration=8",
        "-f", "lavfi", "-i", "sine=duration=8",
        "-vf", "setsar=4/3", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-metadata", "title=Wide", "-metadata", "artist=Someone",
    )  # fmt: skip


def shown_aspect(path: Path) -> tuple[str, str]:
    video = next(s for s in ffprobe_json(path, "-show_streams")["streams"]
                 if s["codec_type"] == "video")  # fmt: skip
    return video["sample_aspect_ratio"], video["display_aspect_ratio"]


def test_reencoded_video_keeps_pixel_aspect_and_progress_counts_frames(
    engine: HeadlessEngine, tmp_path: Path
) -> None:
    source = anamorphic_clip()
    output = tmp_path / "wide.webm"
    reports: list[dict[str, Any]] = []
    engine.on_progress = reports.append
    try:
        summary = engine.convert(source, output, container="webm", video_codec="vp8")
    finally:
        engine.on_progress = None
    assert summary["ok"], summary
    assert shown_aspect(source) == ("4:3", "16:9")
    assert shown_aspect(output) == ("4:3", "16:9")
    tags = ffprobe_json(output, "-show_format")["format"]["tags"]
    assert (tags.get("title"), tags.get("ARTIST")) == ("Wide", "Someone")
    during = [r for r in reports if not r["done"]]
    assert len([r for r in during if r["video_frames"] > 0]) >= 3, during
    frames = [r["video_frames"] for r in reports]
    assert frames == sorted(frames) and reports[-1]["done"]
    assert reports[-1]["video_frames"] == summary["video_frames"] == 200
    assert all(r["rate"] > 0 for r in during if r["video_frames"] > 0)


def test_terminal_progress_line_shows_frames_before_the_end(tmp_path: Path) -> None:
    output = tmp_path / "wide.webm"
    result = subprocess.run(
        [sys.executable, "-m", "pywebcodecs_host.cli", "convert", str(anamorphic_clip()),
         str(output), "--video-codec", "vp8"],
        capture_output=True, text=True, timeout=600, cwd=REPO,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    # The line is rewritten in place with \r (which text mode reads as a line break).
    lines = [line.strip() for line in result.stderr.splitlines() if "%" in line]
    before_end = [line for line in lines if "100.0%" not in line]
    counts = [int(line.split("%")[1].split()[0]) for line in before_end]
    assert any(count > 0 for count in counts), lines
    assert any("x" in line.split("frames")[1] and "left" in line for line in before_end), lines
