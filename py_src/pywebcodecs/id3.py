"""ID3 tags: ID3v2.2/2.3/2.4 (id3.org "ID3 tag version 2.3.0" and "ID3v2.4.0 structure" /
"frames") at the front of MP3 and ADTS files and in a WAV ``id3 `` chunk, and the 128-byte
ID3v1 tag at the end of MP3 files.

Text frames become tags under ffprobe's names (``TIT2`` → ``title``…), ``APIC``/``PIC``
frames become cover images. Compressed or encrypted frames are skipped, not guessed at.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import FormatError
from .track import CoverImage

HEADER_SIZE = 10
_UNSYNC = 0x80
_EXTENDED = 0x40
_FOOTER = 0x10

#: Frame ids of all three versions → ffprobe's tag names (ffmpeg libavformat/id3v2.c).
_TAG_NAMES = {
    "TIT2": "title", "TPE1": "artist", "TALB": "album", "TPE2": "album_artist",
    "TCON": "genre", "TRCK": "track", "TPOS": "disc", "TCOM": "composer",
    "TCOP": "copyright", "TENC": "encoded_by", "TSSE": "encoder", "TPUB": "publisher",
    "TLAN": "language", "TPE3": "performer", "TDRC": "date", "TYER": "date",
    "TT2": "title", "TP1": "artist", "TAL": "album", "TP2": "album_artist", "TCO": "genre",
    "TRK": "track", "TPA": "disc", "TCM": "composer", "TCR": "copyright",
    "TEN": "encoded_by", "TSS": "encoder", "TYE": "date",
}  # fmt: skip
_ENCODINGS = ("latin-1", "utf-16", "utf-16-be", "utf-8")
_PIC_FORMATS = {"JPG": "image/jpeg", "PNG": "image/png"}


@dataclass
class Id3Tags:
    tags: dict[str, str] = field(default_factory=dict)
    images: list[CoverImage] = field(default_factory=list)


def id3v2_size(head: bytes) -> int | None:
    """Bytes of the ID3v2 tag starting ``head`` (header, body and footer), or None if
    ``head`` does not start with a valid ID3v2 header (section 3.1)."""
    if len(head) < HEADER_SIZE or head[:3] != b"ID3" or head[3] not in (2, 3, 4):
        return None
    if any(b & 0x80 for b in head[6:10]):
        return None
    footer = HEADER_SIZE if head[3] == 4 and head[5] & _FOOTER else 0
    return HEADER_SIZE + _syncsafe(head[6:10]) + footer


def parse_id3v2(tag: bytes) -> Id3Tags:
    """The tags and pictures of a whole ID3v2 tag (as measured by :func:`id3v2_size`)."""
    version, flags = tag[3], tag[5]
    body = tag[HEADER_SIZE : HEADER_SIZE + _syncsafe(tag[6:10])]
    if flags & _UNSYNC and version < 4:
        body = _resync(body)  # v2.4 marks unsynchronisation per frame instead
    pos = 0
    if flags & _EXTENDED and version >= 3:
        if len(body) < 4:
            raise FormatError("ID3v2 extended header is cut off", offset=HEADER_SIZE)
        size = _syncsafe(body[:4]) if version == 4 else 4 + int.from_bytes(body[:4], "big")
        pos = size
    result = Id3Tags()
    day_and_time: dict[str, str] = {}
    id_size, header_size = (3, 6) if version == 2 else (4, 10)
    while pos + header_size <= len(body) and body[pos] != 0:
        frame_id = body[pos : pos + id_size].decode("latin-1")
        size_bytes = body[pos + id_size : pos + id_size * 2]
        size = _syncsafe(size_bytes) if version == 4 else int.from_bytes(size_bytes, "big")
        frame_flags = int.from_bytes(body[pos + 8 : pos + 10], "big") if version > 2 else 0
        data = body[pos + header_size : pos + header_size + size]
        pos += header_size + size
        payload = _frame_payload(data, frame_flags, version)
        if payload and frame_id in ("TDAT", "TIME"):
            day_and_time[frame_id] = _text(payload[1:], _ENCODINGS[payload[0] & 3])
        elif payload:
            _add_frame(result, frame_id, payload)
    _merge_date(result.tags, day_and_time)
    return result


def _merge_date(tags: dict[str, str], day_and_time: dict[str, str]) -> None:
    """ID3v2.3 splits the date into TYER (YYYY), TDAT (DDMM) and TIME (HHMM) (section
    4.2.1); join them into one ``YYYY-MM-DD HH:MM`` date as ffprobe shows it."""
    day, time = day_and_time.get("TDAT", ""), day_and_time.get("TIME", "")
    if len(tags.get("date", "")) != 4 or len(day) != 4 or not day.isdigit():
        return
    tags["date"] += f"-{day[2:]}-{day[:2]}"
    if len(time) == 4 and time.isdigit():
        tags["date"] += f" {time[:2]}:{time[2:]}"


def parse_id3v1(tail: bytes) -> dict[str, str]:
    """The fields of a 128-byte ID3v1/1.1 tag (starts with ``TAG``), or {} if none."""
    if len(tail) != 128 or tail[:3] != b"TAG":
        return {}
    fields = {"title": tail[3:33], "artist": tail[33:63], "album": tail[63:93],
              "date": tail[93:97], "comment": tail[97:127]}  # fmt: skip
    tags = {k: _latin1(v) for k, v in fields.items() if _latin1(v)}
    if tail[125] == 0 and tail[126]:  # ID3v1.1: a track number after the comment
        tags["track"] = str(tail[126])
    return tags


def _frame_payload(data: bytes, flags: int, version: int) -> bytes | None:
    """The frame's content with its per-frame format flags undone (v2.4 section 4.1.2;
    v2.3 section 3.3.1), or None for compressed or encrypted frames."""
    if version == 3:
        if flags & 0x00C0:
            return None
        return data[1:] if flags & 0x0020 else data
    if version == 4:
        if flags & 0x000C:
            return None
        skip = (1 if flags & 0x0040 else 0) + (4 if flags & 0x0001 else 0)
        data = data[skip:]
        return _resync(data) if flags & 0x0002 else data
    return data


def _add_frame(result: Id3Tags, frame_id: str, data: bytes) -> None:
    encoding = _ENCODINGS[data[0]] if data[0] < 4 else "latin-1"
    if frame_id in _TAG_NAMES:
        result.tags.setdefault(_TAG_NAMES[frame_id], _text(data[1:], encoding))
    elif frame_id in ("TXXX", "TXX"):
        key, value = _split_string(data[1:], encoding)
        if key:
            result.tags.setdefault(_text(key, encoding), _text(value, encoding))
    elif frame_id in ("COMM", "COM") and len(data) > 4:
        _description, text = _split_string(data[4:], encoding)
        result.tags.setdefault("comment", _text(text, encoding))
    elif frame_id == "APIC":
        mime_end = data.find(b"\0", 1)
        if mime_end < 0 or mime_end + 2 > len(data):
            return
        mime = data[1:mime_end].decode("latin-1") or "image/jpeg"
        description, picture = _split_string(data[mime_end + 2 :], encoding)
        result.images.append(CoverImage(_mime(mime), picture, _text(description, encoding)))
    elif frame_id == "PIC" and len(data) > 5:
        mime = _PIC_FORMATS.get(data[1:4].decode("latin-1").upper(), "image")
        description, picture = _split_string(data[5:], encoding)
        result.images.append(CoverImage(mime, picture, _text(description, encoding)))


def _split_string(data: bytes, encoding: str) -> tuple[bytes, bytes]:
    """(a terminated string, the rest): the terminator is one or two zero bytes."""
    if encoding.startswith("utf-16"):
        for at in range(0, len(data) - 1, 2):
            if data[at : at + 2] == b"\0\0":
                return data[:at], data[at + 2 :]
        return data, b""
    at = data.find(b"\0")
    return (data, b"") if at < 0 else (data[:at], data[at + 1 :])


def _text(data: bytes, encoding: str) -> str:
    """Text of a frame; v2.4 separates several values with a zero, shown as ``/``."""
    text = data.decode(encoding, "replace") if data else ""
    return "/".join(part for part in text.split("\0") if part)


def _mime(mime: str) -> str:
    """A MIME type; some writers put ``image/jpg`` or a bare ``JPG`` in the field."""
    if "/" not in mime:
        return _PIC_FORMATS.get(mime.upper(), "image")
    return "image/jpeg" if mime.lower() == "image/jpg" else mime


def _latin1(data: bytes) -> str:
    return data.split(b"\0", 1)[0].decode("latin-1").strip()


def _syncsafe(data: bytes) -> int:
    """A 28-bit integer stored 7 bits per byte (section 6.2)."""
    value = 0
    for byte in data:
        value = value << 7 | (byte & 0x7F)
    return value


def _resync(data: bytes) -> bytes:
    """Undo unsynchronisation: every ``FF 00`` was an ``FF`` (section 6.1)."""
    return data.replace(b"\xff\x00", b"\xff")
