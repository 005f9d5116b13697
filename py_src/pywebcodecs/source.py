"""Where input bytes come from.

A :class:`Source` answers range reads (``read(offset, size)``) and nothing else, so the
same demuxers work on a local file in CPython, on bytes, and on a browser ``File``/``Blob``
or URL (see :mod:`pywebcodecs.browser.sources`). No source ever loads a whole file.
"""

from __future__ import annotations

import os
from typing import Protocol, runtime_checkable


@runtime_checkable
class Source(Protocol):
    """Random-access bytes of one file."""

    @property
    def name(self) -> str:
        """A human name for error messages (file name or URL)."""
        ...

    async def size(self) -> int | None:
        """Total size in bytes, or None when unknown (a live stream)."""
        ...

    async def read(self, offset: int, size: int) -> bytes:
        """Up to ``size`` bytes starting at ``offset``; fewer only at the end of the file."""
        ...


class RelativeSource(Source, Protocol):
    """A source that can open other resources next to itself (HLS segments, playlists)."""

    def open_relative(self, reference: str) -> Source:
        """The source named by ``reference``, resolved against this source's location."""
        ...


class BytesSource:
    """A source over bytes already in memory (tests, small inputs)."""

    def __init__(self, data: bytes | bytearray | memoryview, name: str = "<bytes>") -> None:
        self._data = memoryview(data).cast("B")
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    async def size(self) -> int | None:
        return len(self._data)

    async def read(self, offset: int, size: int) -> bytes:
        return bytes(self._data[offset : offset + size])


class FileSource:
    """A local file, read with ``pread`` (CPython terminal commands and tests)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = os.fspath(path)
        self._fd = os.open(self._path, os.O_RDONLY)
        self._size = os.fstat(self._fd).st_size

    @property
    def name(self) -> str:
        return os.path.basename(self._path)

    @property
    def path(self) -> str:
        return self._path

    async def size(self) -> int | None:
        return self._size

    async def read(self, offset: int, size: int) -> bytes:
        return os.pread(self._fd, size, offset)

    def open_relative(self, reference: str) -> FileSource:
        return FileSource(os.path.join(os.path.dirname(self._path), reference))

    def close(self) -> None:
        os.close(self._fd)

    def __enter__(self) -> FileSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
