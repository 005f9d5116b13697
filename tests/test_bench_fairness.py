"""The side-by-side benchmark's fairness rules (build_scripts/bench_peers.py), checked on
its job definitions so that a later change cannot quietly tilt the comparison: every side
is asked for the same codecs, bitrates and key frames, the limit waits on the engine's
own queue depths, the sides take turns going first, and outputs are compared."""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "build_scripts"))

import bench_peers  # noqa: E402
from bench_peers import COPY, JOBS, Counts, Job, counts_agree, schedule  # noqa: E402
from pywebcodecs.encoding import EncoderSettings, video_encoder_config  # noqa: E402

TRANSCODES = [job for job in JOBS if job.video not in (None, COPY)]
REMUXES = [job for job in JOBS if job.video == COPY]


def test_the_jobs_the_issue_asks_for_are_there() -> None:
    containers = {(job.container, job.video) for job in JOBS}
    assert {("webm", "vp8"), ("mp4", "h264"), ("webm", "vp9")} <= containers
    assert {("mp4", COPY), ("mkv", COPY)} <= containers
    assert all(job.with_limit for job in TRANSCODES)


@pytest.mark.parametrize("job", TRANSCODES, ids=lambda job: job.name)
def test_every_side_is_asked_for_the_same_encoding(job: Job) -> None:
    ours, theirs, limit = job.ours(), job.mediabunny(), job.limit()
    assert limit is not None and job.video is not None
    # The codecs, named in each side's words.
    assert ours["videoCodec"] == job.video and ours["audioCodec"] == job.audio
    assert theirs["video"]["codec"] == bench_peers.MEDIABUNNY_CODECS[job.video]
    assert theirs["audio"]["codec"] == bench_peers.MEDIABUNNY_CODECS[job.audio]
    assert theirs["video"]["forceTranscode"] and theirs["audio"]["forceTranscode"]
    # The same bitrates and key frame interval everywhere, ours given explicitly.
    video_bitrates = {
        ours["videoBitrate"],
        theirs["video"]["bitrate"],
        limit["video"]["encoder"]["bitrate"],
    }
    audio_bitrates = {
        ours["audioBitrate"],
        theirs["audio"]["bitrate"],
        limit["audio"]["encoder"]["bitrate"],
    }
    assert video_bitrates == {bench_peers.VIDEO_BITRATE}
    assert audio_bitrates == {bench_peers.AUDIO_BITRATE}
    seconds = {
        ours["keyframeInterval"],
        theirs["video"]["keyFrameInterval"],
        limit["video"]["keyframeIntervalUs"] / 1e6,
    }
    assert seconds == {bench_peers.KEYFRAME_INTERVAL}
    # The limit encodes with exactly the config our engine derives from those options.
    src = job.input
    settings = EncoderSettings(
        video_bitrate=ours["videoBitrate"],
        audio_bitrate=ours["audioBitrate"],
        keyframe_interval=ours["keyframeInterval"],
        latency_mode=ours["latencyMode"],
    )
    expected = video_encoder_config(job.video, src.width, src.height, src.frame_rate, settings)
    assert limit["video"]["encoder"] == expected


@pytest.mark.parametrize("job", REMUXES, ids=lambda job: job.name)
def test_remuxes_copy_on_both_sides(job: Job) -> None:
    assert job.ours()["videoCodec"] == job.ours()["audioCodec"] == COPY
    theirs = job.mediabunny()
    assert "video" not in theirs and "audio" not in theirs  # Mediabunny copies by default
    assert job.limit() is None


def test_mp4_outputs_are_fast_start_on_both_sides() -> None:
    for job in JOBS:
        if job.container == "mp4":
            assert job.ours()["fastStart"] is True
    assert 'fastStart: "in-memory"' in (REPO / "build_scripts" / "bench_peers.mjs").read_text()


def _constant(path: Path, name: str) -> int:
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                assert node.value is not None
                return int(ast.literal_eval(node.value))
    raise AssertionError(f"{name} not found in {path}")


def test_the_limit_waits_on_the_engines_queue_depths() -> None:
    transcode = REPO / "py_src" / "pywebcodecs" / "browser" / "transcode"
    engine = {
        "video": _constant(transcode / "session.py", "MAX_QUEUE"),
        "audio": _constant(transcode / "audio_session.py", "MAX_AUDIO_QUEUE"),
    }
    assert engine == bench_peers.LIMIT_QUEUE
    # A full queue is waited down to: room for one more video packet; LOW_AUDIO_QUEUE.
    resume = {
        "video": _constant(transcode / "session.py", "MAX_QUEUE"),
        "audio": _constant(transcode / "audio_session.py", "LOW_AUDIO_QUEUE"),
    }
    assert resume == bench_peers.LIMIT_RESUME


def test_sides_interleave_and_take_turns_going_first() -> None:
    runs = bench_peers.DEFAULT_RUNS
    assert runs >= 3
    order = list(schedule(JOBS, runs))
    for job in JOBS:
        firsts = []
        for run in range(runs):
            sides = [side for r, j, side in order if r == run and j is job]
            assert sorted(sides) == sorted(job.sides)  # each side once per run
            firsts.append(sides[0])
        assert len(set(firsts)) == min(runs, len(job.sides))  # none always first
    # Interleaved: a job's sides follow each other (A B C A B C), not all A's first.
    names = [(r, j.name) for r, j, _ in order]
    groups = [names[i] for i in range(len(names)) if i == 0 or names[i] != names[i - 1]]
    assert len(groups) == len(set(groups)) == runs * len(JOBS)


def test_outputs_are_compared_packet_for_packet() -> None:
    job = TRANSCODES[0]
    ours = Counts(600, 1000, ("vp8", "opus"))
    assert (
        counts_agree(job, {"pywebcodecs": ours, "mediabunny": ours, "limit": Counts(600, 1001, ())})
        == []
    )
    problems = counts_agree(
        job,
        {
            "pywebcodecs": ours,
            "mediabunny": Counts(599, 1000, ("vp8", "opus")),
            "limit": Counts(600, 1002, ()),
        },
    )
    assert problems == [
        "mediabunny: 599 video packets, ours 600",
        "limit: 1002 audio packets, ours 1000",
    ]
    wrong_codec = counts_agree(
        job, {"pywebcodecs": ours, "mediabunny": Counts(600, 1000, ("vp9", "opus"))}
    )
    assert wrong_codec == ["mediabunny: codecs ('vp9', 'opus'), ours ('vp8', 'opus')"]


@pytest.mark.timeout(60)
def test_wav_lengths_are_checked_against_ffmpegs_decode() -> None:
    """Ours must drop the LAME tag's delay and padding as ffmpeg does (38.500 s, not the
    packet span 38.568 s); Mediabunny, which keeps them, may last either."""
    (job,) = [job for job in JOBS if job.container == "wav"]
    assert bench_peers.wav_lengths_agree(job, 38.5, 38.568) == []
    assert bench_peers.wav_lengths_agree(job, 38.5, 38.5) == []
    assert bench_peers.wav_lengths_agree(job, 38.568, 38.568) == [
        "our WAV lasts 38.5680 s, ffmpeg decodes 38.5000 s"
    ]
    assert bench_peers.wav_lengths_agree(job, 38.5, 38.7) == [
        "Mediabunny's WAV lasts 38.7000 s, ffmpeg decodes 38.5000 s"
    ]


def test_start_up_modes_are_all_timed_and_take_turns_going_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every start-up mode (bare Pyodide, loadEngine, the Worker, the page) is timed in
    every run and none always goes first, and each is reported against bare Pyodide."""
    assert set(bench_peers.STARTUP_MODES) == {"bare", "engine", "worker", "page"}
    runs = bench_peers.STARTUP_RUNS
    assert runs >= len(bench_peers.STARTUP_MODES)
    visits: list[str] = []

    def visit_twice(browser: object, server_url: str, mode: str) -> dict[str, dict[str, Any]]:
        visits.append(mode)
        steps = [
            {"step": step, "ms": ms} for step, ms in (("load", 1), ("install", 2), ("start", 3))
        ]
        return {visit: {"ms": 4.0, "steps": steps} for visit in ("first", "repeat")}

    monkeypatch.setattr(bench_peers, "visit_twice", visit_twice)
    results = bench_peers.measure_startup(None, "http://site", runs)
    modes = len(bench_peers.STARTUP_MODES)
    per_run = [visits[i : i + modes] for i in range(0, len(visits), modes)]
    assert all(sorted(run) == sorted(bench_peers.STARTUP_MODES) for run in per_run)
    assert {run[0] for run in per_run} == set(bench_peers.STARTUP_MODES)
    assert all(len(answers) == runs for answers in results.values())
    line = bench_peers.report_startup(results)
    for key in ("startup_vs_bare_pyodide", "page_startup_vs_bare_pyodide",
                "worker_startup_vs_bare_pyodide", "repeat_startup_ms"):  # fmt: skip
        assert line[key] > 0
