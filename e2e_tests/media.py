"""What the e2e tests check in an output file, measured by ffprobe (not by our code)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from oracle import ffprobe_json, ffprobe_streams


@dataclass
class StreamSummary:
    codec: str
    packets: int
    start: float  # seconds: the earliest pts
    end: float  # seconds: the latest pts + duration


def summarize(path: Path) -> dict[str, StreamSummary]:
    """Per stream kind ('video', 'audio'): codec, packet count and time span.

    A file with two streams of one kind, or a stream with no timestamped packet, fails here
    rather than being summarized as something it is not."""
    streams = {s["index"]: s for s in ffprobe_streams(path)}
    packets = ffprobe_json(
        path, "-show_packets", "-show_entries", "packet=stream_index,pts,dts,duration"
    )["packets"]
    summary: dict[str, StreamSummary] = {}
    for index, stream in streams.items():
        base = Fraction(stream["time_base"])
        mine = [p for p in packets if p["stream_index"] == index]
        # AVI packets carry only a dts.
        times = [(p.get("pts", p.get("dts")), p.get("duration", 0)) for p in mine]
        timed = [
            (pts * base, (pts + duration) * base) for pts, duration in times if pts is not None
        ]
        kind = stream["codec_type"]
        assert kind not in summary, f"{path.name}: more than one {kind} stream"
        assert timed, f"{path.name}: stream {index} has no timestamped packet"
        summary[kind] = StreamSummary(
            codec=stream["codec_name"],
            packets=len(mine),
            start=float(min(start for start, _ in timed)),
            end=float(max(end for _, end in timed)),
        )
    return summary


def frame_interval(path: Path) -> float:
    """Seconds per video frame of the first video stream (from its average frame rate)."""
    video = next(s for s in ffprobe_streams(path) if s["codec_type"] == "video")
    return float(1 / Fraction(video["avg_frame_rate"]))
