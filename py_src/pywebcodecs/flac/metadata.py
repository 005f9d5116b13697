"""FLAC metadata blocks (RFC 9639 section 8): STREAMINFO and PICTURE bodies.

The other blocks (padding, application, seek table, cue sheet) are skipped; the Vorbis
comment block is parsed by :mod:`pywebcodecs.vorbis_comment`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ..errors import FormatError
from ..track import CoverImage

STREAMINFO = 0
VORBIS_COMMENT = 4
PICTURE = 6
STREAMINFO_SIZE = 34


@dataclass(frozen=True)
class StreamInfo:
    """RFC 9639 section 8.2."""

    min_block_size: int
    max_block_size: int
    sample_rate: int
    channels: int
    bits_per_sample: int
    total_samples: int  # 0 when unknown


def parse_streaminfo(body: bytes) -> StreamInfo:
    if len(body) < STREAMINFO_SIZE:
        raise FormatError(f"STREAMINFO of {len(body)} bytes, needs {STREAMINFO_SIZE}")
    min_block, max_block = struct.unpack_from(">HH", body, 0)
    packed = int.from_bytes(body[10:18], "big")
    sample_rate = packed >> 44
    channels = ((packed >> 41) & 7) + 1
    bits = ((packed >> 36) & 31) + 1
    if sample_rate == 0:
        raise FormatError("STREAMINFO gives a sample rate of 0")
    if min_block < 16 or max_block < min_block:
        raise FormatError(f"STREAMINFO block sizes {min_block}..{max_block} are invalid")
    return StreamInfo(min_block, max_block, sample_rate, channels, bits, packed & (2**36 - 1))


def flac_description(streaminfo: bytes) -> bytes:
    """``fLaC`` and the STREAMINFO block flagged as the last one: the decoder description
    WebCodecs' FLAC registration asks for (and ffmpeg's 34-byte extradata, framed)."""
    return b"fLaC\x80" + STREAMINFO_SIZE.to_bytes(3, "big") + streaminfo[:STREAMINFO_SIZE]


def parse_picture(body: bytes) -> CoverImage:
    """RFC 9639 section 8.8: type, MIME type, description, size, colours, picture data."""
    pos = 4
    mime, pos = _string(body, pos, "the MIME type")
    description, pos = _string(body, pos, "the description")
    pos += 16  # width, height, colour depth, number of colours
    data, _ = _string(body, pos, "the picture data")
    mime_type = mime.decode("ascii", "replace") or "image/"
    return CoverImage(mime_type, data, description.decode("utf-8", "replace"))


def _string(body: bytes, pos: int, what: str) -> tuple[bytes, int]:
    if pos + 4 > len(body):
        raise FormatError(f"PICTURE block ends before the length of {what}", offset=pos)
    (size,) = struct.unpack_from(">I", body, pos)
    end = pos + 4 + size
    if end > len(body):
        raise FormatError(f"{what} ({size} bytes) runs past the PICTURE block", offset=pos)
    return body[pos + 4 : end], end
