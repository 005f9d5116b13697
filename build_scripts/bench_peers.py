"""Benchmark: our engine, Mediabunny and a plain-JS limit side by side in one headless Chromium.

    .venv/bin/python build_scripts/bench_peers.py [--runs 3] [--jobs NAME ...]

Every job runs on the built site (``static/``), offline: the inputs are made by ffmpeg,
Mediabunny (an npm dev dependency) is bundled with esbuild into a temporary folder at run
time and served next to ``bench_peers.mjs``, which runs one side of one job in the page.
The rules that keep the comparison fair, which ``tests/test_bench_fairness.py`` guards:

- one input Blob per job, fetched before any clock starts, handed to every side;
- the same codecs, bitrates and key frame interval on every side, ours given explicitly
  (the limit uses the engine's own encoder configs and queue depths);
- every clock stops when the output exists as a Blob (the limit: last chunk encoded);
- sides interleaved (A B C, then B C A, ...) so none always runs first, ``--runs`` 3;
- every output checked with ffprobe: video packet counts equal on every side, audio
  within one packet (the encoders' last partial frame), codecs as asked.

Start-up is timed in fresh browser contexts, from the navigation: a bare ``loadPyodide()``
against ``loadEngine()``, the README's Worker and the converter page (``index.html``, ready
when its ``data-engine`` says so), on a first visit and on a repeat visit (service worker
installed), ``--startup-runs`` 5, each with its breakdown (Pyodide boot, engine install,
first import).
Memory is the peak resident size of the renderer processes sampled during each side.
``--terminal`` also times ``pywebcodecs convert`` on a 1.2 GB MP4 (made from a 10 s clip
looped by stream copy, deleted after) remuxed to MKV against the same remux in the page
from a Blob, with the peak resident size of each one's process tree; the command keeps its
Chromium profile in a folder of the run (``$PYWEBCODECS_CACHE``), filled by a first
command on a 1 s clip whose start-up is printed as the cold one.
Prints a table of medians and spreads, then one JSON line of ratios.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("PYWEBCODECS_MEDIA_CACHE", str(REPO / "build" / "bench-media"))
Path(os.environ["PYWEBCODECS_MEDIA_CACHE"]).mkdir(parents=True, exist_ok=True)
sys.path.insert(0, str(REPO / "tests"))

from oracle import FIXTURES, ffmpeg, ffprobe_json, hd_720p_20s, make  # noqa: E402
from pywebcodecs.encoding import (  # noqa: E402
    EncoderSettings,
    audio_encoder_config,
    video_encoder_config,
)

SIDES = ("pywebcodecs", "mediabunny", "limit")
DEFAULT_RUNS = 3
VIDEO_BITRATE = 2_200_000
AUDIO_BITRATE = 128_000
KEYFRAME_INTERVAL = 2.0
#: The engine's decode/encode queue depths (``MAX_QUEUE`` of browser/transcode/session.py
#: and ``MAX_AUDIO_QUEUE`` of audio_session.py): the limit waits on the same ones.
LIMIT_QUEUE = {"video": 8, "audio": 64}
#: What a full queue is waited down to before the next packet, as the engine does: video
#: to room for one more (``MAX_QUEUE``), audio to ``LOW_AUDIO_QUEUE`` of audio_session.py.
LIMIT_RESUME = {"video": 8, "audio": 16}
#: Mediabunny's names for the codecs we name.
MEDIABUNNY_CODECS = {"vp8": "vp8", "vp9": "vp9", "h264": "avc", "opus": "opus", "pcm": "pcm-s16"}
COPY = "copy"


@dataclass(frozen=True)
class Input:
    name: str
    make: Callable[[], Path]
    width: int = 0
    height: int = 0
    frame_rate: float = 0.0
    sample_rate: int = 48_000
    channels: int = 2


def long_360p() -> Path:
    """30 minutes of 640x360 H.264 + AAC: a 10 s clip looped by stream copy (seconds)."""
    clip = make(
        "360p-10s.mp4",
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=640x360:rate=30:duration=10",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000:duration=10",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-pix_fmt",
        "yuv420p",
        "-g",
        "60",
        "-c:a",
        "aac",
        "-b:a",
        "96k",
        "-ac",
        "2",
        "-shortest",
    )
    out = clip.with_name("360p-30min-noedts.mp4")
    if not out.exists():
        partial = out.with_name("partial-" + out.name)
        ffmpeg(
            "-stream_loop",
            "179",
            "-i",
            clip,
            "-c",
            "copy",
            "-t",
            "1800",
            "-use_editlist",
            "0",
            partial,
        )
        partial.rename(out)
    return out


def big_720p(folder: Path) -> Path:
    """About 1.2 GB of 1280x720 H.264 + AAC at ~80 Mb/s (a high bitrate keeps the packet
    count small, so the size is what is measured): a 10 s clip looped 12 times by copy."""
    clip = folder / "big-clip.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30:duration=10",
           "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=10",
           "-vf", "noise=alls=40:allf=t+u",  # noise, so the encoder reaches the bitrate
           "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "80M", "-maxrate", "80M",
           "-bufsize", "80M", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
           clip)  # fmt: skip
    out = folder / "big-720p.mp4"
    ffmpeg("-stream_loop", "11", "-i", clip, "-c", "copy", "-use_editlist", "0", out)
    clip.unlink()
    return out


def without_edit_list(path: Path) -> Path:
    """A copy of ``path`` whose AAC starts at 0 (no edit list hiding its priming):
    Mediabunny re-encodes audio that starts before 0 when the output is Matroska, so a
    remux input must not, or Mediabunny's "remux" would be a transcode."""
    out = path.with_name("noedts-" + path.name)
    if not out.exists():
        partial = out.with_name("partial-" + out.name)
        ffmpeg("-i", path, "-c", "copy", "-use_editlist", "0", partial)
        partial.rename(out)
    return out


HD_720P = Input("720p30-20s.mp4", hd_720p_20s, 1280, 720, 30.0)
HD_720P_REMUX = Input("noedts-720p30-20s.mp4", lambda: without_edit_list(hd_720p_20s()))
LONG_360P = Input("360p-30min-noedts.mp4", long_360p, 640, 360, 30.0)
MP3 = Input(
    "Toothsome-Meme.VBRv2.mp3", lambda: FIXTURES / "Toothsome-Meme.VBRv2.mp3", sample_rate=24_000
)


@dataclass(frozen=True)
class Job:
    """One conversion, described once; each side's options are derived from it."""

    name: str
    input: Input
    container: str
    video: str | None  # a codec to encode, COPY, or None (no video)
    audio: str  # a codec to encode, or COPY
    with_limit: bool = False

    @property
    def sides(self) -> tuple[str, ...]:
        return SIDES if self.with_limit else SIDES[:2]

    @property
    def settings(self) -> EncoderSettings:
        return EncoderSettings(
            video_bitrate=VIDEO_BITRATE if self.video not in (None, COPY) else None,
            audio_bitrate=AUDIO_BITRATE if self.audio == "opus" else None,
            keyframe_interval=KEYFRAME_INTERVAL,
        )

    def ours(self) -> dict[str, Any]:
        """``convertMedia``'s options."""
        options: dict[str, Any] = {"container": self.container}
        if self.video is not None:
            options["videoCodec"] = self.video
        if self.audio != "pcm":  # WAV holds PCM only: decoding to it is the default
            options["audioCodec"] = self.audio
        settings = self.settings
        if settings.video_bitrate:
            options.update(
                videoBitrate=settings.video_bitrate,
                keyframeInterval=settings.keyframe_interval,
                latencyMode=settings.latency_mode,
            )
        if settings.audio_bitrate:
            options["audioBitrate"] = settings.audio_bitrate
        if self.container == "mp4":
            options["fastStart"] = True
        return options

    def mediabunny(self) -> dict[str, Any]:
        """``Conversion.init``'s video and audio options (none: copy), and the format."""
        settings = self.settings
        options: dict[str, Any] = {"container": self.container}
        if self.video not in (None, COPY):
            options["video"] = {
                "codec": MEDIABUNNY_CODECS[self.video],
                "bitrate": settings.video_bitrate,
                "keyFrameInterval": settings.keyframe_interval,
                "forceTranscode": True,
            }
        if self.audio != COPY:
            audio: dict[str, Any] = {"codec": MEDIABUNNY_CODECS[self.audio], "forceTranscode": True}
            if settings.audio_bitrate:
                audio["bitrate"] = settings.audio_bitrate
            options["audio"] = audio
        return options

    def limit(self) -> dict[str, Any] | None:
        """The limit's encoder configs: the ones our engine configures for this job."""
        if not self.with_limit:
            return None
        assert self.video not in (None, COPY) and self.audio == "opus"
        src, settings = self.input, self.settings
        video = video_encoder_config(self.video, src.width, src.height, src.frame_rate, settings)
        audio = audio_encoder_config(self.audio, src.sample_rate, src.channels, settings)
        return {
            "video": {
                "encoder": video,
                "keyframeIntervalUs": round(settings.keyframe_interval * 1e6),
            },
            "audio": {"encoder": audio},
            "queue": LIMIT_QUEUE,
            "resume": LIMIT_RESUME,
        }


JOBS = (
    Job("720p → WebM VP8+Opus", HD_720P, "webm", "vp8", "opus", with_limit=True),
    Job("720p → MP4 H.264+Opus", HD_720P, "mp4", "h264", "opus", with_limit=True),
    Job("720p → WebM VP9+Opus", HD_720P, "webm", "vp9", "opus", with_limit=True),
    Job("720p remux → MP4", HD_720P_REMUX, "mp4", COPY, COPY),
    Job("720p remux → MKV", HD_720P_REMUX, "mkv", COPY, COPY),
    Job("30 min 360p remux → MKV", LONG_360P, "mkv", COPY, COPY),
    Job("MP3 → WAV", MP3, "wav", None, "pcm"),
)


def schedule(jobs: tuple[Job, ...], runs: int) -> Iterator[tuple[int, Job, str]]:
    """(run, job, side): each run goes through every job, its sides one after the other,
    the first side rotating from run to run, so no side always has the fresh tab."""
    for run in range(runs):
        for job in jobs:
            shift = run % len(job.sides)
            for side in job.sides[shift:] + job.sides[:shift]:
                yield run, job, side


# --- outputs -------------------------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    video: int
    audio: int
    codecs: tuple[str, ...]


def probe_counts(path: Path) -> Counts:
    """Packets per kind and codec names, as ffprobe reads the file."""
    streams = ffprobe_json(path, "-count_packets", "-show_streams")["streams"]
    count = {"video": 0, "audio": 0}
    for stream in streams:
        count[stream["codec_type"]] += int(stream.get("nb_read_packets", 0))
    return Counts(count["video"], count["audio"], tuple(s["codec_name"] for s in streams))


def counts_agree(job: Job, counts: dict[str, Counts]) -> list[str]:
    """What differs between the sides' outputs: video packets must be equal, audio within
    one packet (encoders may or may not emit a last partial frame; WAV: the same duration
    to within one MP3 frame, since PCM packets are cut as each muxer likes)."""
    problems = []
    reference = counts["pywebcodecs"]
    for side, got in counts.items():
        if got.video != reference.video:
            problems.append(f"{side}: {got.video} video packets, ours {reference.video}")
        if job.container != "wav" and abs(got.audio - reference.audio) > 1:
            problems.append(f"{side}: {got.audio} audio packets, ours {reference.audio}")
        if side != "limit" and got.codecs != reference.codecs:
            problems.append(f"{side}: codecs {got.codecs}, ours {reference.codecs}")
    return problems


def wav_seconds(path: Path) -> float:
    return float(ffprobe_json(path, "-show_format")["format"]["duration"])


def wav_lengths_agree(job: Job, ours: float, theirs: float) -> list[str]:
    """Ours must last what ffmpeg decodes from the input, to 1 ms (a LAME tag's encoder
    delay and padding dropped); Mediabunny, which keeps them, what ffmpeg decodes or the
    input's packet span, to one MP3 frame."""
    with tempfile.TemporaryDirectory() as folder:
        decoded = Path(folder) / "decoded.wav"
        ffmpeg("-i", job.input.make(), decoded)
        expected = wav_seconds(decoded)
    span = float(ffprobe_json(job.input.make(), "-show_format")["format"]["duration"])
    frame = 1152 / job.input.sample_rate
    problems = []
    if abs(ours - expected) > 0.001:
        problems.append(f"our WAV lasts {ours:.4f} s, ffmpeg decodes {expected:.4f} s")
    if min(abs(theirs - expected), abs(theirs - span)) > frame:
        problems.append(f"Mediabunny's WAV lasts {theirs:.4f} s, ffmpeg decodes {expected:.4f} s")
    return problems


# --- the browser ---------------------------------------------------------------------


class MemorySampler:
    """The largest resident size of the renderer processes while a side runs."""

    def __init__(self, pids: list[int]) -> None:
        self.pids, self.peak_mib = pids, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while True:
            self._sample_once()
            if self._stop.wait(0.1):
                return

    def _sample_once(self) -> None:
        total = 0
        for pid in self.pids:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except (FileNotFoundError, ProcessLookupError):
                continue
            total += next(
                (int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")),
                0,
            )
        self.peak_mib = max(self.peak_mib, total / 1024)


class TreeSampler(MemorySampler):
    """The summed resident size of a process and all its descendants, sampled.

    The tree is looked up once a second, its sizes ten times a second: a lookup reads every
    process's ``/proc`` entry (~9 ms), and ten a second took ~9 % of a core from the
    command it measures on 2 cores, where the page's sampler takes next to nothing."""

    def __init__(self, root: int) -> None:
        super().__init__([])
        self.root = root

    def _sample(self) -> None:
        tick = 0
        while True:
            if tick % 10 == 0:
                self.pids = process_tree(self.root)
            super()._sample_once()
            tick += 1
            if self._stop.wait(0.1):
                return


def process_tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError, ValueError, IndexError, NotADirectoryError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, ()))
    return tree


@contextlib.contextmanager
def bench_browser() -> Iterator[tuple[Path, Any, Any]]:
    """A temporary folder, the built site on loopback with the benchmark's pages and
    Mediabunny's bundle beside it (``/__files/bench/``), and a headless Chromium."""
    from playwright.sync_api import sync_playwright

    from pywebcodecs_host.browser import launch_options
    from pywebcodecs_host.headless import default_static_dir
    from pywebcodecs_host.site_server import SiteServer

    with (
        tempfile.TemporaryDirectory() as tmp_name,
        SiteServer(default_static_dir()) as server,
        sync_playwright() as playwright,
    ):
        tmp = Path(tmp_name)
        bundle_mediabunny(tmp / "mediabunny.mjs")
        for name in ("bench_peers.mjs", "bench_startup.html"):
            server.add_input(f"bench/{name}", REPO / "build_scripts" / name)
        server.add_input("bench/mediabunny.mjs", tmp / "mediabunny.mjs")
        browser = playwright.chromium.launch(**launch_options())  # type: ignore[arg-type]
        try:
            yield tmp, server, browser
        finally:
            browser.close()


def bench_page(browser: Any, url: str) -> tuple[Any, Any]:
    """A fresh context with the runner page, its engine booted and bench_peers.mjs loaded."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{url}/runner.html")
    page.wait_for_function("window.engineReady === true", timeout=180_000)
    page.evaluate(
        "async (url) => { window.bench = await import(url); }",
        f"{url}/__files/bench/bench_peers.mjs",
    )
    return context, page


def measure_terminal(
    browser: Any, server: Any, tmp: Path, runs: int
) -> dict[str, list[dict[str, float]]]:
    """``pywebcodecs convert BIG.mp4 OUT.mkv`` against ``convertMedia`` of the same file
    from a Blob in the page (fetched before the clock), interleaved; ffprobe checks that
    both outputs hold the same packets. The big input is deleted at the end. Each page run
    has a context of its own: the page's 1.2 GB output stays in its (in-memory) OPFS until
    the context closes, and a second one beside it stalled."""
    big = big_720p(tmp)
    results: dict[str, list[dict[str, float]]] = {"terminal": [], "page": []}
    pywebcodecs = str(Path(sys.executable).with_name("pywebcodecs"))
    env = {**os.environ, "PYWEBCODECS_CACHE": str(tmp / "cache")}
    try:
        clip = tmp / "warm-up.mp4"
        ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30:duration=1", clip)
        warm_up = subprocess.run([pywebcodecs, "convert", "--json", str(clip), str(clip) + ".mkv"],
                                 env=env, capture_output=True, text=True, check=True)  # fmt: skip
        cold_ms = json.loads(warm_up.stdout.strip().splitlines()[-1])["engine_ready_ms"]
        print(f"terminal, empty cache (1 s clip): engine ready {cold_ms:.0f} ms", flush=True)
        spec = {"inputUrl": server.add_input("in/big-720p.mp4", big), "ours": {"container": "mkv"}}
        for run in range(runs):
            for side in ("terminal", "page")[run % 2 :] + ("terminal", "page")[: run % 2]:
                out = tmp / f"big-{side}.mkv"
                if side == "terminal":
                    command = [pywebcodecs, "convert", "--json", str(big), str(out)]
                    started = time.perf_counter()
                    process = subprocess.Popen(
                        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                        env=env,
                    )  # fmt: skip
                    with TreeSampler(process.pid) as memory:
                        stdout, _ = process.communicate(timeout=900)
                    if process.returncode:
                        raise SystemExit(f"{' '.join(command)} failed: {stdout}")
                    summary = json.loads(stdout.strip().splitlines()[-1])
                    # The command's time includes launching Chromium and booting the
                    # engine, which the page had done before its clock started.
                    answer = {"ms": (time.perf_counter() - started) * 1000,
                              "convert_ms": summary["convert_ms"],
                              "ready_ms": summary["engine_ready_ms"]}  # fmt: skip
                else:
                    spec["outputUrl"] = server.add_output("out/big-page.mkv", out)
                    context, page = bench_page(browser, server.url)
                    try:
                        page.evaluate("(job) => window.bench.prepare(job)", spec)
                        with MemorySampler(renderer_pids(browser)) as memory:
                            answer = page.evaluate(
                                "(job) => window.bench.run('pywebcodecs', job)", spec
                            )
                    finally:
                        context.close()
                answer["peak_mib"] = memory.peak_mib
                answer["counts"] = probe_counts(out)
                out.unlink()
                results[side].append(answer)
                parts = (
                    f" (engine ready {answer['ready_ms']:.0f}, conversion "
                    f"{answer['convert_ms']:.0f})"
                    if side == "terminal"
                    else ""
                )
                print(f"run {run + 1} 1.2 GB remux → MKV {side}: {answer['ms']:.0f} ms{parts}, "
                      f"{memory.peak_mib:.0f} MiB", flush=True)  # fmt: skip
            if results["terminal"][-1]["counts"] != results["page"][-1]["counts"]:
                raise SystemExit("1.2 GB remux: the terminal's and the page's outputs differ")
    finally:
        big.unlink()
    return results


def renderer_pids(browser: Any) -> list[int]:
    """The OS process ids of the browser's renderers (DevTools names them)."""
    session = browser.new_browser_cdp_session()
    try:
        processes = session.send("SystemInfo.getProcessInfo")["processInfo"]
    finally:
        session.detach()
    return [int(p["id"]) for p in processes if p["type"] == "renderer"]


def bundle_mediabunny(dest: Path) -> None:
    esbuild = REPO / "node_modules" / ".bin" / "esbuild"
    entry = REPO / "node_modules" / "mediabunny" / "dist" / "modules" / "src" / "index.js"
    if not entry.exists():
        raise SystemExit("node_modules/mediabunny is missing: run `npm ci`")
    subprocess.run(
        [
            str(esbuild),
            str(entry),
            "--bundle",
            "--format=esm",
            "--log-level=warning",
            f"--outfile={dest}",
        ],
        check=True,
    )


def run_jobs(
    page: Any, server: Any, jobs: tuple[Job, ...], runs: int, tmp: Path, pids: list[int]
) -> dict[str, dict[str, list[dict[str, float]]]]:
    """Every side of every job ``runs`` times; each output checked against the others."""
    results: dict[str, dict[str, list[dict[str, float]]]] = {}
    for run, job, side in schedule(jobs, runs):
        spec = {
            "inputUrl": server.add_input(f"in/{job.input.name}", job.input.make()),
            "ours": job.ours(),
            "mediabunny": job.mediabunny(),
            "limit": job.limit(),
        }
        out = tmp / f"{side}-{run}.{job.container}"
        spec["outputUrl"] = server.add_output(f"out/{side}-{run}.{job.container}", out)
        page.evaluate("(job) => window.bench.prepare(job)", spec)
        with MemorySampler(pids) as memory:
            answer = page.evaluate("([side, job]) => window.bench.run(side, job)", [side, spec])
        answer["peak_mib"] = memory.peak_mib
        if side == "limit":
            answer["counts"] = Counts(answer["videoPackets"], answer["audioPackets"], ())
        else:
            answer["counts"] = probe_counts(out)
            if job.container == "wav":
                answer["seconds"] = wav_seconds(out)
            out.unlink()
        results.setdefault(job.name, {}).setdefault(side, []).append(answer)
        print(f"run {run + 1} {job.name} {side}: {answer['ms']:.0f} ms", flush=True)
        if all(len(results[job.name].get(s, ())) == run + 1 for s in job.sides):
            check_outputs(job, {s: r[-1] for s, r in results[job.name].items()})
    return results


def check_outputs(job: Job, answers: dict[str, dict[str, Any]]) -> None:
    problems = counts_agree(job, {side: a["counts"] for side, a in answers.items()})
    if job.container == "wav":
        problems += wav_lengths_agree(
            job, answers["pywebcodecs"]["seconds"], answers["mediabunny"]["seconds"]
        )
    if problems:
        raise SystemExit(f"{job.name}: outputs differ: " + "; ".join(problems))


#: Start-up modes: a bare ``loadPyodide()``, ``loadEngine()``, the README's Worker (both
#: from ``bench_startup.html``) and the converter page itself (``index.html``).
STARTUP_MODES = ("bare", "engine", "worker", "page")
#: Start-up runs are cheap (~30 s for all modes) and first visits spread widely (2.7-3.7 s
#: in one run of 5), so start-up has its own count (``--startup-runs``).
STARTUP_RUNS = 5
#: Read into the converter page before its own scripts: it stamps each start-up step the
#: page lists (``#engine-steps``) and the moment ``data-engine`` says ready, as
#: ``bench_startup.html`` does for the other modes.
PAGE_STARTUP_PROBE = """
const steps = [];
new MutationObserver(() => {
  if (window.startup || !document.body) return;
  const items = document.querySelectorAll("#engine-steps li");
  for (const item of [...items].slice(steps.length)) {
    steps.push({ step: item.textContent.replace(/…$/, ""), ms: performance.now() });
  }
  const state = document.body.dataset.engine;
  if (state === "ready") window.startup = { ms: performance.now(), steps };
  if (state === "failed") window.startup = { error: document.body.innerText };
}).observe(document, { subtree: true, childList: true, attributes: true });
"""


def measure_startup(browser: Any, server_url: str, runs: int) -> dict[str, list[dict[str, Any]]]:
    """First and repeat visits of each of ``STARTUP_MODES``, interleaved with the first
    mode rotating; keys ``"MODE first"`` and ``"MODE repeat"``."""
    results: dict[str, list[dict[str, Any]]] = {}
    for run in range(runs):
        shift = run % len(STARTUP_MODES)
        for mode in STARTUP_MODES[shift:] + STARTUP_MODES[:shift]:
            for visit, answer in visit_twice(browser, server_url, mode).items():
                results.setdefault(f"{mode} {visit}", []).append(answer)
                print(
                    f"run {run + 1} start-up {mode} {visit}: {answer['ms']:.0f} ms "
                    f"({startup_steps(answer)})",
                    flush=True,
                )
    return results


def visit_twice(browser: Any, server_url: str, mode: str) -> dict[str, dict[str, Any]]:
    """A first and a repeat visit of one start-up mode in a fresh context (empty HTTP
    cache, no service worker). The service worker is installed between the visits (the
    page installs it itself; the bench waits until it is ready, as a user coming back
    later would find it); keys ``"first"`` and ``"repeat"``."""
    url = f"{server_url}/__files/bench/bench_startup.html?mode={mode}"
    context = browser.new_context()
    if mode == "page":
        url = f"{server_url}/"
        context.add_init_script(PAGE_STARTUP_PROBE)
    answers = {}
    try:
        page = context.new_page()
        for visit in ("first", "repeat"):
            page.goto(url)
            page.wait_for_function("window.startup !== undefined", timeout=180_000)
            answer = page.evaluate("window.startup")
            if "error" in answer:
                raise SystemExit(f"start-up ({mode}, {visit} visit) failed: {answer['error']}")
            answers[visit] = answer
            if visit == "first":
                page.evaluate("""async () => {
                    await navigator.serviceWorker.register('/sw.js');
                    await navigator.serviceWorker.ready; }""")
    finally:
        context.close()
    return answers


def startup_breakdown(answer: dict[str, Any]) -> dict[str, float]:
    """Pyodide boot (from the navigation), engine install and first import, in ms, from the
    engine's three steps (loading Pyodide, installing, starting); a bare boot is all boot."""
    steps = [s["ms"] for s in answer["steps"]]
    if len(steps) != 3:
        return {"boot": answer["ms"]}
    return {"boot": steps[1], "install": steps[2] - steps[1], "import": answer["ms"] - steps[2]}


def median_breakdown(answers: list[dict[str, Any]]) -> str:
    """Each part of ``startup_breakdown``'s median over the runs, "boot + install + import"."""
    parts = [startup_breakdown(a) for a in answers]
    return " + ".join(f"{statistics.median(p[k] for p in parts):.0f}" for k in parts[0])


def startup_steps(answer: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v:.0f}" for k, v in startup_breakdown(answer).items())


# --- the report ----------------------------------------------------------------------


def cell(answers: list[dict[str, Any]]) -> str:
    """Median time and spread (fastest-slowest) of a side's runs."""
    times = [a["ms"] for a in answers]
    return f"{statistics.median(times):.0f} ({min(times):.0f}-{max(times):.0f})"


def median_ms(answers: list[dict[str, Any]]) -> float:
    return statistics.median(a["ms"] for a in answers)


def report_terminal(results: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Prints the terminal section's table; returns its JSON figures."""
    print("\n| 1.2 GB remux → MKV | time | peak MiB (process tree) |\n| --- | --- | --- |")
    for side in ("page", "terminal"):
        peak = max(a["peak_mib"] for a in results[side])
        print(f"| {side} | {cell(results[side])} | {peak:.0f} |")
    terminal = results["terminal"]
    print(
        f"terminal: engine ready {statistics.median(a['ready_ms'] for a in terminal):.0f} ms, "
        f"conversion {statistics.median(a['convert_ms'] for a in terminal):.0f} ms (medians)"
    )
    return {
        "terminal_vs_page": round(median_ms(results["terminal"]) / median_ms(results["page"]), 3),
        "terminal_peak_mib": round(max(a["peak_mib"] for a in results["terminal"])),
        "page_peak_mib": round(max(a["peak_mib"] for a in results["page"])),
    }


def report_startup(startup: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Prints the start-up table (ms from the navigation: median (spread)) with each
    mode's median breakdown; returns its JSON figures (each mode's first visit over a bare
    ``loadPyodide()``'s)."""
    print("\n| start-up | first visit | repeat visit | boot + install + import: first; repeat |")
    print("| --- | --- | --- | --- |")
    for mode in STARTUP_MODES:
        first, repeat = startup[f"{mode} first"], startup[f"{mode} repeat"]
        steps = "; ".join(median_breakdown(answers) for answers in (first, repeat))
        print(f"| {mode} | {cell(first)} | {cell(repeat)} | {steps} |")
    start = {key: median_ms(answers) for key, answers in startup.items()}
    bare = start["bare first"]
    return {
        "startup_vs_bare_pyodide": round(start["engine first"] / bare, 3),
        "page_startup_vs_bare_pyodide": round(start["page first"] / bare, 3),
        "worker_startup_vs_bare_pyodide": round(start["worker first"] / bare, 3),
        "repeat_startup_ms": round(start["engine repeat"]),
        "first_startup_ms": round(start["engine first"]),
        "page_startup_ms": round(start["page first"]),
        "page_repeat_startup_ms": round(start["page repeat"]),
        "worker_startup_ms": round(start["worker first"]),
        "worker_repeat_startup_ms": round(start["worker repeat"]),
        "bare_pyodide_ms": round(bare),
        "bare_pyodide_repeat_ms": round(start["bare repeat"]),
    }


def report(
    results: dict[str, dict[str, list[dict[str, Any]]]], startup: dict[str, list[dict[str, Any]]]
) -> dict[str, Any]:
    """Prints the tables (ms: median (spread)); returns the JSON line's figures. Each
    ``_vs_`` headline is the worst job of its kind: ours/theirs, limit/ours."""
    print(f"\n| work | {' | '.join(SIDES)} | ours/Mediabunny | limit/ours | peak MiB ours, MB |")
    print("| --- " * (len(SIDES) + 4) + "|")
    figures: dict[str, Any] = {}
    for name, sides in results.items():
        ms = {side: median_ms(answers) for side, answers in sides.items()}
        vs_mb = ms["pywebcodecs"] / ms["mediabunny"]
        vs_limit = ms["limit"] / ms["pywebcodecs"] if "limit" in ms else None
        peaks = [max(a["peak_mib"] for a in sides[s]) for s in ("pywebcodecs", "mediabunny")]
        cells = [cell(sides[s]) if s in sides else "—" for s in SIDES]
        limit_cell = f"{vs_limit:.2f}" if vs_limit else "—"
        print(
            f"| {name} | {' | '.join(cells)} | {vs_mb:.2f} | {limit_cell} "
            f"| {peaks[0]:.0f}, {peaks[1]:.0f} |"
        )
        figures[name] = {"vs_mediabunny": vs_mb, "vs_limit": vs_limit, "peak_mib": peaks[0]}
    line: dict[str, Any] = {}
    if startup:
        line.update(report_startup(startup))
    transcodes = [f for f in figures.values() if f["vs_limit"] is not None]
    remuxes = [f for n, f in figures.items() if "remux" in n and "30 min" not in n]
    if transcodes:
        line["transcode_vs_limit"] = round(min(f["vs_limit"] for f in transcodes), 3)
        line["transcode_vs_mediabunny"] = round(max(f["vs_mediabunny"] for f in transcodes), 3)
    if remuxes:
        line["remux_vs_mediabunny"] = round(max(f["vs_mediabunny"] for f in remuxes), 3)
    for name, f in figures.items():
        line[name] = {k: round(v, 3) for k, v in f.items() if v is not None}
    return line


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS, help="interleaved runs of each")
    parser.add_argument("--jobs", nargs="*", help="only jobs whose name contains one of these")
    parser.add_argument(
        "--startup",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="time start-up too (default: yes)",
    )
    parser.add_argument(
        "--startup-runs",
        type=int,
        default=STARTUP_RUNS,
        help=f"interleaved start-up runs of each mode (default {STARTUP_RUNS})",
    )
    parser.add_argument(
        "--terminal",
        action="store_true",
        help="also time `pywebcodecs convert` against the page on a 1.2 GB file (needs 2.5 GB "
        "of disk)",
    )
    args = parser.parse_args()
    jobs = tuple(j for j in JOBS if not args.jobs or any(k in j.name for k in args.jobs))
    for job in jobs:
        job.input.make()  # before any clock: ffmpeg must not share the CPU with a run
    with bench_browser() as (tmp, server, browser):
        print(f"Chromium {browser.version}, {os.cpu_count()} cores, {args.runs} runs", flush=True)
        runs = args.startup_runs
        startup = measure_startup(browser, server.url, runs) if args.startup else {}
        context, page = bench_page(browser, server.url)
        pids = renderer_pids(browser)
        results = run_jobs(page, server, jobs, args.runs, tmp, pids)
        context.close()
        terminal = measure_terminal(browser, server, tmp, args.runs) if args.terminal else {}
    line = report(results, startup)
    if terminal:
        line.update(report_terminal(terminal))
    print(json.dumps(line, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
