"""Profile: where the page's main thread spends a 720p transcode, ours against the limit.

    .venv/bin/python build_scripts/profile_transcode.py [--job VP8] [--runs 3]

Runs one of bench_peers.py's transcode jobs (same input, options, page and limit, imported
from it) in one headless Chromium on the built site (``$PYWEBCODECS_STATIC``, else
``static/``), and prints three tables:

1. **Main thread busy time** (CDP ``Performance.getMetrics`` deltas: ``TaskDuration`` is
   every task the renderer's main thread ran, ``ScriptDuration`` the JS and wasm in them)
   for ours and the limit, interleaved, medians of ``--runs``.
2. **Main thread by kind** from a sampling CPU profile (CDP ``Profiler``, 100 µs) of one
   run of each: the Python interpreter (wasm), Pyodide's JS glue (the bridge), other JS
   (our ``run_js`` helpers, the limit's loop), garbage collection, native work outside JS
   ("program": WebCodecs' task dispatch, frame copies) and idle.
3. **Our Python by stage** in one more run, with every stage's function wrapped from
   outside (monkeypatched in the page, nothing added to the engine): exclusive time of
   each (a stage's time excludes the stages it calls and the time its coroutines are
   suspended), calls and µs per call. The clock is ``performance.now()``, which a page
   that is not cross-origin isolated gets in 100 µs steps with jitter: sums over
   thousands of calls are right, single calls are not. The wrappers cost a few µs per
   call themselves, so this run is slower than the others; compare stages, not totals.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_peers import JOBS, bench_browser, bench_page

#: Our functions, by the stage they are charged to: (module, class or None, attribute).
STAGES: dict[str, list[tuple[str, str | None, str]]] = {
    "pump loop (_pump: progress, dispatch)": [("pywebcodecs.conversion", None, "_pump")],
    "demux (packets())": [
        ("pywebcodecs.isobmff.demuxer", "IsobmffDemuxer", "packets"),
        ("pywebcodecs.matroska.demuxer", "MatroskaDemuxer", "packets"),
    ],
    "read (Reader.read, source)": [
        ("pywebcodecs.reader", "Reader", "read"),
        ("pywebcodecs.browser.sources", "BlobSource", "read"),
    ],
    "decode push (CodecSession.push: gate, to_js, decode)": [
        ("pywebcodecs.browser.transcode.session", "CodecSession", "push")
    ],
    "audio push checks (AudioSession.push)": [
        ("pywebcodecs.browser.transcode.audio_session", "AudioSession", "push")
    ],
    "video frame callback (encode)": [
        ("pywebcodecs.browser.transcode.video_session", "VideoSession", "_on_frame")
    ],
    "audio data callback (encode)": [
        ("pywebcodecs.browser.transcode.audio_session", "AudioSession", "_on_audio")
    ],
    "video encoder output (_emit)": [
        ("pywebcodecs.browser.transcode.video_session", "VideoSession", "_on_chunk")
    ],
    "audio encoder output (_emit)": [
        ("pywebcodecs.browser.transcode.audio_session", "AudioSession", "_on_chunk")
    ],
    "room gate wake": [("pywebcodecs.browser.transcode.session", "CodecSession", "_wake")],
    "interleave push": [("pywebcodecs.interleave", "Interleaver", "push")],
    "interleave drain": [("pywebcodecs.interleave", "Interleaver", "drain")],
    "mux (write_packet)": [
        ("pywebcodecs.matroska.muxer", "MatroskaMuxer", "write_packet"),
        ("pywebcodecs.isobmff.muxer", "Mp4Muxer", "write_packet"),
    ],
    "sink (write, put to JS)": [
        ("pywebcodecs.sink", "StreamedSink", "write"),
        ("pywebcodecs.browser.sinks", "BlobSink", "put"),
    ],
    "progress report": [("pywebcodecs.conversion", "_ProgressReporter", "report")],
    "asyncio (event loop's own steps)": [("asyncio.events", "Handle", "_run")],
}

#: Runs in the page's Pyodide: wraps every function of ``STAGES`` (a JSON global) so that
#: the time on the Python stack is charged to the innermost stage running.
INSTRUMENT = r"""
import asyncio, functools, importlib, inspect, json, time

class _Profile:
    def __init__(self):
        self.clock = time.perf_counter
        self.stack, self.total, self.calls = [], {}, {}
        self.last = self.clock()
        self.originals = []

    def _charge(self):
        now = self.clock()
        if self.stack:
            top = self.stack[-1]
            self.total[top] = self.total.get(top, 0.0) + now - self.last
        self.last = now

    def enter(self, name):
        self._charge()
        self.stack.append(name)

    def leave(self):
        self._charge()
        self.stack.pop()

    def reset(self):
        self.total.clear(); self.calls.clear(); self.stack.clear(); self.last = self.clock()

    def report(self):
        return json.dumps({"total": self.total, "calls": self.calls})

_pwc = _Profile()

class _Timed:
    '''Drives a coroutine (or an async generator's __anext__) one step at a time, each
    step charged to ``name``; suspended time is no stage's.'''
    def __init__(self, awaitable, name):
        self.awaitable, self.name = awaitable, name

    def __await__(self):
        inner = self.awaitable.__await__()
        value, error = None, None
        while True:
            _pwc.enter(self.name)
            try:
                yielded = inner.throw(error) if error is not None else inner.send(value)
            except StopIteration as stop:
                return stop.value
            finally:
                _pwc.leave()
            try:
                value, error = (yield yielded), None
            except BaseException as exc:
                value, error = None, exc

def _count(name):
    _pwc.calls[name] = _pwc.calls.get(name, 0) + 1

def _wrap(function, name):
    if inspect.isasyncgenfunction(function):
        @functools.wraps(function)
        def agen(*args, **kwargs):
            return _TimedGen(function(*args, **kwargs), name)
        return agen
    if inspect.iscoroutinefunction(function):
        @functools.wraps(function)
        async def coro(*args, **kwargs):
            _count(name)
            return await _Timed(function(*args, **kwargs), name)
        return coro
    @functools.wraps(function)
    def plain(*args, **kwargs):
        _count(name)
        _pwc.enter(name)
        try:
            return function(*args, **kwargs)
        finally:
            _pwc.leave()
    return plain

class _TimedGen:
    def __init__(self, agen, name):
        self.agen, self.name = agen, name
    def __aiter__(self):
        return self
    def __anext__(self):
        _count(self.name)
        return _Timed(self.agen.__anext__(), self.name)
    async def aclose(self):
        await self.agen.aclose()

for _name, _targets in json.loads(STAGES).items():
    for _module, _cls, _attr in _targets:
        _owner = importlib.import_module(_module)
        if _cls is not None:
            _owner = getattr(_owner, _cls)
        _original = _owner.__dict__[_attr] if _cls is not None else getattr(_owner, _attr)
        _pwc.originals.append((_owner, _attr, _original))
        setattr(_owner, _attr, _wrap(_original, _name))
"""

UNINSTRUMENT = """
for _owner, _attr, _original in reversed(_pwc.originals):
    setattr(_owner, _attr, _original)
_pwc.originals.clear()
"""

#: Native WebCodecs entry points, as the sampling profile names them.
WEBCODECS_CALLS = frozenset({
    "decode", "encode", "copyTo", "close", "configure", "flush", "isConfigSupported",
    "EncodedVideoChunk", "EncodedAudioChunk", "VideoFrame", "AudioData", "VideoEncoder",
    "VideoDecoder", "AudioEncoder", "AudioDecoder", "allocationSize",
})  # fmt: skip
#: How many of the busiest functions (self time) each sampled side lists.
TOP_FUNCTIONS = 12

#: The tables, as ``--tables`` names them.
TABLES = ("busy", "sampled", "stages")

SIDE_NAMES = {"pywebcodecs": "ours", "limit": "limit"}


def run_side(page: Any, side: str, spec: dict[str, Any]) -> dict[str, Any]:
    page.evaluate("(job) => window.bench.prepare(job)", spec)
    answer: dict[str, Any] = page.evaluate(
        "([side, job]) => window.bench.run(side, job)", [side, spec]
    )
    return answer


def metrics(cdp: Any) -> dict[str, float]:
    return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}


def busy_time(page: Any, cdp: Any, spec: dict[str, Any], runs: int) -> None:
    """Table 1: main-thread task and script time per side, interleaved."""
    rows: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for run in range(runs):
        sides = ("pywebcodecs", "limit")[run % 2 :] + ("pywebcodecs", "limit")[: run % 2]
        for side in sides:
            page.evaluate("(job) => window.bench.prepare(job)", spec)
            before = metrics(cdp)
            answer = run_side(page, side, spec)
            after = metrics(cdp)
            row = rows[side]
            row["wall"].append(answer["ms"])
            for key in ("TaskDuration", "ScriptDuration"):
                row[key].append((after[key] - before[key]) * 1000)
            print(f"run {run + 1} {SIDE_NAMES[side]}: {answer['ms']:.0f} ms", flush=True)
    print("\n| main thread (median ms) | wall | busy (TaskDuration) | script (JS + wasm) "
          "| busy / wall |\n| --- | --- | --- | --- | --- |")  # fmt: skip
    for side in ("pywebcodecs", "limit"):
        row = {k: statistics.median(v) for k, v in rows[side].items()}
        busy, script = row["TaskDuration"], row["ScriptDuration"]
        print(f"| {SIDE_NAMES[side]} | {row['wall']:.0f} | {busy:.0f} | {script:.0f} | "
              f"{busy / row['wall']:.2f} |")  # fmt: skip


def kind_of(frame: dict[str, Any]) -> str:
    name, url = frame["functionName"], frame["url"]
    if name == "(idle)":
        return "idle"
    if name == "(garbage collector)":
        return "garbage collection"
    if name in ("(program)", "(root)"):
        return "native, outside JS (program)"
    if url.startswith("wasm://") or url.endswith(".wasm"):
        return "Python interpreter and C code (wasm)"
    if "pyodide" in url:
        return "Pyodide JS glue (bridge)"
    if "mediabunny" in url:
        return "Mediabunny JS"
    if url.endswith("bench_peers.mjs"):
        return "limit's JS loop"
    if url:
        return f"JS ({url.rsplit('/', 1)[-1]})"
    if name in WEBCODECS_CALLS:
        return "WebCodecs calls (decode, encode, copyTo, close, isConfigSupported...)"
    return "other JS without a file (run_js helpers, DOM calls)"


def sampled(page: Any, cdp: Any, spec: dict[str, Any]) -> None:
    """Table 2: a sampling profile of one run of each side, self time by kind."""
    by_side: dict[str, dict[str, float]] = {}
    for side in ("pywebcodecs", "limit"):
        page.evaluate("(job) => window.bench.prepare(job)", spec)
        cdp.send("Profiler.enable")
        cdp.send("Profiler.setSamplingInterval", {"interval": 100})
        cdp.send("Profiler.start")
        answer = run_side(page, side, spec)
        profile = cdp.send("Profiler.stop")["profile"]
        cdp.send("Profiler.disable")
        nodes = {node["id"]: node for node in profile["nodes"]}
        deltas = profile["timeDeltas"]
        kinds: dict[str, float] = defaultdict(float)
        functions: dict[str, float] = defaultdict(float)
        for sample, delta in zip(profile["samples"][1:], deltas[1:], strict=True):
            frame = nodes[sample]["callFrame"]
            kind = kind_of(frame)
            kinds[kind] += delta / 1000
            if kind != "idle":
                where = frame["url"].rsplit("/", 1)[-1]
                functions[f"{frame['functionName'] or '(anonymous)'} {where}"] += delta / 1000
        by_side[side] = kinds
        top = sorted(functions.items(), key=lambda item: -item[1])[:TOP_FUNCTIONS]
        print(
            f"sampled {SIDE_NAMES[side]}: {answer['ms']:.0f} ms; busiest functions: "
            + ", ".join(f"{name} {ms:.0f}" for name, ms in top),
            flush=True,
        )
    names = sorted({k for kinds in by_side.values() for k in kinds},
                   key=lambda k: -by_side["pywebcodecs"].get(k, 0))  # fmt: skip
    print("\n| main thread by kind (sampled, ms) | ours | limit |\n| --- | --- | --- |")
    for name in names:
        ours, limit = by_side["pywebcodecs"].get(name, 0), by_side["limit"].get(name, 0)
        print(f"| {name} | {ours:.0f} | {limit:.0f} |")
    busy = {s: sum(v for k, v in kinds.items() if k != "idle") for s, kinds in by_side.items()}
    print(f"| **busy (all but idle)** | {busy['pywebcodecs']:.0f} | {busy['limit']:.0f} |")


def by_stage(page: Any, spec: dict[str, Any]) -> None:
    """Table 3: our Python's exclusive time by stage, one instrumented run."""
    code = f"STAGES = {json.dumps(json.dumps(STAGES))}\n{INSTRUMENT}"
    run_python = (
        "async (code) => (await (await import('/engine.mjs')).loadEngine()).runPython(code)"
    )
    page.evaluate("(job) => window.bench.prepare(job)", spec)
    page.evaluate(run_python, code)
    try:
        page.evaluate(run_python, "_pwc.reset()")
        answer = run_side(page, "pywebcodecs", spec)
        report = json.loads(page.evaluate(run_python, "_pwc.report()"))
    finally:
        page.evaluate(run_python, UNINSTRUMENT)
    total_ms = sum(report["total"].values()) * 1000
    print(f"\ninstrumented run: {answer['ms']:.0f} ms wall, {total_ms:.0f} ms in the stages")
    print("| our Python by stage (exclusive) | ms | calls | µs/call |\n| --- | --- | --- | --- |")
    for name, seconds in sorted(report["total"].items(), key=lambda item: -item[1]):
        calls = report["calls"].get(name, 0)
        per = f"{seconds * 1e6 / calls:.0f}" if calls else "—"
        print(f"| {name} | {seconds * 1000:.0f} | {calls} | {per} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--job", default="VP8", help="a bench_peers transcode job's name part")
    parser.add_argument("--runs", type=int, default=3, help="interleaved runs for table 1")
    parser.add_argument(
        "--tables",
        nargs="*",
        choices=TABLES,
        default=list(TABLES),
        help="which tables (default: all; each run of a side takes seconds, minutes on a "
        "loaded machine)",
    )
    args = parser.parse_args()
    jobs = [j for j in JOBS if j.with_limit and args.job in j.name]
    if len(jobs) != 1:
        raise SystemExit(f"--job {args.job!r} names {len(jobs)} transcode jobs, not one")
    job = jobs[0]
    from pywebcodecs_host.headless import default_static_dir

    job.input.make()
    with bench_browser() as (tmp, server, browser):
        spec = {
            "inputUrl": server.add_input(f"in/{job.input.name}", job.input.make()),
            "ours": job.ours(),
            "mediabunny": job.mediabunny(),
            "limit": job.limit(),
            "outputUrl": server.add_output(f"out/profile.{job.container}", tmp / "out"),
        }
        load = os.getloadavg()[0]
        print(f"{job.name}: Chromium {browser.version}, {os.cpu_count()} cores, "
              f"site {default_static_dir()}, load {load:.1f}", flush=True)  # fmt: skip
        _, page = bench_page(browser, server.url)
        cdp = page.context.new_cdp_session(page)
        cdp.send("Performance.enable")
        run_side(page, "pywebcodecs", spec)  # warm-up: first-use imports, codec start-up
        if "busy" in args.tables:
            busy_time(page, cdp, spec, args.runs)
        if "sampled" in args.tables:
            sampled(page, cdp, spec)
        if "stages" in args.tables:
            by_stage(page, spec)
        print(f"load at the end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
