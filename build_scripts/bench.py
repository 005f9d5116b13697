"""Benchmark: our engine against the WebCodecs throughput limit, in one headless Chromium.

Converts a 1280x720, 30 fps, 20 s H.264 + AAC MP4 to WebM (VP8 + Opus) twice:

1. with pywebcodecs (Python in Pyodide: demux, decode, encode, mux, output Blob);
2. with a plain-JS loop over the same packets, demuxed beforehand and already in memory,
   using the same codec configs and backpressure (``bench_limit.js``): the limit.

Prints both times and ``ratio = limit_time / our_time`` (1.0 = as fast as the limit; the
target is 0.9 or more). Run: ``.venv/bin/python build_scripts/bench.py [--runs N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from oracle import hd_720p_20s  # noqa: E402
from pywebcodecs.encoding import (  # noqa: E402
    audio_bitrate,
    video_bitrate,
    video_encoder_codec_string,
)
from pywebcodecs.formats import open_demuxer  # noqa: E402
from pywebcodecs.reader import Reader  # noqa: E402
from pywebcodecs.source import FileSource  # noqa: E402
from pywebcodecs.track import AudioTrack, VideoTrack  # noqa: E402
from pywebcodecs_host.headless import HeadlessEngine  # noqa: E402


async def predemux(path: Path, out: Path) -> dict:
    """Write every packet to ``out`` and return the index and codec configs for the JS loop."""
    reader = await Reader.open(FileSource(path))
    demuxer = await open_demuxer(reader)
    video = next(t for t in demuxer.tracks if isinstance(t, VideoTrack))
    audio = next(t for t in demuxer.tracks if isinstance(t, AudioTrack))
    index, offset = [], 0
    with open(out, "wb") as f:
        async for packet in demuxer.packets():
            track = demuxer.track(packet.track_id)
            scale = 1_000_000 / track.timescale
            index.append({
                "kind": track.kind, "key": packet.is_key, "offset": offset,
                "size": len(packet.data), "pts": round(packet.pts * scale),
                "duration": round(packet.duration * scale),
            })  # fmt: skip
            f.write(packet.data)
            offset += len(packet.data)
    assert video.description and audio.description
    return {
        "index": index,
        "video": {
            "decoder": {"codec": video.codec_string, "codedWidth": video.width,
                        "codedHeight": video.height, "description": list(video.description)},
            "encoder": {"codec": video_encoder_codec_string("vp8", video.width, video.height),
                        "width": video.width, "height": video.height,
                        "bitrate": video_bitrate(video.width, video.height, video.frame_rate),
                        "framerate": video.frame_rate or 30, "latencyMode": "quality"},
        },
        "audio": {
            "decoder": {"codec": audio.codec_string, "sampleRate": audio.sample_rate,
                        "numberOfChannels": audio.channels, "description": list(audio.description)},
            "encoder": {"codec": "opus", "sampleRate": audio.sample_rate,
                        "numberOfChannels": audio.channels,
                        "bitrate": audio_bitrate(audio.channels)},
        },
    }  # fmt: skip


def compare(engine: HeadlessEngine, source: Path, tmp: Path, spec: dict, limit_js: str,
            runs: int) -> tuple[list[float], list[float]]:  # fmt: skip
    """Alternate our conversion and the plain-JS limit ``runs`` times each."""
    assert engine.page is not None
    ours, limit = [], []
    for run in range(runs):
        summary = engine.convert(source, tmp / f"out{run}.webm", container="webm",
                                 video_codec="vp8", audio_codec="opus")  # fmt: skip
        if not summary["ok"]:
            raise SystemExit(f"engine failed: {summary['error']}")
        ours.append(summary["convert_ms"])
        result = engine.page.evaluate(limit_js, spec)
        limit.append(result["ms"])
        print(f"run {run + 1}: pywebcodecs {summary['convert_ms']:.0f} ms "
              f"({summary['video_frames']} frames), plain-JS limit {result['ms']:.0f} ms "
              f"({result['videoChunks']} frames)", flush=True)  # fmt: skip
    return ours, limit


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="alternating runs of each")
    args = parser.parse_args()
    source = hd_720p_20s()
    limit_js = (REPO / "build_scripts" / "bench_limit.js").read_text()
    with tempfile.TemporaryDirectory() as tmp:
        packets = Path(tmp) / "packets.bin"
        spec = asyncio.run(predemux(source, packets))  # before Playwright starts its loop
        with HeadlessEngine() as engine:
            spec["packetsUrl"] = engine.server.add_input("packets.bin", packets)
            ours, limit = compare(engine, source, Path(tmp), spec, limit_js, args.runs)
            ready = engine.engine_ready_ms
    our_ms, limit_ms = statistics.median(ours), statistics.median(limit)
    print(json.dumps({
        "input": source.name, "engine_ready_ms": round(ready), "pywebcodecs_ms": round(our_ms),
        "limit_ms": round(limit_ms), "ratio": round(limit_ms / our_ms, 3),
    }))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
