"""A short H.264 + AAC clip as users bring it, and ffprobe's check of what it became.

Shared by the tests that convert with options left out (terminal, README, JS entries):
each output must keep every track, under a codec its container can hold, over the same
time as the input (within one video frame, one audio frame).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from media import frame_interval, summarize
from oracle import decode_errors, make

# What each container's default ("automatic") codecs may be.
VIDEO_CODECS = {"webm": {"vp8", "vp9", "av1"}, "mp4": {"h264"}, "mkv": {"h264"}}
AUDIO_CODECS = {"webm": {"opus"}, "mp4": {"aac"}, "mkv": {"aac"}}


def h264_aac_clip(size: str = "320x240", seconds: int = 2) -> Path:
    """``seconds`` (2) at ``size`` (320x240), 30 fps H.264 with 48 kHz stereo AAC, as plain
    ffmpeg makes an MP4."""
    return make(
        f"h264-aac-{size}-{seconds}s.mp4",
        "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=30:duration={seconds}",
        "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:duration={seconds}",
        "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-ac", "2", "-shortest",
    )  # fmt: skip


def audio_frame(path: Path) -> float:
    """Seconds of one audio packet (the codec's frame) of the audio stream."""
    span = summarize(path)["audio"]
    return (span.end - span.start) / span.packets


def assert_converted(source: Path, output: Path, container: str,
                     video: str | None = None, audio: str | None = None) -> None:  # fmt: skip
    """``output`` holds ``source``'s video and audio (as ``video``/``audio`` when given, else
    as a codec ``container`` holds), the same frames, the same time span, and decodes."""
    before, after = summarize(source), summarize(output)
    assert set(after) == {"video", "audio"}, after
    assert after["video"].codec in ({video} if video else VIDEO_CODECS[container])
    assert after["audio"].codec in ({audio} if audio else AUDIO_CODECS[container])
    assert after["video"].packets == before["video"].packets
    span = {kind: s.end - s.start for kind, s in before.items()}
    got = {kind: s.end - s.start for kind, s in after.items()}
    assert got["video"] == pytest.approx(span["video"], abs=frame_interval(source))
    tolerance = max(audio_frame(source), audio_frame(output))
    assert got["audio"] == pytest.approx(span["audio"], abs=tolerance)
    assert decode_errors(output) == ""
