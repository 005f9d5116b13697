"""The ``moov`` box of the MP4 writer: movie and track headers, edit lists, media headers
(ISO 14496-12 sections 8.2-8.6 and 8.8.1-8.8.3).

The movie timescale is 1000; each track keeps its input timescale so copied timestamps
are never rounded. The edit list maps media time to the presentation the way ffmpeg
reads it back: the media starts at decode time 0, and an edit with ``media_time`` equal
to the first decode time's distance below zero puts the first presented sample where the
input had it (AAC priming at -1024 stays at -1024, B-frame video keeps pts 0 and negative
decode times, and copied video trimmed from the key frame before the trim's start is shown
from the start: its earlier frames have negative times, which the edit skips). The edit
ends with the last sample shown, not with a reference frame kept past a trim's end.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import UnsupportedError
from ..track import AudioTrack, Track, VideoTrack
from .box_writer import MAX_32, box, full_box
from .sample_entry_writer import stsd

MOVIE_TIMESCALE = 1000
_UNITY = 0x10000


@dataclass
class TrackTiming:
    """A written track's timeline, in its own timescale."""

    first_dts: int  # the input decode time of media time 0
    start_pts: int  # the earliest pts
    media_duration: int  # sum of the sample durations
    end_pts: int  # the latest pts + duration: where the presentation ends

    @property
    def delay(self) -> int:
        """Where a late track starts, for the empty edit; 0 when it starts at or before 0."""
        return max(self.start_pts, 0)

    def delay_ms(self, timescale: int) -> int:
        return self.delay * MOVIE_TIMESCALE // timescale

    def presentation(self, timescale: int) -> int:
        """The track's duration in movie units: the empty edit, then the media edit."""
        return self.delay_ms(timescale) + to_movie(max(self.end_pts - self.delay, 0), timescale)


def to_movie(value: int, timescale: int) -> int:
    """Track units → movie units (ms), rounded up so an edit never cuts the last sample."""
    return -(-value * MOVIE_TIMESCALE // timescale)


def mvhd(duration: int, next_track_id: int) -> bytes:
    version = 1 if duration > MAX_32 else 0
    times = struct.pack(">QQIQ" if version else ">IIII", 0, 0, MOVIE_TIMESCALE, duration)
    rest = struct.pack(">IH10x", _UNITY, 0x100) + _matrix(0, 0, 0) + bytes(24)
    return full_box("mvhd", version, 0, times, rest, struct.pack(">I", next_track_id))


def trak(track: Track, number: int, timing: TrackTiming, stbl_children: Sequence[bytes],
         bitrate: int, fragmented: bool) -> bytes:  # fmt: skip
    scale = track.timescale
    duration = 0 if fragmented else timing.presentation(scale)
    children = [_tkhd(track, number, duration)]
    edits = _edit_list(timing, scale, fragmented)
    if edits:
        children.append(box("edts", edits))
    media_duration = 0 if fragmented else timing.media_duration
    video = isinstance(track, VideoTrack)
    minf = box(
        "minf",
        full_box("vmhd", 0, 1, bytes(8)) if video else full_box("smhd", 0, 0, bytes(4)),
        box("dinf", full_box("dref", 0, 0, struct.pack(">I", 1), full_box("url ", 0, 1))),
        box("stbl", stsd(track, bitrate), *stbl_children),
    )
    handler = "vide" if video else "soun"
    # The handler's name is where ffmpeg shows a track's name (handler_name).
    name = track.name or ("VideoHandler" if video else "SoundHandler")
    hdlr = full_box("hdlr", 0, 0, struct.pack(">I4s12x", 0, handler.encode()),
                    name.encode("utf-8") + b"\0")  # fmt: skip
    children.append(box("mdia", _mdhd(track, media_duration), hdlr, minf))
    if track.name:  # where ffmpeg writes a track's title, and our reader takes it from
        children.append(box("udta", box("name", track.name.encode("utf-8"))))
    return box("trak", *children)


def mvex(track_numbers: Sequence[int]) -> bytes:
    """trex defaults: sample description 1; every sample states its own values."""
    return box(
        "mvex",
        *(full_box("trex", 0, 0, struct.pack(">5I", n, 1, 0, 0, 0)) for n in track_numbers),
    )


def _tkhd(track: Track, number: int, duration: int) -> bytes:
    version = 1 if duration > MAX_32 else 0
    times = struct.pack(">QQI4xQ" if version else ">III4xI", 0, 0, number, duration)
    width = height = rotation = 0
    volume = 0x100 if isinstance(track, AudioTrack) else 0
    if isinstance(track, VideoTrack):
        width = track.display_width or track.width
        height = track.display_height or track.height
        rotation = track.rotation % 360
    if max(width, height) > 0xFFFF:  # a damaged pixel aspect ratio can make it so
        raise UnsupportedError(
            f"track {track.id}: a display size of {width}x{height} does not fit an MP4 "
            "track header (16.16 fixed point: at most 65535)"
        )
    middle = struct.pack(">8xhhH2x", 0, 0, volume)
    size = struct.pack(">II", width << 16, height << 16)
    flags = 0x3 if track.is_default or isinstance(track, VideoTrack) else 0x2
    return full_box("tkhd", version, flags, times, middle, _matrix(rotation, width, height), size)


def _matrix(rotation: int, width: int, height: int) -> bytes:
    """The display matrix for a clockwise rotation (section 8.2.2.3): a b u c d v x y w,
    a-d and x, y in 16.16, u v w in 2.30; the translation keeps the picture in view."""
    a, b, c, d, x, y = {
        90: (0, 1, -1, 0, height, 0),
        180: (-1, 0, 0, -1, width, height),
        270: (0, -1, 1, 0, 0, width),
    }.get(rotation, (1, 0, 0, 1, 0, 0))
    return struct.pack(">9i", a * _UNITY, b * _UNITY, 0, c * _UNITY, d * _UNITY, 0,
                       x * _UNITY, y * _UNITY, 1 << 30)  # fmt: skip


def _edit_list(timing: TrackTiming, scale: int, fragmented: bool) -> bytes | None:
    """elst (section 8.6.6); none when the media's decode times already start at 0.

    A track that starts before or at 0 gets one edit whose ``media_time`` is how far the
    first decode time lies below 0: exact. A track that starts later gets an empty edit
    first, in whole milliseconds (rounded down, as ffmpeg does), and its media edit starts
    at the first presented sample (a keyframe, as players want), so a reader may see the
    track up to 1 ms early.
    """
    if timing.first_dts == 0:
        return None
    entries: list[tuple[int, int]] = []  # (segment duration in ms, media_time)
    if timing.delay:
        entries.append((timing.delay_ms(scale), -1))
    segment = timing.presentation(scale) - timing.delay_ms(scale)
    entries.append((0 if fragmented else segment, timing.delay - timing.first_dts))
    version = 1 if any(d > MAX_32 or t > 0x7FFFFFFF for d, t in entries) else 0
    row = struct.Struct(">QqHH" if version else ">IiHH")
    body = b"".join(row.pack(d, t, 1, 0) for d, t in entries)
    return full_box("elst", version, 0, struct.pack(">I", len(entries)), body)


def _mdhd(track: Track, duration: int) -> bytes:
    version = 1 if duration > MAX_32 else 0
    times = struct.pack(">QQIQ" if version else ">IIII", 0, 0, track.timescale, duration)
    return full_box("mdhd", version, 0, times, struct.pack(">HH", _language(track.language), 0))


def _language(code: str | None) -> int:
    """ISO 639-2/T in three 5-bit letters (section 8.4.2.3); "und" when unknown."""
    letters = code if code and len(code) == 3 and code.isalpha() and code.islower() else "und"
    return sum((ord(ch) - 0x60) << shift for ch, shift in zip(letters, (10, 5, 0), strict=True))
