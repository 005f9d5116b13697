"""Damaged inputs through the whole copy pipeline (reader → interleaver → muxer), shared by
the bounded hypothesis run in ``test_copy_pipeline_fuzz.py`` and the long run of
``build_scripts/fuzz_copy.py``.

A seed is a tiny ffmpeg-made file of one input format (HLS: a playlist and its segments)
with the output containers its codecs fit. A damaged copy of one of its files is
converted with every track copied; the only allowed outcomes are a
:class:`~pywebcodecs.errors.PyWebCodecsError` or an output that ffprobe opens with every
copied track in it. Anything else, including running past the time limit, is a finding.

One outcome is told apart: an output ffprobe cannot open, made from an input ffprobe
cannot open either (a damaged codec configuration copied as it is, which ffmpeg refuses
in both). It is counted as "unreadable like its input" and reported; catching it is the
reader's job, not the pipeline's.
"""

from __future__ import annotations

import signal
import subprocess
import tempfile
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path

from oracle import ffmpeg, make
from pywebcodecs import PyWebCodecsError, convert_media
from pywebcodecs.formats import muxer_class
from pywebcodecs.sink import MemorySink
from pywebcodecs.track import Track

#: Seconds one conversion may take before it counts as a hang.
TIME_LIMIT = 10.0

_VIDEO = ["-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10:duration=1"]
_AUDIO = ["-f", "lavfi", "-i", "sine=duration=1:sample_rate=16000"]
_H264_AAC = [*_VIDEO, *_AUDIO, "-c:v", "libx264", "-g", "5", "-c:a", "aac", "-b:a", "32k"]
_SINE = ["-f", "lavfi", "-i", "sine=duration=0.5:sample_rate=8000"]


@dataclass(frozen=True)
class Seed:
    """``files`` (name → bytes) with ``main`` the one to convert; ``containers`` the outputs
    that can hold its codecs."""

    name: str
    files: dict[str, bytes]
    main: str
    containers: tuple[str, ...]


_SEEDS: dict[str, tuple[list[str], tuple[str, ...]]] = {
    "mp4.mp4": (_H264_AAC, ("mp4", "mkv")),
    "fragmented.mp4": ([*_H264_AAC, "-movflags", "frag_keyframe+empty_moov+default_base_moof"],
                       ("mp4", "mkv")),
    "mov.mov": ([*_VIDEO, *_AUDIO, "-c:v", "libx264", "-c:a", "pcm_s16le"], ("mkv", "wav")),
    "mkv.mkv": ([*_VIDEO, *_AUDIO, "-c:v", "libx264", "-bf", "2", "-c:a", "flac"],
                ("mkv", "mp4")),
    "webm.webm": ([*_VIDEO, *_AUDIO, "-c:v", "libvpx-vp9", "-deadline", "realtime",
                   "-cpu-used", "8", "-c:a", "libopus", "-b:a", "24k"], ("webm", "mp4", "mkv")),
    "wav.wav": ([*_SINE, "-c:a", "pcm_s16le"], ("wav", "mkv")),
    "mp3.mp3": ([*_SINE, "-metadata", "title=x", "-c:a", "libmp3lame"], ("mp4", "mkv")),
    "flac.flac": ([*_SINE, "-c:a", "flac"], ("mp4", "mkv")),
    "adts.aac": ([*_SINE, "-c:a", "aac", "-f", "adts"], ("mp4", "mkv")),
    # Vorbis headers take 3-4 kB: three seconds so that most damage lands in audio pages.
    "vorbis.ogg": (["-f", "lavfi", "-i", "sine=duration=3:sample_rate=48000", "-c:a",
                    "libvorbis", "-page_duration", "50000"], ("webm", "mkv")),
    "opus.opus": ([*_SINE, "-c:a", "libopus", "-page_duration", "50000"], ("webm", "mp4")),
    "ts.ts": ([*_H264_AAC, "-bf", "2", "-f", "mpegts"], ("mp4", "mkv")),
    "avi.avi": ([*_VIDEO, *_AUDIO, "-c:v", "libx264", "-g", "5", "-c:a", "libmp3lame"],
                ("mp4", "mkv")),
}  # fmt: skip
_HLS = [*_H264_AAC, "-f", "hls", "-hls_time", "0.5", "-hls_list_size", "0",
        "-hls_segment_filename"]  # fmt: skip


def seeds() -> list[Seed]:
    """Every seed, made once per session (ffmpeg)."""
    out = []
    for name, (args, containers) in _SEEDS.items():
        path = make(f"copy-fuzz-{name}", *args)
        out.append(Seed(name, {name: path.read_bytes()}, name, containers))
    folder = path.parent / "copy-fuzz-hls"
    if not folder.exists():
        partial = Path(tempfile.mkdtemp(dir=path.parent))
        ffmpeg(*_HLS, partial / "seg%d.ts", partial / "index.m3u8")
        partial.rename(folder)
    files = {file.name: file.read_bytes() for file in sorted(folder.iterdir())}
    out.append(Seed("hls", files, "index.m3u8", ("mp4", "mkv")))
    return out


def mutate(data: bytes, cut: int, edits: list[tuple[int, int]], splice: tuple[int, int, int]
           ) -> bytes:  # fmt: skip
    """``data`` with bytes overwritten (positions wrap around), a piece of itself copied
    over another place (``(from, length, to)``; length 0: none), then cut at ``cut``."""
    damaged = bytearray(data)
    if damaged:
        for position, value in edits:
            damaged[position % len(damaged)] = value
        start, length, to = splice
        if length:
            piece = damaged[start % len(damaged) :][:length]
            at = to % len(damaged)
            damaged[at : at + len(piece)] = piece
    return bytes(damaged[:cut])


UNREADABLE_LIKE_INPUT = "unreadable like its input"


class Hang(Exception):
    """The conversion ran past :data:`TIME_LIMIT`."""


@dataclass
class Outcome:
    """``kind``: "ok", "refused" (a PyWebCodecsError), "crash", "hang", "bad output" or
    "unreadable like its input"."""

    kind: str
    detail: str = ""


def copy_damaged(seed: Seed, damaged_file: str, data: bytes, container: str) -> Outcome:
    """Convert ``seed`` with ``damaged_file`` replaced by ``data`` into ``container``,
    copying every track the container can hold; judge the output with ffprobe."""
    import asyncio

    muxer = muxer_class(container)

    def choose(track: Track) -> str:
        return "copy" if track.codec in muxer.codecs else "drop"

    with tempfile.TemporaryDirectory(prefix="copy-fuzz-") as folder:
        for name, content in seed.files.items():
            (Path(folder) / name).write_bytes(data if name == damaged_file else content)
        sink = MemorySink()
        previous = signal.signal(signal.SIGALRM, _raise_hang)
        signal.setitimer(signal.ITIMER_REAL, TIME_LIMIT)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = asyncio.run(convert_media(
                    str(Path(folder) / seed.main), container, sink=sink,
                    on_video_track=choose, on_audio_track=choose,
                ))  # fmt: skip
        except Hang:
            return Outcome("hang")
        except Exception as exc:  # a finding to report, not to hide
            return _failure(exc)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        out = Path(folder) / f"out.{container}"
        out.write_bytes(sink.getvalue())
        kept = sum(plan.action == "copy" for plan in result.tracks)
        problem = ffprobe_problem(out, kept)
        if problem and _ffprobe_streams(out)[1] and _ffprobe_streams(Path(folder) / seed.main)[1]:
            return Outcome(UNREADABLE_LIKE_INPUT, problem)
    return Outcome("bad output", problem) if problem else Outcome("ok")


def _failure(exc: Exception) -> Outcome:
    """A refusal, or a crash: any other exception, also when convert_media's safety net
    has wrapped it in a PyWebCodecsError (it is then the error's cause)."""
    cause = exc.__cause__
    if isinstance(exc, PyWebCodecsError) and not isinstance(cause, Exception):
        return Outcome("refused", f"{type(exc).__name__}: {exc}")
    crash = cause if isinstance(exc, PyWebCodecsError) and isinstance(cause, Exception) else exc
    frame = traceback.extract_tb(crash.__traceback__)[-1]
    where = f"{Path(frame.filename).name}:{frame.lineno}"
    return Outcome("crash", f"{type(crash).__name__} at {where}: {crash}")


def _raise_hang(signum: int, frame: object) -> None:
    raise Hang


def ffprobe_problem(path: Path, tracks: int) -> str | None:
    """Why ffprobe cannot open ``path`` as a file of ``tracks`` streams; None when it can."""
    found, error = _ffprobe_streams(path)
    if error:
        return error
    if found != tracks:
        return f"ffprobe finds {found} streams, {tracks} were copied"
    return None


def _ffprobe_streams(path: Path) -> tuple[int, str | None]:
    """(streams ffprobe finds, its error when it cannot open the file)."""
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-of", "csv=p=0", "-show_entries", "stream=codec_type",
         str(path)],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    if result.returncode != 0:
        return 0, f"ffprobe exit {result.returncode}: {result.stderr.strip()[:300]}"
    return len(result.stdout.split()), None
