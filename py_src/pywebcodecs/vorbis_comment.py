"""Vorbis comments (Vorbis I specification section 5, also RFC 9639 section 8.6 for FLAC's
VORBIS_COMMENT block): a vendor string and ``NAME=value`` fields, all lengths 32-bit
little-endian. FLAC and Ogg (Vorbis, Opus, FLAC-in-Ogg) carry the same structure.

Names are case-insensitive; they come out lower-cased and renamed to ffprobe's tag names
where ffmpeg renames them (libavformat/vorbiscomment.c ``ff_vorbiscomment_metadata_conv``).
"""

from __future__ import annotations

import struct

from .errors import FormatError

_RENAMES = {"albumartist": "album_artist", "tracknumber": "track", "discnumber": "disc"}
#: Our tag names → the field names written (the upper-case names of the Vorbis comment
#: recommendations and ffmpeg). "encoder" is not carried: the writer is not the input's.
FIELD_NAMES = {"title": "TITLE", "artist": "ARTIST", "album": "ALBUM",
               "album_artist": "ALBUMARTIST", "date": "DATE", "genre": "GENRE",
               "comment": "COMMENT", "composer": "COMPOSER", "description": "DESCRIPTION",
               "copyright": "COPYRIGHT", "track": "TRACKNUMBER"}  # fmt: skip
_MAX_FIELDS = 100_000


def parse_vorbis_comment(data: bytes) -> dict[str, str]:
    """Tags from a comment block; the first value of a repeated name wins.

    A :class:`FormatError` (offset relative to ``data``) when a length runs past the block.
    """
    pos = _skip_string(data, 0, "the vendor string")
    if pos + 4 > len(data):
        raise FormatError("Vorbis comment ends before its field count", offset=pos)
    (count,) = struct.unpack_from("<I", data, pos)
    pos += 4
    if count > min(_MAX_FIELDS, (len(data) - pos) // 4):
        raise FormatError(f"Vorbis comment claims {count} fields in {len(data)} bytes", offset=pos)
    tags: dict[str, str] = {}
    for _ in range(count):
        end = _skip_string(data, pos, "a comment field")
        text = data[pos + 4 : end].decode("utf-8", "replace")
        pos = end
        name, sep, value = text.partition("=")
        if sep and name:
            key = name.lower()
            tags.setdefault(_RENAMES.get(key, key), value)
    return tags


def write_vorbis_comment(vendor: bytes, tags: dict[str, str]) -> bytes:
    """A comment block: ``vendor`` and one ``NAME=value`` field per tag it has a name for."""
    fields = [
        f"{FIELD_NAMES[name]}={value}".encode()
        for name, value in tags.items()
        if name in FIELD_NAMES
    ]
    parts = [struct.pack("<I", len(vendor)), vendor, struct.pack("<I", len(fields))]
    parts += [struct.pack("<I", len(field)) + field for field in fields]
    return b"".join(parts)


def _skip_string(data: bytes, pos: int, what: str) -> int:
    """The offset after the length-prefixed string at ``pos``."""
    if pos + 4 > len(data):
        raise FormatError(f"Vorbis comment ends before the length of {what}", offset=pos)
    (size,) = struct.unpack_from("<I", data, pos)
    if pos + 4 + size > len(data):
        raise FormatError(
            f"{what} of {size} bytes runs past the comment block ({len(data)} bytes)", offset=pos
        )
    return pos + 4 + size
