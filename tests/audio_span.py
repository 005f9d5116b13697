"""Where a file's audio starts and ends, measured by ffmpeg (never by our reader).

Two views, because players apply an encoder's padding in two ways. Matroska's
DiscardPadding and Ogg's last granule reach the decoder, so counting the samples ffmpeg
decodes (after the Opus pre-skip) says where the audio ends. An MP4 says it in the edit
list and the last sample's duration, which ffmpeg's decoder (5.1) does not apply but
ffprobe's stream start and duration do.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from oracle import ffprobe_json


@dataclass(frozen=True)
class AudioSpan:
    start: Fraction  # seconds
    end: Fraction
    samples: int  # per channel


def decoded_audio(path: Path) -> AudioSpan:
    """The first audio stream as ffmpeg decodes it: the first frame's time, then every
    decoded sample (pre-skip and DiscardPadding applied)."""
    probe = ffprobe_json(path, "-select_streams", "a:0", "-show_streams", "-show_frames",
                         "-show_entries", "frame=pts,nb_samples")  # fmt: skip
    stream = probe["streams"][0]
    frames = probe["frames"]
    start = frames[0]["pts"] * Fraction(stream["time_base"])
    samples = sum(int(frame["nb_samples"]) for frame in frames)
    return AudioSpan(start, start + Fraction(samples, int(stream["sample_rate"])), samples)


def edited_audio(path: Path) -> tuple[Fraction, Fraction]:
    """The first audio stream's (start, end) as ffprobe reads the container's timeline
    (the MP4 edit list): start_time, and start_time + duration."""
    stream = ffprobe_json(path, "-select_streams", "a:0", "-show_streams")["streams"][0]
    start = Fraction(stream["start_time"])
    return start, start + Fraction(stream["duration"])
