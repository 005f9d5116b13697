"""Windowed reading over a :class:`~pywebcodecs.source.Source`.

Every ``await`` of a real fetch costs a trip through the browser, so demuxers ask the
reader for exactly the bytes they want and the reader fetches a whole window around them
(1 MiB by default). Requests inside the window are answered from memory without
suspending, which makes parsing headers and walking sequential packets cheap. Demuxers
parse the bytes they get synchronously (``struct``/``memoryview``), never byte by byte
with an await in between.
"""

from __future__ import annotations

from .errors import FormatError
from .source import Source

DEFAULT_WINDOW = 1 << 20


class Reader:
    """Cached range reads plus the bookkeeping demuxers need for good errors."""

    def __init__(self, source: Source, *, window: int = DEFAULT_WINDOW) -> None:
        self.source = source
        self.window = window
        self.size: int | None = None
        self.bytes_fetched = 0
        self.fetches = 0
        self._buf = b""
        self._buf_start = 0

    @classmethod
    async def open(cls, source: Source, *, window: int = DEFAULT_WINDOW) -> Reader:
        reader = cls(source, window=window)
        reader.size = await source.size()
        return reader

    @property
    def name(self) -> str:
        return self.source.name

    async def read(self, offset: int, size: int) -> bytes:
        """Up to ``size`` bytes at ``offset`` (fewer only at the end of the file)."""
        if size <= 0 or offset < 0:
            return b""
        if self.size is not None:
            size = min(size, self.size - offset)
            if size <= 0:
                return b""
        buf_start = self._buf_start
        if buf_start <= offset and offset + size <= buf_start + len(self._buf):
            start = offset - buf_start
            return self._buf[start : start + size]
        if size >= self.window:
            # Large payloads (a big video frame, a whole moov) go straight through
            # without evicting the window that the parser is walking.
            return await self._fetch(offset, size)
        buf_end = buf_start + len(self._buf)
        if buf_start <= offset < buf_end:
            # The request runs past the window: keep its start and read on from the
            # window's end, so that the source sees one forward walk (a streamed URL
            # continues its response instead of starting a new request).
            kept = self._buf[offset - buf_start :]
            self._buf = kept + await self._fetch(buf_end, self.window - len(kept))
        else:
            self._buf = await self._fetch(offset, self.window)
        self._buf_start = offset
        return self._buf[:size]

    async def read_exact(self, offset: int, size: int, what: str, format: str = "") -> bytes:
        """Exactly ``size`` bytes, or a :class:`FormatError` naming what was cut off."""
        data = await self.read(offset, size)
        if len(data) != size:
            raise FormatError(
                f"file ends inside {what}: needed {size} bytes, {len(data)} left",
                source=self.name,
                format=format or None,
                offset=offset,
            )
        return data

    async def _fetch(self, offset: int, size: int) -> bytes:
        data = await self.source.read(offset, size)
        self.fetches += 1
        self.bytes_fetched += len(data)
        return data
