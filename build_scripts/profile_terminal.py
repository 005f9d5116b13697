"""Where the time of ``pywebcodecs convert`` goes, step by step, on one or more trees.

    .venv/bin/python build_scripts/profile_terminal.py INPUT [--trees DIR ...] [--runs 3]

Runs ``pywebcodecs convert --json INPUT OUT`` (OUT: INPUT's name as ``.mkv`` in a temp
folder) in a child Python whose steps are timestamped by wrapping Playwright's and the
host's methods from outside (nothing in the command itself): Python's start and imports,
Playwright's driver start, Chromium's launch, the runner page's load and the engine's
boot, the conversion, the context's and the server's close, and the process's exit (seen
by this script). From the page: when its last file arrived (Pyodide, the stdlib, the
wheel; the rest of the boot is compute), how many were revalidated (answered 304), and
its own ready time. And the host process's CPU (user, system), which shares the 2 cores
with Chromium's codecs.

Each tree (``--trees``, default this checkout) runs its own ``py_src`` against the site
of ``$PYWEBCODECS_STATIC`` (else ``static/``) with Chromium's profile in a temp folder of
its own, warmed by one untimed run, and the trees take turns (A B, B A, ...) so that they
are compared at the same load. Prints each step's median per tree.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# The child: the command with its steps stamped, in ms since the parent started it.
CHILD = r"""
import json, os, resource, sys, time
T0 = float(os.environ["PROFILE_T0"])
steps = []
def now():
    return (time.time() - T0) * 1000
steps.append(["python start", 0.0, now()])
started = now()
from playwright.sync_api import _context_manager, _generated
from pywebcodecs_host import cli, headless, site_server
steps.append(["imports", started, now()])
page_info = {}
PAGE_INFO = '''() => {
  const files = performance.getEntriesByType("resource");
  return {lastFileMs: Math.max(...files.map((e) => e.responseEnd)),
          revalidated: files.filter((e) => e.transferSize > 0 && e.encodedBodySize > 0
                                            && e.transferSize < e.encodedBodySize).length,
          files: files.length,
          readyMs: performance.now()};
}'''

def stamp(owner, name, label):
    method = getattr(owner, name)
    def stamped(*args, **kwargs):
        started = now()
        try:
            return method(*args, **kwargs)
        finally:
            steps.append([label, started, now()])
            if label == "engine boot":
                page_info.update(args[0].evaluate(PAGE_INFO))
    setattr(owner, name, stamped)

stamp(_context_manager.PlaywrightContextManager, "start", "playwright driver start")
stamp(_generated.BrowserType, "launch_persistent_context", "chromium launch")
stamp(_generated.BrowserType, "launch", "chromium launch")
stamp(_generated.Page, "expose_function", "expose progress")
stamp(_generated.Page, "goto", "runner page load")
stamp(_generated.Page, "wait_for_function", "engine boot")
stamp(headless.HeadlessEngine, "convert", "conversion")
stamp(_generated.BrowserContext, "close", "context close")
stamp(_generated.Browser, "close", "browser close")
stamp(site_server.SiteServer, "close", "server close")
stamp(os, "replace", "output rename")

def report():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    with open(os.environ["PROFILE_OUT"], "w") as f:
        json.dump({"steps": steps, "page": page_info, "cpu_user_ms": usage.ru_utime * 1000,
                   "cpu_system_ms": usage.ru_stime * 1000, "python_end": now()}, f)

import atexit
atexit.register(report)
sys.exit(cli.main(sys.argv[1:]))
"""


def run_once(tree: Path, env: dict[str, str], source: Path, output: Path) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json") as result:
        started = time.time()
        child_env = {**env, "PYTHONPATH": str(tree / "py_src"), "PROFILE_T0": repr(started),
                     "PROFILE_OUT": result.name}  # fmt: skip
        command = [sys.executable, "-c", CHILD, "convert", "--json", str(source), str(output)]
        done = subprocess.run(command, env=child_env, capture_output=True, text=True)
        exit_ms = (time.time() - started) * 1000
        if done.returncode:
            raise SystemExit(f"{tree}: the command failed: {done.stdout}{done.stderr[-2000:]}")
        profile = json.loads(Path(result.name).read_text())
    output.unlink()
    figures: dict[str, float] = {}
    for label, first, last in profile["steps"]:
        figures[label] = figures.get(label, 0.0) + last - first
    page = profile["page"]
    figures["  page: last file arrived"] = page["lastFileMs"]
    figures["  page: engine ready"] = page["readyMs"]
    figures["  page: files revalidated (304)"] = page["revalidated"]
    figures["exit after Python's end"] = exit_ms - profile["python_end"]
    figures["host CPU user"] = profile["cpu_user_ms"]
    figures["host CPU system"] = profile["cpu_system_ms"]
    figures["whole command"] = exit_ms
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", type=Path)
    parser.add_argument("--trees", nargs="+", type=Path, default=[REPO], help="checkouts")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    results: dict[Path, list[dict[str, float]]] = {tree: [] for tree in args.trees}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        output = tmp / (args.input.stem + ".mkv")
        envs = {tree: {**os.environ, "PYWEBCODECS_CACHE": str(tmp / f"cache-{index}")}
                for index, tree in enumerate(args.trees)}  # fmt: skip
        for tree in args.trees:  # the profile's caches filled, as from a user's second run
            run_once(tree, envs[tree], args.input, output)
        for run in range(args.runs):
            order = args.trees if run % 2 == 0 else args.trees[::-1]
            for tree in order:
                figures = run_once(tree, envs[tree], args.input, output)
                results[tree].append(figures)
                print(f"run {run + 1} {tree}: {figures['whole command']:.0f} ms, load "
                      f"{os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
    labels = list(results[args.trees[0]][0])
    print("\n| step (ms, median) | " + " | ".join(str(t) for t in args.trees) + " |")
    print("| --- |" + " --- |" * len(args.trees))
    for label in labels:
        cells = [statistics.median(r.get(label, 0.0) for r in results[t]) for t in args.trees]
        print(f"| {label} | " + " | ".join(f"{cell:.0f}" for cell in cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
