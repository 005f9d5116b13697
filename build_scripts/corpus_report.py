"""Convert every file of a folder to WebM and MP4 with the terminal command and judge each
output with ffprobe and ffmpeg, as a user's collection would be converted.

One row per file and target:

* ``good``: ``pywebcodecs convert IN OUT --json`` succeeded, ffprobe finds every track of
  the input that a browser can decode (kind by kind; cover pictures aside), a video's
  alpha channel (``ALPHA_MODE``) is still there, the output lasts as long as the input
  (within :data:`DURATION_SLACK`; shorter only with a warning that says why, as for a
  cut-off input), and a full ffmpeg decode of the output prints no more error lines than
  the same decode of the input;
* ``refused``: the command failed; its reason is shown (a refusal must name its cause);
* ``bad output``: it succeeded, but one of those checks failed (which one is shown).

Then the totals. Playlists (``.m3u8``) are inputs; the segments and keys in a playlist's
folder are not. Run: ``.venv/bin/python build_scripts/corpus_report.py DIR [--targets
webm,mp4,mkv]``; the suite
runs it on ``tests/corpus.py``'s corpus in ``e2e_tests/test_corpus_report.py``.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGETS = ("webm", "mp4")
#: What the browser decodes (see README): a track of another codec may be refused.
DECODABLE = {
    "video": {"h264", "vp8", "vp9", "av1"},
    "audio": {"aac", "mp3", "flac", "vorbis", "opus"},
}
SECONDS_PER_FILE = 600
#: How far an output's duration may stray from the input's: (seconds, fraction), the larger
#: applies. Encoders' priming and a last frame's length move it by tens of milliseconds;
#: a lost half or a timeline run twice moves it by far more.
DURATION_SLACK = (0.25, 0.1)

#: (input, output, container) → the command's JSON summary (``ok``, ``error``, ...).
Converter = Callable[[Path, Path, str], dict]


@dataclass(frozen=True)
class Row:
    name: str  # the input, relative to the folder
    target: str
    outcome: str  # "good", "refused" or "bad output"
    detail: str = ""


def inputs(folder: Path) -> list[Path]:
    """Every file under ``folder``, but in a folder with a playlist only the playlist."""
    files = sorted(path for path in folder.rglob("*") if path.is_file())
    playlist_folders = {path.parent for path in files if path.suffix == ".m3u8"}
    return [p for p in files if p.parent not in playlist_folders or p.suffix == ".m3u8"]


def convert_with_cli(source: Path, output: Path, container: str) -> dict:
    """``pywebcodecs convert SOURCE OUTPUT --json`` (headless Chromium)."""
    command = [sys.executable, "-m", "pywebcodecs_host.cli", "convert", str(source),
               str(output), "--container", container, "--json"]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=SECONDS_PER_FILE,
                            cwd=REPO)  # fmt: skip
    lines = result.stdout.strip().splitlines()
    if not lines:
        return {"ok": False, "error": f"no JSON line; exit {result.returncode}: {result.stderr}"}
    return json.loads(lines[-1])


def report(
    folder: Path, convert: Converter = convert_with_cli, targets: tuple[str, ...] = TARGETS
) -> list[Row]:
    """Every input of ``folder`` converted to every target and judged."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="corpus-report-") as scratch:
        for source in inputs(folder):
            name = source.relative_to(folder).as_posix()
            for target in targets:
                output = Path(scratch) / f"{source.stem}.{target}"
                summary = convert(source, output, target)
                rows.append(judge(name, source, output, target, summary))
                output.unlink(missing_ok=True)
    return rows


def judge(name: str, source: Path, output: Path, target: str, summary: dict) -> Row:
    if not summary.get("ok"):
        return Row(name, target, "refused", str(summary.get("error")))
    if not output.exists():
        return Row(name, target, "bad output", "the command said ok but wrote no file")
    problems = []
    want, have = _streams(source), _streams(output)
    for kind, codecs in DECODABLE.items():
        decodable = [s for s in want if s["codec_type"] == kind and _decodable(s, codecs)]
        found = [s for s in have if s["codec_type"] == kind]
        if len(found) < len(decodable):
            names = ", ".join(s["codec_name"] for s in decodable)
            problems.append(f"{len(found)} of {len(decodable)} {kind} tracks ({names})")
    warnings = summary.get("warnings") or []
    told = any("alpha channel" in warning for warning in warnings)  # a loss said out loud
    if any(_alpha(s) for s in want) and not any(_alpha(s) for s in have) and not told:
        problems.append("the video's alpha channel is gone without a warning")
    (errors, seconds), (input_errors, input_seconds) = _decode(output), _decode(source)
    problems += _duration_problems(input_seconds, seconds, warnings)
    if len(errors) > len(input_errors):
        problems.append(f"{len(errors)} decode error lines (the input has {len(input_errors)}): "
                        f"{errors[0][:200]}")  # fmt: skip
    if problems:
        return Row(name, target, "bad output", "; ".join(problems))
    return Row(name, target, "good", "; ".join(warnings))


def _streams(path: Path) -> list[dict]:
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-of", "json", "-show_streams", str(path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    streams = json.loads(result.stdout or "{}").get("streams", [])
    return [s for s in streams if not s.get("disposition", {}).get("attached_pic")]


def _duration_problems(want: float | None, have: float | None, warnings: list[str]) -> list[str]:
    """A duration unlike the input's, both as ffmpeg plays them (a chained Ogg plays all its
    links; ffprobe's format duration is the first link's): longer at all, or shorter with
    no warning at all (a cut-off input converts shorter, saying so)."""
    if want is None or have is None:
        return [] if want is None else ["ffmpeg plays no time of the output"]
    slack = max(DURATION_SLACK[0], DURATION_SLACK[1] * want)
    if have > want + slack or (have < want - slack and not warnings):
        return [f"it plays {have:.2f} s, the input {want:.2f} s"]
    return []


def _decodable(stream: dict, codecs: set[str]) -> bool:
    codec = stream.get("codec_name", "")
    return codec in codecs or (stream["codec_type"] == "audio" and codec.startswith("pcm_"))


def _alpha(stream: dict) -> bool:
    tags = {key.lower(): value for key, value in stream.get("tags", {}).items()}
    return stream["codec_type"] == "video" and tags.get("alpha_mode") == "1"


def _decode(path: Path) -> tuple[list[str], float | None]:
    """The error lines of ``ffmpeg -v error -i PATH -f null -`` and the time it decoded to
    (its last progress line's ``time=``)."""
    hls = ["-allowed_extensions", "ALL"] if path.suffix == ".m3u8" else []  # its key file
    result = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-stats", *hls, "-i", str(path), "-f", "null",
         "-"], capture_output=True, text=True, timeout=SECONDS_PER_FILE,
    )  # fmt: skip
    lines = result.stderr.replace("\r", "\n").strip().splitlines()
    times = [_PROGRESS.search(line) for line in lines]
    errors = [line for line, time in zip(lines, times, strict=True) if not time and line.strip()]
    last = next((time for time in reversed(times) if time), None)
    seconds = None if last is None else sum(
        float(part) * 60**power for power, part in enumerate(reversed(last.groups()))
    )  # fmt: skip
    return (errors if result.returncode == 0 else [*errors, f"exit {result.returncode}"]), seconds


#: ffmpeg's progress line (``-stats``): its ``time=HH:MM:SS.ss``.
_PROGRESS = re.compile(r"time=\s*(\d+):(\d+):(\d+(?:\.\d+)?) ")


def print_report(rows: list[Row]) -> None:
    width = max((len(row.name) for row in rows), default=4)
    for row in rows:
        print(f"{row.name:<{width}}  {row.target:<4}  {row.outcome:<10}  {row.detail}")
    totals = collections.Counter(row.outcome for row in rows)
    counts = [f"{totals[outcome]} {outcome}" for outcome in ("good", "refused", "bad output")]
    print(f"\n{len(rows)} conversions: " + ", ".join(counts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    choices = "output containers, e.g. webm,mp4,mkv (default: webm,mp4)"
    parser.add_argument("--targets", default=",".join(TARGETS), help=choices)
    args = parser.parse_args()
    print_report(report(args.folder, targets=tuple(args.targets.split(","))))


if __name__ == "__main__":
    main()
