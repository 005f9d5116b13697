"""Loading the engine imports no container reader or writer: each is imported when detection
reaches it or when its container is chosen (``pywebcodecs.formats``), which keeps Pyodide's
start-up short. Imports are checked in a fresh interpreter (``sys.modules`` of this test
process already holds every format); detection of every format is checked against ffprobe.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from oracle import REPO, ffmpeg, ffprobe_format
from pywebcodecs.demuxer import Demuxer
from pywebcodecs.formats import DEMUXERS, MUXERS, SNIFF_SIZE, load, muxer_class, open_demuxer
from pywebcodecs.muxer import Muxer
from pywebcodecs.reader import Reader
from pywebcodecs.source import FileSource

#: Every package named in the format tables ("isobmff", "mp3", ...).
FORMAT_PACKAGES = {where.split(".")[0] for where in DEMUXERS} | {
    muxer.__module__.split(".")[1] for muxer in MUXERS.values()
}


VIDEO = ["-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10:duration=0.5"]
AUDIO = ["-f", "lavfi", "-i", "sine=duration=0.5:sample_rate=48000"]

#: (file name, ffmpeg arguments, ffprobe's format name, the reader detection must pick).
INPUTS = [
    ("a.mp4", [*VIDEO, "-c:v", "mpeg4"], "mov,mp4,m4a,3gp,3g2,mj2", "IsobmffDemuxer"),
    ("a.mov", [*VIDEO, "-c:v", "mpeg4"], "mov,mp4,m4a,3gp,3g2,mj2", "IsobmffDemuxer"),
    ("a.webm", [*VIDEO, "-c:v", "libvpx", "-b:v", "100k"], "matroska,webm", "MatroskaDemuxer"),
    ("a.mkv", [*AUDIO, "-c:a", "flac"], "matroska,webm", "MatroskaDemuxer"),
    ("a.wav", AUDIO, "wav", "WavDemuxer"),
    ("a.flac", AUDIO, "flac", "FlacDemuxer"),
    ("a.ogg", [*AUDIO, "-c:a", "libopus"], "ogg", "OggDemuxer"),
    ("a.avi", [*VIDEO, "-c:v", "mpeg4"], "avi", "AviDemuxer"),
    ("a.m3u8", [*AUDIO, "-c:a", "aac", "-f", "hls"], "hls", "HlsDemuxer"),
    ("a.ts", [*VIDEO, "-c:v", "libx264"], "mpegts", "MpegTsDemuxer"),
    ("a.aac", [*AUDIO, "-c:a", "aac"], "aac", "AdtsDemuxer"),
    ("a.mp3", [*AUDIO, "-c:a", "libmp3lame"], "mp3", "Mp3Demuxer"),
]


def make_input(folder: Path, name: str, *args: str | list[str]) -> Path:
    flat = [a for arg in args for a in ([arg] if isinstance(arg, str) else arg)]
    ffmpeg(*flat, folder / name)
    return folder / name


def imported_formats(code: str) -> set[str]:
    """The format packages imported after running ``code`` in a fresh interpreter."""
    return {module.split(".")[1] for module in imported_modules(code)} & FORMAT_PACKAGES


def imported_modules(code: str) -> set[str]:
    """The engine's modules imported after running ``code`` in a fresh interpreter."""
    script = f"""{code}
import json, sys
print(json.dumps(sorted(m for m in sys.modules if m.startswith("pywebcodecs."))))
"""
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        check=True,
    )
    return set(json.loads(result.stdout.splitlines()[-1]))


def test_the_tables_name_ten_readers_and_five_writers() -> None:
    assert len(DEMUXERS) == 10 and len(MUXERS) == 5
    assert {"isobmff", "matroska", "mpegts", "avi", "mp3", "wave"} <= FORMAT_PACKAGES


def test_loading_the_engine_imports_no_reader_or_writer() -> None:
    assert imported_formats("import pywebcodecs, pywebcodecs.conversion, pywebcodecs.probe") == (
        set()
    )


def test_detection_imports_only_the_readers_it_tried(tmp_path: Path) -> None:
    mp4 = make_input(tmp_path, "clip.mp4", VIDEO, "-c:v", "mpeg4")
    code = f"""
import asyncio
from pywebcodecs.formats import muxer_class, open_demuxer
from pywebcodecs.reader import Reader
from pywebcodecs.source import FileSource

async def main():
    demuxer = await open_demuxer(await Reader.open(FileSource({str(mp4)!r})))
    assert demuxer.container == "mp4", demuxer.container
    assert muxer_class("wav").format_name == "wav"

asyncio.run(main())
"""
    imported = imported_formats(code)
    # MP4's code itself imports helpers from the Matroska and MPEG-TS packages (colour
    # tables, parameter sets), so those may be there; no reader after MP4's may.
    assert {"isobmff", "wave"} <= imported
    assert imported.isdisjoint({"flac", "ogg", "avi", "hls", "adts", "mp3"})


#: A helper module of one format that another format's code imports, and the readers and
#: writers that importing it must not load (a package's ``__init__`` imports nothing).
HELPERS = {
    "isobmff.demuxer": {"mpegts.demuxer", "matroska.demuxer", "matroska.muxer"},
    "isobmff.sample_entry_writer": {"matroska.demuxer", "matroska.muxer"},
    "matroska.tracks": {"mpegts.demuxer", "isobmff.demuxer"},
    "avi.demuxer": {"mpegts.demuxer"},
    "mp3.demuxer": {"mpegts.demuxer"},
    "adts.demuxer": {"mpegts.demuxer", "mp3.demuxer"},
    "ogg.demuxer": {"flac.demuxer", "matroska.demuxer", "matroska.muxer"},
    "hls.demuxer": {"isobmff.muxer", "matroska.demuxer"},
    "mpegts.audio_frames": {"mpegts.demuxer"},  # also the browser's audio session's
}


@pytest.mark.parametrize("helper", sorted(HELPERS))
def test_a_helper_import_does_not_load_other_formats_readers(helper: str) -> None:
    loaded = imported_modules(f"import pywebcodecs.{helper}")
    assert f"pywebcodecs.{helper}" in loaded
    assert loaded.isdisjoint(f"pywebcodecs.{module}" for module in HELPERS[helper])


@pytest.mark.parametrize("where", DEMUXERS)
def test_every_reader_is_a_demuxer_that_sniffs_within_the_detection_read(where: str) -> None:
    demuxer = load(where)
    assert issubclass(demuxer, Demuxer) and demuxer.__name__ == where.partition(":")[2]
    assert demuxer.sniff_size <= SNIFF_SIZE


@pytest.mark.parametrize("container", sorted(MUXERS))
def test_every_writer_is_a_muxer_of_its_container(container: str) -> None:
    muxer = muxer_class(container.upper())
    assert issubclass(muxer, Muxer) and muxer.format_name == container


def test_an_unknown_container_is_still_refused_with_the_choices() -> None:
    from pywebcodecs.errors import UnsupportedError

    with pytest.raises(UnsupportedError, match="'flv'; choose one of webm, mkv, mp4, wav, ogg"):
        muxer_class("flv")


@pytest.mark.parametrize(("name", "args", "probed", "reader"), INPUTS, ids=[i[0] for i in INPUTS])
async def test_detection_picks_the_reader_of_each_format(
    tmp_path: Path, name: str, args: list[str], probed: str, reader: str
) -> None:
    path = make_input(tmp_path, name, args)
    assert ffprobe_format(path)["format_name"] == probed
    demuxer = await open_demuxer(await Reader.open(FileSource(path)))
    assert type(demuxer).__name__ == reader
    assert demuxer.tracks
