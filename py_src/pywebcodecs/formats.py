"""Which formats exist: container detection by content, and the muxer for a container name.

This is the one table of container names and the classes that read and write them. The
classes are named by module path and imported on first use, not when the engine loads: in
Pyodide, importing every reader and writer was half of the time spent importing the engine
at start-up (0.8 of 1.6 s on a loaded machine), and a conversion needs one of each.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import Any

from .demuxer import Demuxer
from .errors import FormatError, UnsupportedError
from .muxer import Muxer
from .reader import Reader

#: ``module:Class`` of each reader, tried in this order: formats with a strong signature
#: first; MP3 and ADTS, which can only be recognised by frame sync patterns, last (ADTS
#: first: MP3 takes any other file that starts with an ID3v2 tag). Detection imports a
#: reader only when the ones before it have turned the file down, so the order is kept.
DEMUXERS = (
    "isobmff.demuxer:IsobmffDemuxer",
    "matroska.demuxer:MatroskaDemuxer",
    "wave.demuxer:WavDemuxer",
    "flac.demuxer:FlacDemuxer",
    "ogg.demuxer:OggDemuxer",
    "avi.demuxer:AviDemuxer",
    "hls.demuxer:HlsDemuxer",
    "mpegts.demuxer:MpegTsDemuxer",
    "adts.demuxer:AdtsDemuxer",
    "mp3.demuxer:Mp3Demuxer",
)

#: How much of the file's start detection reads: at least every reader's ``sniff_size``
#: (a test checks), stated here so that the readers need not be imported to know it.
SNIFF_SIZE = 4096

#: How far detection looks for MPEG audio frames after junk when no reader takes the
#: file's first :data:`SNIFF_SIZE` bytes: up to 64 KiB of a broken download or a tool's
#: own header before the first frame (the frames must fill half of what is read, as in
#: ffmpeg's MP3 probe).
JUNK_SNIFF_SIZE = 128 << 10
_AFTER_JUNK = "mp3.demuxer:Mp3Demuxer"

#: ``module:Class`` of each writer, by the name users ask for (:data:`MUXERS` gives classes).
_MUXERS = {
    "webm": "matroska.muxer:WebmMuxer",
    "mkv": "matroska.muxer:MkvMuxer",
    "mp4": "isobmff.muxer:Mp4Muxer",
    "wav": "wave.muxer:WavMuxer",
    "ogg": "ogg.muxer:OggMuxer",
}


def load(where: str) -> type[Any]:
    """The class named by ``module:Class`` (a module of this package), imported on the first
    call (later calls find the module in ``sys.modules``). The tables' users give it its
    type; ``tests/test_lazy_imports.py`` checks that every entry is a reader or writer."""
    module, _, name = where.partition(":")
    return getattr(importlib.import_module(f"{__package__}.{module}"), name)


def demuxer_classes() -> Iterator[type[Demuxer]]:
    """The readers in detection order, each imported when it is reached."""
    return (load(where) for where in DEMUXERS)


class _Muxers(Mapping[str, type[Muxer]]):
    """Container name → muxer class; a writer's module is imported when it is looked up."""

    def __getitem__(self, container: str) -> type[Muxer]:
        return load(_MUXERS[container])

    def __iter__(self) -> Iterator[str]:
        return iter(_MUXERS)

    def __len__(self) -> int:
        return len(_MUXERS)


MUXERS: Mapping[str, type[Muxer]] = _Muxers()


async def open_demuxer(reader: Reader) -> Demuxer:
    """Detect the container from the file's first bytes and parse its headers."""
    head = await reader.read(0, SNIFF_SIZE)
    if not head:
        raise FormatError("the file is empty", source=reader.name)
    found = next((cls for cls in demuxer_classes() if cls.sniff(head)), None)
    if found is None and len(head) == SNIFF_SIZE:
        after_junk = load(_AFTER_JUNK)
        found = after_junk if after_junk.sniff(await reader.read(0, JUNK_SNIFF_SIZE)) else None
    if found is not None:
        demuxer = found(reader)
        await demuxer.open()
        return demuxer
    raise FormatError(
        "not a media file this engine can read (checked MP4/MOV, WebM/MKV, WAV, FLAC, Ogg, AVI, "
        f"HLS, MPEG-TS, MP3, AAC); it starts with {head[:16].hex(' ')}",
        source=reader.name,
        offset=0,
    )


def muxer_class(container: str) -> type[Muxer]:
    try:
        return MUXERS[container.lower()]
    except KeyError:
        raise UnsupportedError(
            f"unknown output container {container!r}; choose one of {', '.join(MUXERS)}"
        ) from None
