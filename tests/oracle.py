"""The independent oracle for tests: ffmpeg makes inputs, ffprobe says what a file holds.

Generated media is cached per test session in one folder so that many tests can share a
file that took a second to encode.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: Real media from the Mediabunny test suite (MPL-2.0), kept in the repository so a clone
#: alone runs every test; see its README.md for provenance and contents.
FIXTURES = REPO / "tests" / "data" / "fixtures"
_CACHE = Path(os.environ.get("PYWEBCODECS_MEDIA_CACHE") or tempfile.mkdtemp(prefix="pwc-media-"))


def ffmpeg(*args: str | os.PathLike[str]) -> None:
    """Run ffmpeg quietly; a failure shows its stderr."""
    cmd = ["ffmpeg", "-nostdin", "-y", "-hide_banner", "-loglevel", "error", *map(str, args)]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}\n{result.stderr}")


def make(name: str, *args: str) -> Path:
    """``ffmpeg *args OUTPUT`` into the session cache, once per name; returns OUTPUT."""
    out = _CACHE / name
    if not out.exists():
        partial = out.with_name("partial-" + name)
        ffmpeg(*args, partial)
        partial.rename(out)
    return out


def hd_720p_20s() -> Path:
    """1280x720, 30 fps, 20 s, H.264 High with B-frames + AAC with priming, as plain ffmpeg
    makes it: the e2e tests' and the benchmark's main input."""
    return make(
        "720p30-20s.mp4",
        "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30:duration=20",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=20",
        "-c:v", "libx264", "-profile:v", "high", "-preset", "veryfast", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "128k", "-ac", "2", "-shortest",
    )  # fmt: skip


def ffprobe_json(path: str | os.PathLike[str], *args: str) -> dict:
    cmd = ["ffprobe", "-v", "error", "-of", "json", *args, str(path)]
    result = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def ffprobe_streams(path: str | os.PathLike[str]) -> list[dict]:
    return ffprobe_json(path, "-show_streams")["streams"]


def ffprobe_format(path: str | os.PathLike[str]) -> dict:
    return ffprobe_json(path, "-show_format")["format"]


@dataclass(frozen=True)
class ProbePacket:
    stream_index: int
    pts: int | None
    dts: int | None
    size: int
    is_key: bool


def ffprobe_packets(path: str | os.PathLike[str]) -> list[ProbePacket]:
    """Every packet as ffprobe demuxes it, in file order (timestamps in stream time_base)."""
    packets = ffprobe_json(
        path, "-show_packets", "-show_entries", "packet=stream_index,pts,dts,size,flags"
    )["packets"]
    return [
        ProbePacket(
            stream_index=p["stream_index"],
            pts=p.get("pts"),
            dts=p.get("dts"),
            size=int(p["size"]),
            is_key="K" in p.get("flags", ""),
        )
        for p in packets
    ]


def ffprobe_data_hashes(path: str | os.PathLike[str]) -> list[tuple[int, str]]:
    """(stream index, MD5 of the data) of every packet as ffprobe demuxes it, in file order;
    the hash reads like ``md5_hash`` makes it."""
    packets = ffprobe_json(
        path, "-show_packets", "-show_data_hash", "MD5",
        "-show_entries", "packet=stream_index,data_hash",
    )["packets"]  # fmt: skip
    return [(p["stream_index"], p["data_hash"]) for p in packets]


def md5_hash(data: bytes) -> str:
    return "MD5:" + hashlib.md5(data).hexdigest()


def ffprobe_skipped_samples(path: str | os.PathLike[str]) -> dict[int, int]:
    """Per stream index, the samples a decoder drops at the start (Opus pre-skip), as ffmpeg
    marks them on packets in their "Skip Samples" side data; 0 for streams that skip none."""
    packets = ffprobe_json(
        path, "-show_packets", "-show_entries", "packet=stream_index:packet_side_data=skip_samples"
    )["packets"]
    skipped: dict[int, int] = {}
    for packet in packets:
        skip = sum(int(s.get("skip_samples", 0)) for s in packet.get("side_data_list", []))
        skipped[packet["stream_index"]] = skipped.get(packet["stream_index"], 0) + skip
    return skipped


def decode_errors(path: str | os.PathLike[str]) -> str:
    """ffmpeg decodes the whole file; returns what it printed as errors ('' when clean)."""
    cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-i", str(path), "-f", "null", "-"]
    result = subprocess.run(cmd, capture_output=True, text=True)
    return (
        result.stderr.strip()
        if result.returncode == 0
        else f"exit {result.returncode}: {result.stderr}"
    )


def stream_hashes(path: str | os.PathLike[str]) -> list[str]:
    """``ffmpeg -c copy -f streamhash``: one hash of the packet data per stream."""
    cmd = [
        "ffmpeg",
        "-nostdin",
        "-v",
        "error",
        "-i",
        str(path),
        "-map",
        "0",
        "-c",
        "copy",
        "-f",
        "streamhash",
        "-hash",
        "md5",
        "-",
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return [
        line.split(",", 2)[2] for line in result.stdout.splitlines() if line and line[0].isdigit()
    ]


def libvpx_decoded(path: str | os.PathLike[str], codec: str, *, alpha_only: bool = False) -> bytes:
    """VP8/VP9 frames as ffmpeg's libvpx decoders make them (its native ones ignore a WebM
    alpha channel): raw yuva420p, or only the alpha plane."""
    decoder = {"vp8": "libvpx", "vp9": "libvpx-vp9"}[codec]
    plane = ["-vf", "alphaextract", "-pix_fmt", "gray"]
    picture = plane if alpha_only else ["-pix_fmt", "yuva420p"]
    command = ["ffmpeg", "-nostdin", "-v", "error", "-c:v", decoder, "-i", str(path),
               *picture, "-f", "rawvideo", "-"]  # fmt: skip
    return subprocess.run(command, capture_output=True, timeout=60, check=True).stdout
