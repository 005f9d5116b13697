"""Where output bytes go.

Muxers write forward with :meth:`Sink.write` and patch small, already written headers
(sizes, durations, seek tables) with :meth:`Sink.write_at`. That is all a muxer may ask
for, so the same muxer writes to a file, to memory, to a browser-side chunk list, to the
Origin Private File System or over HTTP to the terminal command: every one of those takes
a write at an offset.

An output is kept in memory (a ``Blob``) unless it may not fit: :func:`streams_output`
says when a conversion writes to disk instead, and :func:`fast_start_fits` when an MP4
may be written moov-first (which holds every packet in memory until the end).
"""

from __future__ import annotations

import os
from typing import Protocol

#: An input larger than this is converted to disk (OPFS) rather than into a Blob...
STREAM_ABOVE_BYTES = 1 << 30
#: ... as is one larger than this fraction of the device's memory (navigator.deviceMemory,
#: which Chromium rounds down and caps at 8 GiB): the output of a copy is about as large
#: as its input, and the tab needs room for the rest of the page too.
STREAM_ABOVE_MEMORY_FRACTION = 0.25
#: An MP4 is written fast-start (moov first) by default only when its input is at most
#: this large and the output stays in memory anyway.
FAST_START_MAX_BYTES = 256 << 20
#: A streamed sink hands the bytes on in pieces of this size.
STREAM_CHUNK_BYTES = 4 << 20


def streams_output(input_size: int, device_memory_gib: float | None) -> bool:
    """Whether an input of ``input_size`` bytes is converted to disk rather than memory."""
    limit = STREAM_ABOVE_BYTES
    if device_memory_gib:
        limit = min(limit, int(device_memory_gib * (1 << 30) * STREAM_ABOVE_MEMORY_FRACTION))
    return input_size > limit


def fast_start_fits(input_size: int, in_memory: bool) -> bool:
    """Whether an MP4 is written moov-first when the caller did not say."""
    return in_memory and input_size <= FAST_START_MAX_BYTES


class Sink(Protocol):
    @property
    def position(self) -> int:
        """How many bytes were written so far (the offset of the next :meth:`write`)."""
        ...

    async def write(self, data: bytes | bytearray | memoryview) -> None: ...

    async def write_at(self, offset: int, data: bytes | bytearray | memoryview) -> None:
        """Overwrite bytes already written (never extends the output)."""
        ...


class MemorySink:
    """Keeps the output as a list of chunks; :meth:`getvalue` joins them."""

    in_memory = True

    def __init__(self) -> None:
        self._chunks: list[bytearray] = []
        self._starts: list[int] = []
        self._position = 0

    @property
    def position(self) -> int:
        return self._position

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        self._starts.append(self._position)
        self._chunks.append(bytearray(data))
        self._position += len(data)

    async def write_at(self, offset: int, data: bytes | bytearray | memoryview) -> None:
        if offset < 0 or offset + len(data) > self._position:
            raise ValueError(f"write_at({offset}, {len(data)} bytes) outside {self._position}")
        view = memoryview(data).cast("B")
        index = _chunk_index(self._starts, offset)
        while len(view):
            chunk = self._chunks[index]
            start = offset - self._starts[index]
            take = min(len(chunk) - start, len(view))
            chunk[start : start + take] = view[:take]
            view = view[take:]
            offset += take
            index += 1

    def getvalue(self) -> bytes:
        return b"".join(self._chunks)


class FileSink:
    """A local file (CPython terminal commands and tests)."""

    in_memory = False

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._file = open(path, "wb")  # noqa: SIM115 - closed by close()
        self._position = 0

    @property
    def position(self) -> int:
        return self._position

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        self._file.write(data)
        self._position += len(data)

    async def write_at(self, offset: int, data: bytes | bytearray | memoryview) -> None:
        if offset < 0 or offset + len(data) > self._position:
            raise ValueError(f"write_at({offset}, {len(data)} bytes) outside {self._position}")
        self._file.seek(offset)
        self._file.write(data)
        self._file.seek(self._position)

    def close(self) -> None:
        self._file.close()


class StreamedSink:
    """Bytes held in a buffer of :data:`STREAM_CHUNK_BYTES` and handed on by
    :meth:`put` (a write at an offset) when it is full, so that only one chunk sits in
    memory. A patch of bytes still in the buffer changes the buffer; one of bytes already
    handed on is put at once (it lands after them, as every put is awaited)."""

    in_memory = False

    def __init__(self) -> None:
        self._pending = bytearray()
        self._pending_start = 0
        self._position = 0

    @property
    def position(self) -> int:
        return self._position

    async def put(self, offset: int, data: bytes | bytearray | memoryview) -> None:
        """Write ``data`` at ``offset`` of the output (the end, or earlier for a patch)."""
        raise NotImplementedError

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        self._pending += data
        self._position += len(data)
        if len(self._pending) >= STREAM_CHUNK_BYTES:
            await self.flush()

    async def write_at(self, offset: int, data: bytes | bytearray | memoryview) -> None:
        if offset < 0 or offset + len(data) > self._position:
            raise ValueError(f"write_at({offset}, {len(data)} bytes) outside {self._position}")
        view = memoryview(data).cast("B")
        before = max(0, min(len(view), self._pending_start - offset))
        if before:
            await self.put(offset, view[:before])
        if before < len(view):
            start = offset + before - self._pending_start
            self._pending[start : start + len(view) - before] = view[before:]

    async def flush(self) -> None:
        """Hand on the buffered bytes."""
        if self._pending:
            await self.put(self._pending_start, self._pending)
            self._pending_start += len(self._pending)
            self._pending = bytearray()


def _chunk_index(starts: list[int], offset: int) -> int:
    """Index of the chunk holding ``offset`` (binary search over chunk starts)."""
    lo, hi = 0, len(starts) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if starts[mid] <= offset:
            lo = mid
        else:
            hi = mid - 1
    return lo
