"""Peak memory of the tab against input size: a copy into MKV written to OPFS, and one
re-encode at a small size, in headless Chromium.

    .venv/bin/python build_scripts/bench_memory.py [--sizes-mb 256 1024 2048] \
        [--reencode-mb 256 1024]

Inputs are loops of a 2 s, ~100 Mbit/s noise clip made by ffmpeg (``-stream_loop`` with
``-c copy``, so making a 2 GB file takes seconds) in a temporary folder that is removed
afterwards. For each run it prints the input size, the renderer's peak resident memory
once the engine has started and at the end of the run (``VmHWM`` of the processes
DevTools calls renderers: JS heap, Pyodide's WebAssembly memory, buffers and all), the
WebAssembly memory after the run (it never shrinks, so that is its peak), the JS heap
after the run, the time and the output size. Each run has a Chromium of its own, so that
one run's peak is not another's.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from pywebcodecs_host.headless import HeadlessEngine
from pywebcodecs_host.memory import peak_resident_mib, renderer_pids

CLIP_MB = 26.4  # the loop's size, as ffmpeg writes it
#: Pyodide's WebAssembly memory in bytes (the engine is loaded once; this returns it).
WASM_BYTES = "import('./engine.mjs').then(m => m.loadEngine()).then(p => p._module.HEAPU8.length)"


def ffmpeg(*args: str | Path) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-y", "-v", "error", *map(str, args)], check=True)


def measure(src: Path, out: Path, **options: object) -> dict[str, object]:
    profile = Path(tempfile.mkdtemp(prefix="pwc-profile-"))  # OPFS on disk, as for a user
    try:
        with HeadlessEngine(profile_dir=profile) as engine:
            assert engine.page is not None
            boot = peak_resident_mib(renderer_pids(profile))
            started = time.monotonic()
            summary = engine.convert(src, out, **options)
            seconds = time.monotonic() - started
            peak = peak_resident_mib(renderer_pids(profile))
            heap = engine.page.evaluate("performance.memory.usedJSHeapSize") / (1 << 20)
            wasm = engine.page.evaluate(WASM_BYTES) / (1 << 20)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    if not summary.get("ok"):
        raise SystemExit(f"{src.name}: {summary.get('error')}")
    return {"input_mb": src.stat().st_size / 1e6, "boot_mib": boot, "peak_mib": peak,
            "wasm_mib": wasm, "js_heap_mib": heap,
            "seconds": seconds, "output_mb": out.stat().st_size / 1e6,
            "sink": summary.get("sink")}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes-mb", type=int, nargs="*", default=[256, 1024, 2048])
    parser.add_argument("--reencode-mb", type=int, nargs="*", default=[256, 1024])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pwc-bench-memory-") as folder:
        tmp = Path(folder)
        clip = tmp / "clip.mp4"
        ffmpeg("-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30:duration=2",
               "-vf", "noise=alls=60:allf=t", "-c:v", "libx264", "-preset", "ultrafast",
               "-qp", "4", "-g", "30", clip)  # fmt: skip
        copy: dict[str, object] = {"container": "mkv", "sink": "opfs"}
        runs = [("copy → mkv (opfs)", mb, copy) for mb in args.sizes_mb]
        reencode = {"container": "webm", "video_codec": "vp8", "resize": [160, 90], "sink": "opfs"}
        runs += [("vp8 160x90 → webm (opfs)", mb, reencode) for mb in args.reencode_mb]
        print(f"{'run':<26} {'input MB':>9} {'boot MiB':>9} {'peak MiB':>9} {'wasm MiB':>9} "
              f"{'JS heap':>8} {'s':>7} {'out MB':>8}")  # fmt: skip
        for label, mb, options in runs:
            src, out = tmp / f"in-{mb}.mp4", tmp / "out"
            loops = max(round(mb / CLIP_MB) - 1, 0)
            ffmpeg("-stream_loop", str(loops), "-i", clip, "-c", "copy", src)
            row = measure(src, out, **options)
            print(f"{label:<26} {row['input_mb']:9.0f} {row['boot_mib']:9.0f} "
                  f"{row['peak_mib']:9.0f} {row['wasm_mib']:9.0f} {row['js_heap_mib']:8.0f} "
                  f"{row['seconds']:7.1f} {row['output_mb']:8.0f}",
                  flush=True)  # fmt: skip
            src.unlink()
            out.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
