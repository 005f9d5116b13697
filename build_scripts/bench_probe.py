"""How fast the MP4 reader opens a long file, and how little of it it reads.

Makes (once, cached under /tmp) a two-hour MP4 of tiny 32x32 frames at 30 fps, about
216 000 video samples, plus 8 kHz mono AAC, so the moov's sample tables are as long as a
feature film's. The frames are random noise coded losslessly (about 1.5 kB each, 0.4 Mbit/s)
so that the media data outweighs the moov the way a real film's does; with flat frames the
moov would be half the file and no reader could read "little" of it. Then opens it with
:class:`IsobmffDemuxer` through ``FileSource`` and ``Reader``, as the terminal command
does, and prints the wall time of ``open()`` and the bytes it fetched as a share of the
file (targets: under 2 s and under 2 %).

Run: ``.venv/bin/python build_scripts/bench_probe.py [--seconds 7200] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import time
from pathlib import Path

from pywebcodecs.isobmff.demuxer import IsobmffDemuxer
from pywebcodecs.reader import Reader
from pywebcodecs.source import FileSource


def long_mp4(seconds: int) -> Path:
    """The cached test file, made with ffmpeg when it is missing."""
    path = Path(f"/tmp/pywebcodecs-bench-probe-noise-{seconds}s.mp4")
    if path.exists():
        return path
    partial = path.with_suffix(".partial.mp4")
    subprocess.run(
        ["ffmpeg", "-nostdin", "-y", "-hide_banner", "-loglevel", "error",
         "-f", "lavfi", "-i", f"nullsrc=s=32x32:r=30:d={seconds},format=gray,"
                              "geq=lum='random(1)*255',format=yuv420p",
         "-f", "lavfi", "-i", f"anullsrc=r=8000:cl=mono:d={seconds}",
         "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", "-g", "300",
         "-c:a", "aac", "-b:a", "8k", "-shortest", str(partial)],
        check=True,
    )  # fmt: skip
    partial.rename(path)
    return path


async def open_once(path: Path) -> tuple[float, Reader, IsobmffDemuxer]:
    """Seconds spent in ``Reader.open`` + ``IsobmffDemuxer.open``, and what they made."""
    with FileSource(path) as source:
        started = time.perf_counter()
        reader = await Reader.open(source)
        demuxer = IsobmffDemuxer(reader)
        await demuxer.open()
        return time.perf_counter() - started, reader, demuxer


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=7200, help="length of the test file")
    parser.add_argument("--repeat", type=int, default=3, help="best of this many opens")
    args = parser.parse_args()
    path = long_mp4(args.seconds)
    size = path.stat().st_size
    runs = [await open_once(path) for _ in range(args.repeat)]
    best, reader, demuxer = min(runs, key=lambda run: run[0])
    print(f"file: {path} ({size / 1e6:.1f} MB, {demuxer.duration or 0:.0f} s)")
    for track in demuxer.tracks:
        print(f"  track {track.id}: {track.codec} {track.packet_count} packets, "
              f"{track.keyframe_count} keyframes")  # fmt: skip
    print(f"open: {best:.3f} s (best of {args.repeat}; all: "
          f"{', '.join(f'{run[0]:.3f}' for run in runs)})")  # fmt: skip
    print(f"read: {reader.bytes_fetched} bytes in {reader.fetches} fetches = "
          f"{100 * reader.bytes_fetched / size:.2f} % of the file")  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
