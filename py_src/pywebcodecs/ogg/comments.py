"""Comment headers of Vorbis (Vorbis I specification section 5), Opus (RFC 7845 section
5.2) and FLAC-in-Ogg: tags, and the ``METADATA_BLOCK_PICTURE`` comment, which holds a base64
FLAC PICTURE block and becomes a cover image as ffmpeg treats it."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field

from ..errors import FormatError
from ..flac.metadata import parse_picture
from ..track import CoverImage
from ..vorbis_comment import parse_vorbis_comment

_PICTURE_KEY = "metadata_block_picture"


@dataclass
class Comments:
    tags: dict[str, str] = field(default_factory=dict)
    images: list[CoverImage] = field(default_factory=list)


def parse_comments(data: bytes) -> Comments:
    """Tags and pictures of a comment header body (after its packet-type prefix)."""
    tags = parse_vorbis_comment(data)
    picture = tags.pop(_PICTURE_KEY, None)
    if picture is None:
        return Comments(tags)
    try:
        block = base64.b64decode(picture)
    except (binascii.Error, ValueError):
        raise FormatError("METADATA_BLOCK_PICTURE comment is not base64") from None
    return Comments(tags, [parse_picture(block)])
