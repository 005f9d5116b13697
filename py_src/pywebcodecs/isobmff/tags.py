"""File tags and cover art from a ``moov``'s ``udta`` box.

Two layouts exist: the iTunes one that ffmpeg writes to MP4 and M4A (``udta/meta/ilst``,
each item holding a ``data`` box with a type code, the de-facto Apple metadata format
built on ISO 14496-12 section 8.11.1), and the QuickTime one that ffmpeg writes to MOV
(``udta/©nam`` and friends holding a 16-bit length, a 16-bit language code and the text;
QuickTime File Format, "User data atoms").
"""

from __future__ import annotations

import struct

from ..track import CoverImage
from .box_writer import box, full_box
from .boxes import BoxView

#: Item types of both layouts → our tag names (ffprobe's for the common ones).
TAG_NAMES = {"©nam": "title", "©ART": "artist", "©alb": "album", "aART": "album_artist",
             "©day": "date", "©gen": "genre", "©cmt": "comment", "©too": "encoder",
             "©swr": "encoder", "©wrt": "composer", "desc": "description",
             "cprt": "copyright", "©cpy": "copyright"}  # fmt: skip
#: Our tag names → the iTunes item each is written as (the reverse of TAG_NAMES, where
#: it has two items for one name: the one ffmpeg writes to MP4). "encoder" is not
#: carried: the output's writer is not the input's.
ITEM_TYPES = {"title": "©nam", "artist": "©ART", "album": "©alb", "album_artist": "aART",
              "date": "©day", "genre": "©gen", "comment": "©cmt", "composer": "©wrt",
              "description": "desc", "copyright": "cprt"}  # fmt: skip
_UTF8 = 1
_IMAGE_TYPES = {13: "image/jpeg", 14: "image/png", 27: "image/bmp"}
_QT_TEXT = struct.Struct(">HH")


def read_tags(moov: BoxView) -> tuple[dict[str, str], list[CoverImage]]:
    """(tags, cover images) of a movie; empty when it has none."""
    tags: dict[str, str] = {}
    images: list[CoverImage] = []
    udta = moov.child("udta")
    if udta is None:
        return tags, images
    for item in udta.children():
        if item.type in TAG_NAMES and item.type.startswith("©") and len(item.body) >= 4:
            length, _language = _QT_TEXT.unpack_from(item.body, 0)
            text = bytes(item.body[4 : 4 + length])
            tags.setdefault(TAG_NAMES[item.type], text.decode("utf-8", "replace"))
    meta = udta.child("meta")
    ilst = meta.child("ilst", skip=4) if meta is not None else None
    for item in ilst.children() if ilst is not None else []:
        data = item.child("data")
        if data is None or len(data.body) < 8:
            continue
        kind = int.from_bytes(data.body[1:4], "big")
        value = bytes(data.body[8:])
        if item.type == "covr":
            images.append(CoverImage(_IMAGE_TYPES.get(kind, "image"), value))
        elif item.type in TAG_NAMES and kind == _UTF8:
            tags[TAG_NAMES[item.type]] = value.decode("utf-8", "replace")
    return tags, images


def write_udta(tags: dict[str, str], images: list[CoverImage]) -> bytes:
    """``udta/meta/ilst`` holding ``tags`` and the cover ``images`` (as ``covr``), in the
    iTunes layout ffmpeg writes and reads; empty when there is nothing to hold."""
    items = [
        _item(ITEM_TYPES[name], _UTF8, value.encode("utf-8"))
        for name, value in tags.items()
        if name in ITEM_TYPES
    ]
    codes = {mime: code for code, mime in _IMAGE_TYPES.items()}
    pictures = [
        _data(codes[image.mime_type], image.data) for image in images if image.mime_type in codes
    ]
    if pictures:
        items.append(box("covr", *pictures))
    if not items:
        return b""
    # The metadata handler (ISO 14496-12 section 8.4.3): 'mdir', reserved 'appl', no name.
    hdlr = full_box("hdlr", 0, 0, struct.pack(">I4s4s8x", 0, b"mdir", b"appl"), b"\0")
    return box("udta", full_box("meta", 0, 0, hdlr, box("ilst", *items)))


def _item(item_type: str, kind: int, value: bytes) -> bytes:
    return box(item_type, _data(kind, value))


def _data(kind: int, value: bytes) -> bytes:
    """A ``data`` box: type indicator (0 + a 24-bit well-known type), locale 0, value."""
    return box("data", struct.pack(">II", kind, 0), value)
