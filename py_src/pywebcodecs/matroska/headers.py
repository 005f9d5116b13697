"""Parsing the Segment's header elements: SeekHead, Info, Tracks, Tags, Attachments.

Each function takes a buffer holding the whole element data (these elements are small
and read in one go) and returns plain values; sections are RFC 9559 section 5.1.*.
Unknown children are skipped, as EBML readers must (RFC 8794 section 11.2.x).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..track import CoverImage
from . import ids
from .ebml import EbmlError, children, decode_float, decode_string, decode_uint, read_id

Buffer = bytes | memoryview


def parse_doc_type(buf: Buffer, start: int, end: int) -> str:
    """The DocType of the EBML header (RFC 8794 section 11.2.6); "matroska" by default."""
    doc_type = "matroska"
    for element_id, s, e in children(buf, start, end):
        if element_id == ids.DOC_TYPE:
            doc_type = decode_string(buf, s, e)
    return doc_type


def parse_seek_head(buf: Buffer, start: int, end: int) -> dict[int, int]:
    """Element ID → position relative to the Segment data (RFC 9559 section 5.1.1)."""
    positions: dict[int, int] = {}
    for element_id, s, e in children(buf, start, end):
        if element_id != ids.SEEK:
            continue
        seek_id = position = None
        for child_id, cs, ce in children(buf, s, e):
            if child_id == ids.SEEK_ID and ce > cs:
                seek_id = read_id(buf[cs:ce], 0)[0]
            elif child_id == ids.SEEK_POSITION:
                position = decode_uint(buf, cs, ce)
        if seek_id is not None and position is not None:
            positions.setdefault(seek_id, position)
    return positions


@dataclass
class SegmentInfo:
    timestamp_scale: int = 1_000_000  # nanoseconds per timestamp unit
    duration: float | None = None  # in timestamp units
    title: str | None = None


def parse_info(buf: Buffer, start: int, end: int) -> SegmentInfo:
    """The Info element (RFC 9559 section 5.1.2)."""
    info = SegmentInfo()
    for element_id, s, e in children(buf, start, end):
        if element_id == ids.TIMESTAMP_SCALE:
            info.timestamp_scale = decode_uint(buf, s, e)
            if info.timestamp_scale == 0:
                raise EbmlError("TimestampScale is 0", s)
        elif element_id == ids.DURATION:
            duration = decode_float(buf, s, e)
            # A zero, negative or non-finite Duration says nothing; treat it as missing.
            info.duration = duration if 0 < duration < 1e15 else None
        elif element_id == ids.TITLE:
            info.title = decode_string(buf, s, e)
    return info


def _positive_float(buf: Buffer, start: int, end: int, name: str) -> float:
    value = decode_float(buf, start, end)
    if not 0 < value < 1e15:  # also rejects NaN and infinities
        raise EbmlError(f"{name} is {value}", start)
    return value


@dataclass
class TrackEntry:
    """The TrackEntry fields the demuxer uses (RFC 9559 section 5.1.4.1), with defaults."""

    offset: int  # where the TrackEntry data starts, for error messages
    number: int = 0
    uid: int = 0
    type: int = 0
    codec_id: str = ""
    codec_private: bytes | None = None
    default_duration: int | None = None  # ns
    flag_default: bool = True
    language: str = "eng"
    name: str | None = None
    codec_delay: int = 0  # ns
    # Video
    pixel_width: int = 0
    pixel_height: int = 0
    display_width: int | None = None
    display_height: int | None = None
    display_unit: int = 0
    alpha_mode: int = 0  # 1: BlockAdditional 1 holds an alpha channel (WebM)
    colour: dict[int, int] = field(default_factory=dict)
    pose_roll: float = 0.0
    # Audio
    sampling_frequency: float = 8000.0
    channels: int = 1
    bit_depth: int | None = None
    # ContentEncoding (RFC 9559 section 5.1.4.1.31): algorithm, settings, or encrypted
    compression: int | None = None
    compression_settings: bytes = b""
    encrypted: bool = False


def parse_tracks(buf: Buffer, start: int, end: int) -> list[TrackEntry]:
    """Every TrackEntry of the Tracks element (RFC 9559 section 5.1.4)."""
    return [
        _parse_track_entry(buf, s, e)
        for element_id, s, e in children(buf, start, end)
        if element_id == ids.TRACK_ENTRY
    ]


_UINT_FIELDS = {
    ids.TRACK_NUMBER: "number",
    ids.TRACK_UID: "uid",
    ids.TRACK_TYPE: "type",
    ids.DEFAULT_DURATION: "default_duration",
    ids.CODEC_DELAY: "codec_delay",
}
_VIDEO_FIELDS = {
    ids.PIXEL_WIDTH: "pixel_width",
    ids.PIXEL_HEIGHT: "pixel_height",
    ids.DISPLAY_WIDTH: "display_width",
    ids.DISPLAY_HEIGHT: "display_height",
    ids.DISPLAY_UNIT: "display_unit",
    ids.ALPHA_MODE: "alpha_mode",
}


def _parse_track_entry(buf: Buffer, start: int, end: int) -> TrackEntry:
    entry = TrackEntry(offset=start)
    bcp47 = None
    for element_id, s, e in children(buf, start, end):
        if element_id in _UINT_FIELDS:
            setattr(entry, _UINT_FIELDS[element_id], decode_uint(buf, s, e))
        elif element_id == ids.CODEC_ID:
            entry.codec_id = decode_string(buf, s, e)
        elif element_id == ids.CODEC_PRIVATE:
            entry.codec_private = bytes(buf[s:e])
        elif element_id == ids.FLAG_DEFAULT:
            entry.flag_default = decode_uint(buf, s, e) != 0
        elif element_id == ids.LANGUAGE:
            entry.language = decode_string(buf, s, e)
        elif element_id == ids.LANGUAGE_BCP47:
            bcp47 = decode_string(buf, s, e)
        elif element_id == ids.NAME:
            entry.name = decode_string(buf, s, e)
        elif element_id == ids.VIDEO:
            _parse_video(buf, s, e, entry)
        elif element_id == ids.AUDIO:
            _parse_audio(buf, s, e, entry)
        elif element_id == ids.CONTENT_ENCODINGS:
            _parse_content_encodings(buf, s, e, entry)
    if bcp47:
        entry.language = bcp47
    return entry


def _parse_video(buf: Buffer, start: int, end: int, entry: TrackEntry) -> None:
    for element_id, s, e in children(buf, start, end):
        if element_id in _VIDEO_FIELDS:
            setattr(entry, _VIDEO_FIELDS[element_id], decode_uint(buf, s, e))
        elif element_id == ids.COLOUR:
            for colour_id, cs, ce in children(buf, s, e):
                if colour_id in _COLOUR_IDS:
                    entry.colour[colour_id] = decode_uint(buf, cs, ce)
        elif element_id == ids.PROJECTION:
            for projection_id, ps, pe in children(buf, s, e):
                if projection_id == ids.PROJECTION_POSE_ROLL:
                    roll = decode_float(buf, ps, pe)
                    entry.pose_roll = roll if math.isfinite(roll) else 0.0


_COLOUR_IDS = {ids.MATRIX_COEFFICIENTS, ids.RANGE, ids.TRANSFER_CHARACTERISTICS, ids.PRIMARIES}


def _parse_audio(buf: Buffer, start: int, end: int, entry: TrackEntry) -> None:
    for element_id, s, e in children(buf, start, end):
        if element_id == ids.SAMPLING_FREQUENCY:
            entry.sampling_frequency = _positive_float(buf, s, e, "SamplingFrequency")
        elif element_id == ids.CHANNELS:
            entry.channels = decode_uint(buf, s, e)
        elif element_id == ids.BIT_DEPTH:
            entry.bit_depth = decode_uint(buf, s, e)


def _parse_content_encodings(buf: Buffer, start: int, end: int, entry: TrackEntry) -> None:
    for encoding_id, s, e in children(buf, start, end):
        if encoding_id != ids.CONTENT_ENCODING:
            continue
        encoding_type = 0
        for child_id, cs, ce in children(buf, s, e):
            if child_id == ids.CONTENT_ENCODING_TYPE:
                encoding_type = decode_uint(buf, cs, ce)
            elif child_id == ids.CONTENT_COMPRESSION:
                entry.compression = 0  # zlib unless ContentCompAlgo says otherwise
                for comp_id, ps, pe in children(buf, cs, ce):
                    if comp_id == ids.CONTENT_COMP_ALGO:
                        entry.compression = decode_uint(buf, ps, pe)
                    elif comp_id == ids.CONTENT_COMP_SETTINGS:
                        entry.compression_settings = bytes(buf[ps:pe])
        if encoding_type == 1:
            entry.encrypted = True


@dataclass
class Tags:
    """Global tags and per-track tags (by TrackUID), names as written (RFC 9559 §5.1.8)."""

    segment: dict[str, str] = field(default_factory=dict)
    tracks: dict[int, dict[str, str]] = field(default_factory=dict)


def parse_tags(buf: Buffer, start: int, end: int, tags: Tags) -> None:
    """Add the SimpleTags of a Tags element to ``tags``."""
    for element_id, s, e in children(buf, start, end):
        if element_id != ids.TAG:
            continue
        track_uids: list[int] = []
        values: dict[str, str] = {}
        for child_id, cs, ce in children(buf, s, e):
            if child_id == ids.TARGETS:
                track_uids += [
                    decode_uint(buf, ts, te)
                    for target_id, ts, te in children(buf, cs, ce)
                    if target_id == ids.TAG_TRACK_UID
                ]
            elif child_id == ids.SIMPLE_TAG:
                name = value = None
                for simple_id, ss, se in children(buf, cs, ce):
                    if simple_id == ids.TAG_NAME:
                        name = decode_string(buf, ss, se)
                    elif simple_id == ids.TAG_STRING:
                        value = decode_string(buf, ss, se)
                if name and value is not None:
                    values[name] = value
        targets = [uid for uid in track_uids if uid]
        if not targets:
            tags.segment.update(values)
        for uid in targets:
            tags.tracks.setdefault(uid, {}).update(values)


def parse_attachments(buf: Buffer, start: int, end: int) -> tuple[list[CoverImage], list[str]]:
    """The attached files that are images (cover art), RFC 9559 section 5.1.6, and the
    names (with media type) of the others, fonts mostly: no output keeps those, and the
    conversion says so rather than losing them unsaid."""
    images = []
    others = []
    for element_id, s, e in children(buf, start, end):
        if element_id != ids.ATTACHED_FILE:
            continue
        mime = description = name = ""
        data = b""
        for child_id, cs, ce in children(buf, s, e):
            if child_id == ids.FILE_MEDIA_TYPE:
                mime = decode_string(buf, cs, ce)
            elif child_id == ids.FILE_DESCRIPTION:
                description = decode_string(buf, cs, ce)
            elif child_id == ids.FILE_NAME:
                name = decode_string(buf, cs, ce)
            elif child_id == ids.FILE_DATA:
                data = bytes(buf[cs:ce])
        if mime.startswith("image/"):
            images.append(CoverImage(mime_type=mime, data=data, description=description))
        else:
            others.append(f"{name!r} ({mime or 'no media type'})")
    return images, others
