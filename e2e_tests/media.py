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
    """Per stream kind ('video', 'audio'): codec, packet count and time span."""
    streams = {s["index"]: s for s in ffprobe_streams(path)}
    packets = ffprobe_json(
        path, "-show_packets", "-show_entries", "packet=stream_index,pts,dts,duration"
    )["packets"]
    for packet in packets:  # AVI packets carry only a dts
        packet.setdefault("pts", packet.get("dts"))
    summary: dict[str, StreamSummary] = {}
    for index, stream in streams.items():
        base = Fraction(stream["time_base"])
        mine = [p for p in packets if p["stream_index"] == index and p["pts"] is not None]
        starts = [p["pts"] * base for p in mine]
        ends = [(p["pts"] + p.get("duration", 0)) * base for p in mine]
        summary[stream["codec_type"]] = StreamSummary(
            codec=stream["codec_name"],
            packets=len(mine),
            start=float(min(starts, default=0)),
            end=float(max(ends, default=0)),
        )
    return summary


def frame_interval(path: Path) -> float:
    """Seconds per video frame of the first video stream (from its average frame rate)."""
    video = next(s for s in ffprobe_streams(path) if s["codec_type"] == "video")
    return float(1 / Fraction(video["avg_frame_rate"]))
