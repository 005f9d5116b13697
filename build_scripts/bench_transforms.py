"""Peak memory and time of a re-encode that crops, rotates, both or neither, in headless
Chromium.

    .venv/bin/python build_scripts/bench_transforms.py [--sizes 640x360 1280x720] \
        [--seconds 60] [--runs 1]

The inputs are H.264 clips of ffmpeg's ``testsrc2`` (30 fps, key frame every 2 s) made in a
temporary folder that is removed afterwards. Each one is re-encoded to VP8 WebM by the
terminal command's engine (:class:`~pywebcodecs_host.headless.HeadlessEngine`, output
PUT back over loopback) with no transform, with a crop of the middle (640x360: 400x260 at
(100, 50)), with ``rotate=90``, and with both. Each run has a Chromium of its own, so that
one run's peak is not another's; ``--runs`` repeats every row in turn (A B C D, A B C D)
and prints the median. Printed per row: transform, frames out, the renderer's peak
resident memory (``VmHWM``, see :mod:`pywebcodecs_host.memory`) once the engine has
started and at the end, and the conversion's wall time.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from pywebcodecs_host.headless import HeadlessEngine
from pywebcodecs_host.memory import peak_resident_mib, renderer_pids


def crop_of(width: int, height: int) -> list[int]:
    """The middle of the picture, 5/8 wide and 13/18 high (400x260 of 640x360)."""
    crop_w, crop_h = width * 5 // 8 // 2 * 2, height * 13 // 18 // 2 * 2
    return [(width - crop_w) // 4 * 2, (height - crop_h) // 4 * 2, crop_w, crop_h]


def transforms(width: int, height: int) -> dict[str, dict[str, object]]:
    crop = crop_of(width, height)
    return {
        "none": {},
        "crop": {"crop": crop},
        "rotate 90": {"rotate": 90},
        "crop + rotate 90": {"crop": crop, "rotate": 90},
    }


def make_clip(path: Path, size: str, seconds: int) -> None:
    subprocess.run(
        ["ffmpeg", "-nostdin", "-y", "-v", "error", "-f", "lavfi",
         "-i", f"testsrc2=size={size}:rate=30:duration={seconds}", "-c:v", "libx264",
         "-preset", "veryfast", "-g", "60", "-pix_fmt", "yuv420p", str(path)],
        check=True,
    )  # fmt: skip


def measure(src: Path, out: Path, options: dict[str, object]) -> tuple[int, float, float, float]:
    """(frames out, boot peak MiB, peak MiB, ms) of one re-encode in a Chromium of its own."""
    profile = Path(tempfile.mkdtemp(prefix="pwc-profile-"))
    try:
        with HeadlessEngine(profile_dir=profile) as engine:
            boot = peak_resident_mib(renderer_pids(profile))
            started = time.monotonic()
            summary = engine.convert(src, out, container="webm", video_codec="vp8", **options)
            ms = (time.monotonic() - started) * 1000
            peak = peak_resident_mib(renderer_pids(profile))
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    if not summary.get("ok"):
        raise SystemExit(f"{src.name} {options}: {summary.get('error')}")
    return int(summary["video_frames"]), boot, peak, ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["640x360", "1280x720"])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--only", nargs="*", help="transforms to run (default: all)")
    args = parser.parse_args()
    print(f"{'input':<10} {'transform':<17} {'frames':>6} {'boot MiB':>9} {'peak MiB':>9} "
          f"{'ms':>8}", flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="pwc-bench-transforms-") as folder:
        for size in args.sizes:
            src, out = Path(folder) / f"{size}.mp4", Path(folder) / "out.webm"
            make_clip(src, size, args.seconds)
            width, height = map(int, size.split("x"))
            rows = {name: options for name, options in transforms(width, height).items()
                    if not args.only or name in args.only}  # fmt: skip
            results: dict[str, list[tuple[int, float, float, float]]] = {name: [] for name in rows}
            for _ in range(args.runs):
                for name, options in rows.items():
                    results[name].append(measure(src, out, options))
            for name, runs in results.items():
                frames = runs[0][0]
                boot, peak, ms = (statistics.median(run[i] for run in runs) for i in (1, 2, 3))
                print(f"{size:<10} {name:<17} {frames:6d} {boot:9.0f} {peak:9.0f} {ms:8.0f}",
                      flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
