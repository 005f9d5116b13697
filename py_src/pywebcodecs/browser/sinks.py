"""The browser-side outputs: a JS ``Blob`` in memory, or a file on disk (the Origin Private
File System, or a file the user picked). The terminal command's output over HTTP is
:mod:`.http_sink`.

Each is a :class:`~pywebcodecs.sink.StreamedSink`: writes gather in a Python buffer of a
few MiB and then move to JS in one call, so the output never sits whole in Python memory
and the number of JS calls stays small; the muxers' header patches are positioned writes.
Only :class:`BlobSink` keeps the output in the tab's memory; the others bound it to one
buffer whatever the output's size.
"""

from __future__ import annotations

import uuid
from typing import Any

import js
from pyodide.ffi import to_js

from ..errors import OptionError, PyWebCodecsError
from ..sink import Sink, StreamedSink, streams_output
from .interop import js_bytes, js_object


class BlobSink(StreamedSink):
    """The output as a list of JS ``Uint8Array`` chunks, one ``Blob`` at the end."""

    in_memory = True

    def __init__(self) -> None:
        super().__init__()
        self._chunks: list[Any] = []  # JS Uint8Arrays
        self._starts: list[int] = []
        self._end = 0

    async def put(self, offset: int, data: bytes | bytearray | memoryview) -> None:
        if offset == self._end:
            self._starts.append(offset)
            self._chunks.append(js_bytes(data))
            self._end += len(data)
            return
        view = memoryview(data).cast("B")
        while len(view):
            index = max(i for i, s in enumerate(self._starts) if s <= offset)
            chunk = self._chunks[index]
            start = offset - self._starts[index]
            take = min(int(chunk.length) - start, len(view))
            chunk.subarray(start, start + take).assign(view[:take])  # one copy, in place
            view = view[take:]
            offset += take

    async def complete(self) -> None:
        await self.flush()

    def save(self, mime_type: str) -> Any:
        """The whole output as a ``Blob``."""
        return js.Blob.new(to_js(self._chunks), js_object({"type": mime_type}))


class FileHandleSink(StreamedSink):
    """A ``FileSystemFileHandle``: in OPFS (``owned``: made for this output, removed by
    :meth:`remove`) or picked by the user. Inside a Worker an OPFS file is written through
    a ``FileSystemSyncAccessHandle`` (in place, at once); elsewhere through a
    ``FileSystemWritableFileStream``, whose positioned writes the browser applies to its
    swap file and moves into place on close."""

    def __init__(self, handle: Any, directory: Any = None) -> None:
        super().__init__()
        self.handle = handle
        self._directory = directory  # OPFS folder holding an owned file
        self._access: Any = None  # FileSystemSyncAccessHandle
        self._writable: Any = None  # FileSystemWritableFileStream
        self._file: Any = None

    @classmethod
    async def in_opfs(cls, extension: str) -> FileHandleSink:
        directory = await js.navigator.storage.getDirectory()
        name = f"pywebcodecs-{uuid.uuid4().hex}.{extension}"
        handle = await directory.getFileHandle(name, js_object({"create": True}))
        return cls(handle, directory)

    async def open(self) -> FileHandleSink:
        if self._directory is not None and hasattr(self.handle, "createSyncAccessHandle"):
            self._access = await self.handle.createSyncAccessHandle()
            self._access.truncate(0)
        else:
            self._writable = await self.handle.createWritable(
                js_object({"keepExistingData": False})
            )
        return self

    async def put(self, offset: int, data: bytes | bytearray | memoryview) -> None:
        if self._access is not None:
            self._access.write(js_bytes(data), js_object({"at": offset}))
        else:
            await self._writable.write(
                js_object({"type": "write", "position": offset, "data": js_bytes(data)})
            )

    async def complete(self) -> None:
        await self.flush()
        await self._close()
        self._file = await self.handle.getFile()

    async def abort(self) -> None:
        """The conversion failed: close, and remove a file made for it."""
        if self._writable is not None:
            await self._writable.abort()
            self._writable = None
        await self._close()
        await self.remove()

    async def remove(self) -> None:
        """Delete the OPFS file made for this output (a file the user picked stays)."""
        if self._directory is not None:
            await self._directory.removeEntry(self.handle.name)
            self._directory = None

    def save(self, mime_type: str) -> Any:
        """The output as a ``File`` backed by the disk, not memory."""
        if self._file is None:
            raise PyWebCodecsError("the output file is not complete")
        return self._file

    async def _close(self) -> None:
        if self._access is not None:
            self._access.flush()
            self._access.close()
            self._access = None
        if self._writable is not None:
            await self._writable.close()
            self._writable = None


async def open_sink(sink: Any, input_size: int, extension: str) -> Sink:
    """The sink ``convert_media``'s ``sink=`` asks for: None (memory, or OPFS for a large
    input), ``"memory"``, ``"opfs"``, a ``FileSystemFileHandle``, or a sink object."""
    if sink is None:
        memory = getattr(js.navigator, "deviceMemory", None)
        has_opfs = hasattr(getattr(js.navigator, "storage", None), "getDirectory")
        sink = "opfs" if has_opfs and streams_output(input_size, memory) else "memory"
    if sink == "memory":
        return BlobSink()
    if sink == "opfs":
        return await (await FileHandleSink.in_opfs(extension)).open()
    if hasattr(sink, "createWritable"):
        return await FileHandleSink(sink).open()
    if hasattr(sink, "write_at"):
        return sink
    raise OptionError(
        f"sink must be 'memory', 'opfs', a FileSystemFileHandle or a sink, got {sink!r}"
    )
