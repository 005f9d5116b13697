"""The ``pywebcodecs`` terminal command.

- ``convert INPUT OUTPUT``: the browser engine, run in headless Chromium;
- ``probe FILE``: what is inside a file (CPython, no browser);
- ``serve``, ``keys``: the app and the usage service (see :mod:`usage_service.cli`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import usage_service.cli
from pywebcodecs.encoding import QUALITY_BITS_PER_PIXEL
from pywebcodecs.errors import PyWebCodecsError
from pywebcodecs.probe import MediaInfo, parse_media

QUALITIES = tuple(QUALITY_BITS_PER_PIXEL)
CONTAINERS = ("webm", "mp4", "mkv", "wav", "ogg")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pywebcodecs", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    convert = commands.add_parser("convert", help="convert a file in headless Chromium")
    convert.add_argument("input", type=Path)
    convert.add_argument("output", type=Path)
    convert.add_argument("--container", choices=CONTAINERS, help="default: OUTPUT's extension")
    convert.add_argument("--video-codec", help="copy, drop, vp8, vp9, av1, h264 (default: auto)")
    convert.add_argument("--audio-codec", help="copy, drop, opus, aac (default: auto)")
    convert.add_argument("--rotate", type=int, default=0, help="clockwise degrees (90s)")
    convert.add_argument("--start", type=float, help="trim: seconds of the input to start at")
    convert.add_argument("--end", type=float, help="trim: seconds of the input to end at")
    convert.add_argument(
        "--crop",
        type=_crop,
        metavar="L,T,W,H",
        help="keep this rectangle of the picture (pixels, before rotation)",
    )
    convert.add_argument(
        "--resize",
        type=_size,
        metavar="WxH",
        help="output size; leave a side empty to keep the aspect (640x)",
    )
    convert.add_argument("--fps", type=float, help="constant output frame rate")
    convert.add_argument("--quality", choices=QUALITIES, help="encoder quality (default: medium)")
    convert.add_argument("--video-bitrate", type=int, metavar="BITS", help="bits per second")
    convert.add_argument("--audio-bitrate", type=int, metavar="BITS", help="bits per second")
    convert.add_argument("--keyframe-interval", type=float, metavar="S",
                         help="seconds between key frames (default: 2)")  # fmt: skip
    convert.add_argument("--sample-rate", type=int, metavar="HZ", help="audio sample rate")
    convert.add_argument("--channels", type=int, help="audio channels (downmix/upmix)")
    convert.add_argument("--fast-start", action=argparse.BooleanOptionalAction,
                         help="MP4: moov before mdat (default: no; it holds the whole "
                         "output in memory)")  # fmt: skip
    convert.add_argument("--fragmented", action="store_true", help="MP4: fragmented (moof)")
    convert.add_argument("--api-key", help="the site's public usage key")
    convert.add_argument("--json", action="store_true", help="print one JSON summary line")
    convert.add_argument("--no-cache", action="store_true",
                         help="start Chromium afresh, without the profile kept in "
                         "$PYWEBCODECS_CACHE or ~/.cache/pywebcodecs")  # fmt: skip
    convert.set_defaults(func=_convert)

    probe = commands.add_parser("probe", help="show what is inside a media file")
    probe.add_argument("file", type=Path)
    probe.add_argument("--json", action="store_true")
    probe.add_argument("--no-count", action="store_true", help="skip walking packets to count")
    probe.set_defaults(func=_probe)

    usage_service.cli.register(commands)
    args = parser.parse_args(argv)
    return int(args.func(args))


def _convert(args: argparse.Namespace) -> int:
    from .headless import HeadlessEngine

    container = args.container or args.output.suffix.lstrip(".").lower()
    if container not in CONTAINERS:
        print(f"pywebcodecs: choose --container ({', '.join(CONTAINERS)})", file=sys.stderr)
        return 2
    if not args.input.is_file():
        print(f"pywebcodecs: {args.input}: no such file", file=sys.stderr)
        return 1
    partial = args.output.with_name(f".{args.output.name}.partial")
    options: dict[str, Any] = {
        "container": container,
        "video_codec": args.video_codec,
        "audio_codec": args.audio_codec,
        "rotate": args.rotate,
        "api_key": args.api_key,
        "trim": None if args.start is None and args.end is None else [args.start, args.end],
        "crop": args.crop,
        "resize": args.resize,
        "frame_rate": args.fps,
        "quality": args.quality,
        "video_bitrate": args.video_bitrate,
        "audio_bitrate": args.audio_bitrate,
        "keyframe_interval": args.keyframe_interval,
        "fast_start": args.fast_start,
        "fragmented": args.fragmented or None,
        "sample_rate": args.sample_rate,
        "channels": args.channels,
    }
    try:
        with HeadlessEngine(cache=not args.no_cache) as engine:
            engine.on_progress = _print_progress
            summary = engine.convert(args.input, partial, **options)
            summary["engine_ready_ms"] = round(engine.engine_ready_ms, 1)
    except Exception as exc:
        summary = {"ok": False, "error": str(exc)}
    print(file=sys.stderr)
    if summary.get("ok") and partial.exists():
        os.replace(partial, args.output)
    else:
        partial.unlink(missing_ok=True)
        summary["ok"] = False
        # Both names: the cause may be the input (a damaged file) or the output (the host
        # could not write it: a missing folder, a full disk).
        print(f"pywebcodecs: {args.input} -> {args.output}: {summary.get('error')}",
              file=sys.stderr)  # fmt: skip
    if args.json:
        print(json.dumps(summary))
    elif summary["ok"]:
        print(
            f"{args.output}: {summary['output_bytes']} bytes, {summary['video_frames']} video "
            f"and {summary['audio_frames']} audio frames in {summary['convert_ms'] / 1000:.2f} s"
        )
        for track in summary.get("tracks", []):
            print(f"  track {track['track_id']} ({track['kind']} {track['input_codec']}): "
                  f"{track['note']}")  # fmt: skip
    return 0 if summary["ok"] else 1


def _crop(text: str) -> list[int]:
    """``L,T,W,H`` → [left, top, width, height]."""
    try:
        sides = [int(part) for part in text.split(",")]
    except ValueError:
        sides = []
    if len(sides) != 4:
        raise argparse.ArgumentTypeError(f"expected LEFT,TOP,WIDTH,HEIGHT in pixels, got {text!r}")
    return sides


def _size(text: str) -> list[int | None]:
    """``WxH`` with either side possibly empty → [width, height] (None for an empty side)."""
    width, sep, height = text.lower().partition("x")
    try:
        sides = [int(side) if side else None for side in (width, height)]
    except ValueError:
        sides = [None, None]
    if not sep or sides == [None, None]:
        raise argparse.ArgumentTypeError(
            f"expected WIDTHxHEIGHT (one side may be empty), got {text!r}"
        )
    return sides


def _print_progress(progress: dict[str, Any]) -> None:
    """One line on stderr, rewritten in place: bar, frames written, speed and time left."""
    fraction = float(progress.get("fraction") or 0)
    bar = "#" * int(fraction * 30)
    frames = progress.get("video_frames") or progress.get("audio_frames") or 0
    line = f"\r[{bar:<30}] {fraction * 100:5.1f}%  {frames} frames"
    rate = float(progress.get("rate") or 0)
    if rate > 0:
        line += f"  {rate:.1f}x"
    eta_ms = progress.get("eta_ms")
    if isinstance(eta_ms, int | float) and not progress.get("done"):
        seconds = eta_ms / 1000
        line += f"  {seconds:.1f} s left" if seconds < 10 else f"  {seconds:.0f} s left"
    print(f"{line:<72}", end="", file=sys.stderr, flush=True)


def _probe(args: argparse.Namespace) -> int:
    try:
        info = asyncio.run(parse_media(args.file, count_packets=not args.no_count))
    except (PyWebCodecsError, OSError) as exc:
        print(f"pywebcodecs: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(info.to_dict()))
    else:
        print(_describe(info))
    return 0


def _describe(info: MediaInfo) -> str:
    duration = f"{info.duration:.3f} s" if info.duration is not None else "unknown duration"
    lines = [f"{info.name}: {info.container}, {info.size} bytes, {duration}"]
    for track in info.tracks:
        detail = (
            f"{track.width}x{track.height}"  # type: ignore[attr-defined]
            if track.kind == "video"
            else f"{track.sample_rate} Hz, {track.channels} ch"  # type: ignore[attr-defined]
        )
        lines.append(
            f"  track {track.id}: {track.kind} {track.codec} ({track.codec_string}), {detail}, "
            f"{track.packet_count} packets, {track.keyframe_count} key"
        )
    lines += [f"  {key}: {value}" for key, value in info.tags.items()]
    lines += [f"  picture: {image.mime_type}, {image.size} bytes" for image in info.images]
    lines += [f"  warning: {warning}" for warning in info.warnings]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
