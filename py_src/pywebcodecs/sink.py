"""Where output bytes go.

Muxers write forward with :meth:`Sink.write` and patch small, already written headers
(sizes, durations, seek tables) with :meth:`Sink.write_at`. That is all a muxer may ask
for, so the same muxer writes to a file, to memory, or to a browser-side chunk list.
"""

from __future__ import annotations

import os
from typing import Protocol


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
