"""M3U8 playlists (RFC 8216 section 4): master playlists list variant streams, media
playlists list segments.

Only what reading a presentation needs is kept: variants with their bandwidth, resolution
and codecs; segments with their URI, duration and byte range; the fMP4 init segment
(``EXT-X-MAP``); and whether the list is complete (``EXT-X-ENDLIST``). A live playlist
without ENDLIST is read as it stands. Encrypted segments (``EXT-X-KEY`` with a METHOD
other than NONE) are refused, since their bytes cannot be demuxed. A URI with a control
character (a NUL, a stray escape) is refused at its line: no file or URL is named so, and
an operating system would reject it with an error of its own.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

_ATTRIBUTE = re.compile(r'([A-Z0-9-]+)=("[^"]*"|[^,]*)')
MAX_SEGMENTS = 200_000


class PlaylistError(ValueError):
    """A malformed playlist; ``line`` is the 1-based line number."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


@dataclass(frozen=True)
class ByteRange:
    offset: int
    length: int


@dataclass(frozen=True)
class Variant:
    """One ``EXT-X-STREAM-INF`` entry of a master playlist."""

    uri: str
    bandwidth: int
    resolution: tuple[int, int] | None
    codecs: str | None


@dataclass(frozen=True)
class Segment:
    uri: str
    duration: float
    byte_range: ByteRange | None


@dataclass
class MediaPlaylist:
    segments: list[Segment] = field(default_factory=list)
    init: Segment | None = None  # EXT-X-MAP
    ended: bool = False  # EXT-X-ENDLIST: no segment will be added
    discontinuities: int = 0


def attributes(text: str) -> dict[str, str]:
    """An attribute-list (section 4.2) as a dict, quotes removed."""
    return {key: value.strip('"') for key, value in _ATTRIBUTE.findall(text)}


def lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) of the non-blank lines, after checking the ``#EXTM3U`` header."""
    numbered = [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1)]
    numbered = [(n, line) for n, line in numbered if line]
    if not numbered or numbered[0][1].lstrip("\ufeff") != "#EXTM3U":
        raise PlaylistError("an M3U8 playlist starts with #EXTM3U", 1)
    return numbered[1:]


def is_master(text: str) -> bool:
    return "#EXT-X-STREAM-INF" in text


def parse_master(text: str) -> list[Variant]:
    """The variants of a master playlist, in playlist order."""
    variants = []
    pending: dict[str, str] | None = None
    for number, line in lines(text):
        if line.startswith("#EXT-X-STREAM-INF:"):
            pending = attributes(line.partition(":")[2])
            if "BANDWIDTH" not in pending or not pending["BANDWIDTH"].isdigit():
                raise PlaylistError("EXT-X-STREAM-INF without a BANDWIDTH", number)
        elif not line.startswith("#") and pending is not None:
            size = pending.get("RESOLUTION", "").split("x")
            resolution = (int(size[0]), int(size[1])) if all(p.isdigit() for p in size) else None
            variants.append(Variant(_uri(line, number), int(pending["BANDWIDTH"]),
                                    resolution if len(size) == 2 else None,
                                    pending.get("CODECS")))  # fmt: skip
            pending = None
    if not variants:
        raise PlaylistError("master playlist lists no variant stream", 1)
    return variants


def parse_media(text: str) -> MediaPlaylist:
    """The segments of a media playlist."""
    playlist = MediaPlaylist()
    duration: float | None = None
    byte_range: ByteRange | None = None
    next_offset: dict[str, int] = {}  # where a BYTERANGE without @offset continues
    for number, line in lines(text):
        tag, _, value = line.partition(":")
        if tag == "#EXTINF":
            duration = _number(value.partition(",")[0], number)
        elif tag == "#EXT-X-BYTERANGE":
            byte_range = _byte_range(value, number, None)
        elif tag == "#EXT-X-MAP":
            if playlist.init is not None:
                raise PlaylistError("a second EXT-X-MAP (init segment change)", number)
            attrs = attributes(value)
            if "URI" not in attrs:
                raise PlaylistError("EXT-X-MAP without a URI", number)
            init_range = attrs.get("BYTERANGE")
            init_bytes = _byte_range(init_range, number, 0) if init_range else None
            playlist.init = Segment(_uri(attrs["URI"], number), 0.0, init_bytes)
        elif tag == "#EXT-X-KEY" and attributes(value).get("METHOD", "NONE") != "NONE":
            raise PlaylistError("encrypted segments (EXT-X-KEY) cannot be read", number)
        elif tag == "#EXT-X-ENDLIST":
            playlist.ended = True
        elif tag == "#EXT-X-DISCONTINUITY":
            playlist.discontinuities += 1
        elif not line.startswith("#"):
            if duration is None:
                raise PlaylistError(f"segment {line!r} has no #EXTINF before it", number)
            if byte_range is not None and byte_range.offset < 0:
                byte_range = ByteRange(next_offset.get(line, 0), byte_range.length)
            if byte_range is not None:
                next_offset[line] = byte_range.offset + byte_range.length
            playlist.segments.append(Segment(_uri(line, number), duration, byte_range))
            if len(playlist.segments) > MAX_SEGMENTS:
                raise PlaylistError(f"more than {MAX_SEGMENTS} segments", number)
            duration = byte_range = None
    return playlist


def _uri(text: str, line: int) -> str:
    """``text`` when it can name a file or URL: no control or other non-printing
    character (Unicode category C)."""
    for character in text:
        if unicodedata.category(character)[0] == "C":
            raise PlaylistError(f"URI {text!r} holds the character {character!r}", line)
    return text


def _number(text: str, line: int) -> float:
    try:
        value = float(text)
    except ValueError:
        raise PlaylistError(f"expected a duration, found {text!r}", line) from None
    if not 0 <= value < 1e9:
        raise PlaylistError(f"segment duration {value} is out of range", line)
    return value


def _byte_range(text: str, line: int, default_offset: int | None) -> ByteRange:
    """``n[@o]`` (section 4.3.2.2); offset -1 means "right after the previous range"."""
    length, _, offset = text.partition("@")
    if not length.isdigit() or (offset and not offset.isdigit()):
        raise PlaylistError(f"expected a byte range n[@o], found {text!r}", line)
    start = int(offset) if offset else default_offset
    return ByteRange(-1 if start is None else start, int(length))
