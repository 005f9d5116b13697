"""The per-track DURATION tag ffmpeg and mkvmerge write: ``HH:MM:SS.nnnnnnnnn``.

It is a SimpleTag (RFC 9559 section 5.1.8.1.2) and not part of the specification's
timeline, but it is where ffprobe gets a Matroska stream's duration from.
"""

from __future__ import annotations

import re
from fractions import Fraction

_PATTERN = re.compile(r"(\d+):(\d{2}):(\d{2}(?:\.\d{1,9})?)")


def format_duration_tag(ms: int) -> str:
    seconds, millis = divmod(ms, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis * 1_000_000:09d}"


def parse_duration_tag(value: str, timescale: int) -> int | None:
    """The tag's duration in ``timescale`` units, or None when it is not a duration."""
    match = _PATTERN.fullmatch(value.strip())
    if match is None:
        return None
    hours, minutes, seconds = match.groups()
    total = int(hours) * 3600 + int(minutes) * 60 + Fraction(seconds)
    return round(total * timescale)
