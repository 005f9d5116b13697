"""Vorbis comments (Vorbis I specification section 5) and FLAC PICTURE blocks (FLAC format
specification, METADATA_BLOCK_PICTURE), shared by Vorbis, Opus (RFC 7845 section 5.2) and
FLAC, inside Ogg or not.

Comments become tags with lower-case names (``TITLE=x`` → ``title``); a
``METADATA_BLOCK_PICTURE`` comment holds a base64 PICTURE block and becomes a cover image, as
ffmpeg treats it. Every length is checked against the bytes that are there.
"""

from __future__ import annotations

import base64
import binascii
import struct
from dataclasses import dataclass, field

from ..errors import FormatError
from ..track import CoverImage

_PICTURE_KEY = "metadata_block_picture"


@dataclass
class Comments:
    tags: dict[str, str] = field(default_factory=dict)
    images: list[CoverImage] = field(default_factory=list)


def parse_vorbis_comments(data: bytes | memoryview) -> Comments:
    """The comments of a comment header body (after its packet-type prefix)."""
    view = memoryview(data)
    vendor, pos = _string(view, 0, "vendor string")
    if pos + 4 > len(view):
        raise FormatError("comment header ends before its comment count")
    (count,) = struct.unpack_from("<I", view, pos)
    pos += 4
    if count > (len(view) - pos) // 4:
        raise FormatError(f"comment header claims {count} comments in {len(view) - pos} bytes")
    result = Comments()
    if vendor:
        result.tags["encoder"] = bytes(vendor).decode("utf-8", "replace")
    for _ in range(count):
        entry, pos = _string(view, pos, "comment")
        key, sep, value = bytes(entry).partition(b"=")
        if not sep:
            continue
        name = key.decode("ascii", "replace").lower()
        if name == _PICTURE_KEY:
            _add_picture(result, value)
        else:
            text = value.decode("utf-8", "replace")
            result.tags[name] = f"{result.tags[name]};{text}" if name in result.tags else text
    return result


def parse_flac_picture(block: bytes | memoryview) -> CoverImage:
    """A PICTURE metadata block body: type, MIME type, description, size, the image."""
    view = memoryview(block)
    mime, pos = _string(view, 4, "picture MIME type", big_endian=True)
    description, pos = _string(view, pos, "picture description", big_endian=True)
    picture, _ = _string(view, pos + 16, "picture data", big_endian=True)
    return CoverImage(
        bytes(mime).decode("latin-1") or "image",
        bytes(picture),
        bytes(description).decode("utf-8", "replace"),
    )


def _add_picture(result: Comments, value: bytes) -> None:
    try:
        block = base64.b64decode(value, validate=False)
    except (binascii.Error, ValueError):
        raise FormatError("METADATA_BLOCK_PICTURE comment is not base64") from None
    result.images.append(parse_flac_picture(block))


def _string(
    view: memoryview, pos: int, what: str, *, big_endian: bool = False
) -> tuple[memoryview, int]:
    """A 32-bit length followed by that many bytes, checked against the buffer."""
    if pos + 4 > len(view):
        raise FormatError(f"the length of the {what} is cut off")
    (length,) = struct.unpack_from(">I" if big_endian else "<I", view, pos)
    end = pos + 4 + length
    if end > len(view):
        raise FormatError(f"{what} of {length} bytes runs past its header's end")
    return view[pos + 4 : end], end
