"""Where an audio conversion's main-thread time goes, in the page, on one or more builds.

    .venv/bin/python build_scripts/profile_audio.py [--sites DIR ...] [--jobs mp3 vp8 vp8-silent]
        [--runs 3] [--profile]

Runs bench_peers' MP3 → WAV and 720p → WebM VP8+Opus jobs with our engine only (the
same options as the benchmark), ``vp8-silent``: the VP8 job with its audio dropped, so
that the difference between the two is what the audio costs the transcode, and
``aac-opus``: its audio alone (AAC → Opus, the video dropped); ``mp3-opus``: the MP3 (24
kHz) to WebM Opus, resampled to 48 kHz for the encoder. Each site
(``--sites``, default ``$PYWEBCODECS_STATIC`` or ``static/``) is served on a port of its
own in its own tab of one Chromium, and the runs are interleaved (site A, site B, then B,
A, ...), so that a build is compared with another at the same load.

For each run: the wall time of ``convertMedia``, and from CDP ``Performance.getMetrics``
the renderer main thread's busy time (``TaskDuration``) and its script part
(``ScriptDuration``: Python and JS; the codecs' own threads are not in either).
``--profile`` wraps the engine's ``convert`` in ``cProfile`` from outside (a monkeypatch
in the page, nothing in the engine) and prints, per site and job, Python's own time per
module and the functions that take the most; the profiler slows Python, so its runs are
separate from the timed ones and their times are not comparable with them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_peers import JOBS, REPO, Job, bundle_mediabunny

#: Our job names → the benchmark's job and changes to its options.
CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "mp3": ("MP3 → WAV", {}),
    "mp3-opus": ("MP3 → WAV", {"container": "webm"}),
    "vp8": ("720p → WebM VP8+Opus", {}),
    "vp8-silent": ("720p → WebM VP8+Opus", {"audioCodec": "drop"}),
    "aac-opus": ("720p → WebM VP8+Opus", {"videoCodec": "drop"}),
}

#: Installed in the page by --profile: the engine's ``convert`` (what ``convertMedia``
#: calls, looked up at each call) runs under cProfile; ``profile_report()`` gives the
#: stats gathered since the last report as JSON and starts afresh.
PROFILER_PY = """
import cProfile, json, pstats
from pywebcodecs.browser import js_api

_plain = getattr(js_api, "_unprofiled_convert", None) or js_api.convert
js_api._unprofiled_convert = _plain
_profile = cProfile.Profile()

async def _profiled(src, options=None):
    _profile.enable()
    try:
        return await _plain(src, options)
    finally:
        _profile.disable()

js_api.convert = _profiled

def profile_report():
    global _profile
    rows = [[f, line, name, nc, tt, ct]
            for (f, line, name), (cc, nc, tt, ct, _) in pstats.Stats(_profile).stats.items()]
    _profile = cProfile.Profile()
    return json.dumps(rows)
"""

RUN_JS = """async ([url, options]) => {
  window.inputs ??= new Map();
  if (!window.inputs.has(url)) window.inputs.set(url, await (await fetch(url)).blob());
  const { convertMedia } = await import("/engine.mjs");
  const blob = window.inputs.get(url);
  const started = performance.now();
  const result = await convertMedia(blob, options);
  return { ms: performance.now() - started, bytes: result.blob.size };
}"""


def options_for(case: str) -> tuple[Job, dict[str, Any]]:
    name, changes = CASES[case]
    job = next(j for j in JOBS if j.name == name)
    return job, {**job.ours(), **changes}


#: Our names → CDP ``Performance.getMetrics`` names (seconds): the renderer main thread's
#: busy time, its script part (Python and JS), its CPU time, and the whole renderer
#: process's CPU time (the codecs' threads too).
METRICS = {"task_ms": "TaskDuration", "script_ms": "ScriptDuration", "thread_ms": "ThreadTime",
           "process_ms": "ProcessTime"}  # fmt: skip
MEDIABUNNY = "mediabunny"


def metrics(cdp: Any) -> dict[str, float]:
    return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}


def run_once(tab: dict[str, Any], case: str, options: dict[str, Any]) -> dict[str, float]:
    """One conversion in ``tab`` (ours, or Mediabunny's in its tab): wall ms, the main
    thread's busy, script and CPU ms, and the renderer's CPU ms (all its threads)."""
    before = metrics(tab["cdp"])
    if tab["site"] == MEDIABUNNY:
        answer = tab["page"].evaluate("(job) => window.bench.run('mediabunny', job)",
                                      tab["jobs"][case])  # fmt: skip
    else:
        answer = tab["page"].evaluate(RUN_JS, [tab["urls"][case], options])
    after = metrics(tab["cdp"])
    delta = {key: (after[key] - before[key]) * 1000 for key in METRICS.values()}
    return {"ms": answer["ms"], **{name: delta[key] for name, key in METRICS.items()}}


def print_profile(label: str, rows: list[list[Any]], top: int) -> None:
    """Python's own time per module and the ``top`` functions by own time."""
    total = sum(r[4] for r in rows)
    per_module: dict[str, float] = {}
    for path, _line, _name, _calls, own, _cumulative in rows:
        module = path.split("site-packages/")[-1] if "site-packages/" in path else path
        per_module[module] = per_module.get(module, 0.0) + own
    print(f"\n## {label}: Python's own time {total * 1000:.0f} ms (profiled)")
    for module, own in sorted(per_module.items(), key=lambda kv: -kv[1])[:12]:
        print(f"  {own * 1000:7.1f} ms  {module}")
    print("  -- functions (own ms, cumulative ms, calls)")
    for path, line, name, calls, own, cumulative in sorted(rows, key=lambda r: -r[4])[:top]:
        where = path.rsplit("/", 1)[-1]
        print(f"  {own * 1000:7.1f} {cumulative * 1000:8.1f} {calls:7d}  {where}:{line} {name}")


def open_tab(browser: Any, server: Any, site: str, cases: dict[str, Any], tmp: Path) -> dict:
    """A tab of ``server``'s site with its engine booted, its CDP metrics on, and each
    case's input served (for Mediabunny, bench_peers.mjs loaded and each job prepared)."""
    page = browser.new_context().new_page()
    page.goto(f"{server.url}/runner.html")
    page.wait_for_function("window.engineReady === true", timeout=180_000)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")
    tab: dict[str, Any] = {"site": site, "page": page, "cdp": cdp, "urls": {}, "jobs": {}}
    for case, (job, _) in cases.items():
        tab["urls"][case] = server.add_input(f"in/{job.input.name}", job.input.make())
    if site == MEDIABUNNY:
        bundle_mediabunny(tmp / "mediabunny.mjs")
        for name, path in (("bench_peers.mjs", REPO / "build_scripts" / "bench_peers.mjs"),
                           ("mediabunny.mjs", tmp / "mediabunny.mjs")):  # fmt: skip
            server.add_input(f"bench/{name}", path)
        page.evaluate("async (url) => { window.bench = await import(url); }",
                      f"{server.url}/__files/bench/bench_peers.mjs")  # fmt: skip
        for case, (job, _) in cases.items():
            if CASES[case][1]:
                continue  # not the benchmark's job: Mediabunny is not told of the change
            spec = {"inputUrl": tab["urls"][case], "mediabunny": job.mediabunny(), "limit": None,
                    "outputUrl": server.add_output(f"out/{case}", tmp / f"mb-{case}")}  # fmt: skip
            page.evaluate("(job) => window.bench.prepare(job)", spec)
            tab["jobs"][case] = spec
    return tab


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_site = os.environ.get("PYWEBCODECS_STATIC") or str(REPO / "static")
    parser.add_argument(
        "--sites", nargs="+", default=[default_site],
        help=f"built sites; {MEDIABUNNY!r}: Mediabunny (in a tab of the first site; the "
        "benchmark's jobs only, mp3 and vp8)",
    )  # fmt: skip
    parser.add_argument("--jobs", nargs="+", default=["mp3"], choices=sorted(CASES))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="also one cProfile'd run each")
    parser.add_argument("--top", type=int, default=25, help="functions listed per profile")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from pywebcodecs_host.browser import launch_options
    from pywebcodecs_host.site_server import SiteServer

    cases = {case: options_for(case) for case in args.jobs}
    for job, _ in cases.values():
        job.input.make()  # before any clock
    first_site = next(s for s in args.sites if s != MEDIABUNNY)
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        playwright = stack.enter_context(sync_playwright())
        browser = playwright.chromium.launch(**launch_options())  # type: ignore[arg-type]
        tabs = []
        for site in args.sites:
            server = stack.enter_context(SiteServer(first_site if site == MEDIABUNNY else site))
            tabs.append(open_tab(browser, server, site, cases, tmp))
        for tab in tabs:  # a first, untimed conversion each: imports, caches, JIT
            for case, (_, options) in cases.items():
                if tab["site"] != MEDIABUNNY or case in tab["jobs"]:
                    run_once(tab, case, options)
        results: dict[tuple[str, str], list[dict[str, float]]] = {}
        for run in range(args.runs):
            order = tabs[run % len(tabs) :] + tabs[: run % len(tabs)]
            for case, (_, options) in cases.items():
                for tab in order:
                    if tab["site"] == MEDIABUNNY and case not in tab["jobs"]:
                        continue
                    got = run_once(tab, case, options)
                    results.setdefault((tab["site"], case), []).append(got)
                    figures = ", ".join(f"{k} {v:.0f}" for k, v in got.items())
                    print(f"run {run + 1} {case} {tab['site']}: {figures}", flush=True)
        print(f"\n| site | job | wall ms | {' | '.join(METRICS)} |  (medians; load "
              f"{os.getloadavg()[0]:.1f})")  # fmt: skip
        for (site, case), answers in results.items():
            spread = f"{min(a['ms'] for a in answers):.0f}-{max(a['ms'] for a in answers):.0f}"
            cells = [f"{statistics.median(a[k] for a in answers):.0f}" for k in METRICS]
            wall = statistics.median(a["ms"] for a in answers)
            print(f"| {site} | {case} | {wall:.0f} ({spread}) | {' | '.join(cells)} |")
        if args.profile:
            for tab in tabs:
                if tab["site"] == MEDIABUNNY:
                    continue
                tab["page"].evaluate(
                    "async (code) => (await (await import('/engine.mjs')).loadEngine())"
                    ".runPython(code)",
                    PROFILER_PY,
                )
                for case, (_, options) in cases.items():
                    got = run_once(tab, case, options)
                    rows = json.loads(tab["page"].evaluate(
                        "async () => (await (await import('/engine.mjs')).loadEngine())"
                        ".runPython('profile_report()')"
                    ))  # fmt: skip
                    print_profile(f"{tab['site']} {case} ({got['ms']:.0f} ms)", rows, args.top)
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
