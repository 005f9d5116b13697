"""One :class:`~pywebcodecs.source.Source` made of byte ranges of several others.

An HLS presentation is a list of segments (RFC 8216 section 3): MPEG-TS segments one after
another form one valid transport stream, and an fMP4 init segment followed by its media
segments forms one valid fragmented MP4. Reading them through a single source lets one
demuxer walk the whole presentation with continuous timestamps and the same packet order
as ffmpeg's HLS reader, which also runs one inner demuxer across segment boundaries.

Segments are opened only when first read, and at most a few are kept open, so a playlist
of thousands of segments costs neither thousands of file handles nor a size request per
segment up front.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass

from ..source import Source

_KEEP_OPEN = 2


@dataclass
class Part:
    """``length`` bytes (or, when None, the rest) of the source ``open()`` returns, from
    ``start``."""

    open: Callable[[], Source]
    start: int = 0
    length: int | None = None


class SpliceSource:
    """The concatenation of :class:`Part` byte ranges, in order."""

    def __init__(self, parts: list[Part], name: str) -> None:
        self._parts = parts
        self._name = name
        self._ends: list[int] = []  # cumulative end offset of each part whose length is known
        self._open: dict[int, Source] = {}

    @property
    def name(self) -> str:
        return self._name

    async def size(self) -> int | None:
        """The total, when every part has a stated length (EXT-X-BYTERANGE); else None,
        since learning it would mean asking every segment for its size up front."""
        if all(part.length is not None for part in self._parts):
            return sum(part.length or 0 for part in self._parts)
        return None

    async def read(self, offset: int, size: int) -> bytes:
        out = bytearray()
        index = await self._part_at(offset)
        while index is not None and len(out) < size:
            part_start = self._ends[index - 1] if index else 0
            within = offset + len(out) - part_start
            want = min(size - len(out), self._ends[index] - part_start - within)
            data = await self._source(index).read(self._parts[index].start + within, want)
            out += data
            if len(data) < want:
                break  # a byte range past the end of its segment: the joined stream ends here
            index = await self._part_at(offset + len(out)) if len(out) < size else None
        return bytes(out)

    async def _part_at(self, offset: int) -> int | None:
        """The index of the part holding ``offset``, learning part lengths as needed."""
        while not self._ends or self._ends[-1] <= offset:
            index = len(self._ends)
            if index == len(self._parts):
                return None
            part = self._parts[index]
            length = part.length
            if length is None:
                total = await self._source(index).size()
                length = max(0, (total or 0) - part.start)
            self._ends.append((self._ends[-1] if self._ends else 0) + length)
        return bisect.bisect_right(self._ends, offset)

    def _source(self, index: int) -> Source:
        source = self._open.get(index)
        if source is None:
            source = self._open[index] = self._parts[index].open()
            for stale in [i for i in self._open if i not in (index, *self._recent(index))]:
                close = getattr(self._open.pop(stale), "close", None)
                if close is not None:
                    close()
        return source

    def _recent(self, index: int) -> range:
        return range(max(0, index - _KEEP_OPEN + 1), index)
