"""Which formats exist: container detection by content, and the muxer for a container name."""

from __future__ import annotations

from .adts import AdtsDemuxer
from .avi import AviDemuxer
from .demuxer import Demuxer
from .errors import FormatError, UnsupportedError
from .flac import FlacDemuxer
from .hls import HlsDemuxer
from .isobmff import IsobmffDemuxer, Mp4Muxer
from .matroska import MatroskaDemuxer, MkvMuxer, WebmMuxer
from .mp3 import Mp3Demuxer
from .mpegts import MpegTsDemuxer
from .muxer import Muxer
from .ogg import OggDemuxer, OggMuxer
from .reader import Reader
from .wave import WavDemuxer, WavMuxer

#: Tried in this order: formats with a strong signature first; MP3 and ADTS, which can only
#: be recognised by frame sync patterns, last (ADTS first: MP3 takes any other file that
#: starts with an ID3v2 tag).
DEMUXERS: tuple[type[Demuxer], ...] = (
    IsobmffDemuxer,
    MatroskaDemuxer,
    WavDemuxer,
    FlacDemuxer,
    OggDemuxer,
    AviDemuxer,
    HlsDemuxer,
    MpegTsDemuxer,
    AdtsDemuxer,
    Mp3Demuxer,
)

MUXERS: dict[str, type[Muxer]] = {
    "webm": WebmMuxer,
    "mkv": MkvMuxer,
    "mp4": Mp4Muxer,
    "wav": WavMuxer,
    "ogg": OggMuxer,
}


async def open_demuxer(reader: Reader) -> Demuxer:
    """Detect the container from the file's first bytes and parse its headers."""
    sniff_size = max(d.sniff_size for d in DEMUXERS)
    head = await reader.read(0, sniff_size)
    if not head:
        raise FormatError("the file is empty", source=reader.name)
    for demuxer_class in DEMUXERS:
        if demuxer_class.sniff(head):
            demuxer = demuxer_class(reader)
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
