"""The browser-side outputs: a JS ``Blob`` in memory, or a file on disk (the Origin Private
File System, or a file the user picked). The terminal command's output over HTTP is
:mod:`.http_sink`.

Each is a :class:`~pywebcodecs.sink.StreamedSink`: writes gather in a Python buffer of a
few MiB and then move to JS in one call, so the output never sits whole in Python memory
and the number of JS calls stays small; the muxers' header patches are positioned writes.
Only :class:`BlobSink` keeps the output in the tab's memory; the others bound it to one
buffer whatever the output's size.

A disk output can run out of room: the browser's quota for the origin (small in an
off-the-record window, where OPFS lives in memory). Chromium does not always say so: a
``FileSystemSyncAccessHandle`` write past the quota returns a byte count it did not write
instead of raising, and a ``FileSystemWritableFileStream`` write called from Pyodide is
left unanswered for good (called from plain JS it is refused). So each write's count is
checked and each stream write has :data:`WRITE_STALL_SECONDS` to answer; either failure
ends the conversion with :class:`.StorageFullError` naming the output, and the partial
file is removed.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import js
from pyodide.ffi import JsException, to_js

from ..errors import OptionError, PyWebCodecsError, StorageFullError
from ..sink import Sink, StreamedSink, streams_output
from .interop import js_bytes, js_object

#: How long a write to a ``FileSystemWritableFileStream`` may go unanswered before the
#: output is given up as out of room. A healthy 4 MiB write answers in milliseconds (tens
#: on a loaded machine); Chromium leaves a write past the quota unanswered for ever.
WRITE_STALL_SECONDS = 20.0

#: The OPFS files this engine made and has not removed yet, by name: what
#: :func:`remove_output` may delete (the Worker's ``remove`` message).
_OWNED: dict[str, FileHandleSink] = {}


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
        _OWNED[name] = sink = cls(handle, directory)
        return sink

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
            written = self._access.write(js_bytes(data), js_object({"at": offset}))
            if written != len(data):
                raise await self._full(f"the browser wrote {written} of {len(data)} bytes")
            return
        chunk = js_object({"type": "write", "position": offset, "data": js_bytes(data)})
        await self._answered(self._writable.write(chunk))

    async def _answered(self, step: Any) -> None:
        """Await a writable stream's ``step`` (a JS promise), which must answer within
        :data:`WRITE_STALL_SECONDS`; a refusal becomes an error naming the output."""
        try:
            await asyncio.wait_for(step, WRITE_STALL_SECONDS)
        except TimeoutError:
            cause = f"a write left unanswered for {WRITE_STALL_SECONDS:.0f} s"
            raise await self._full(cause) from None
        except JsException as exc:
            if exc.name != "QuotaExceededError":
                name = self.handle.name
                raise PyWebCodecsError(f"could not write the output {name}: {exc}") from exc
            raise await self._full(f"{exc.name}: {exc.message}") from None

    async def _full(self, cause: str) -> StorageFullError:
        """The error for an output that ran out of room after the bytes handed on so far.
        The quota is the browser's estimate (which a DevTools override does not change)."""
        estimate = await js.navigator.storage.estimate()
        written = self._pending_start
        return StorageFullError(
            f"not enough room in the browser's storage for the output {self.handle.name}: "
            f"{written / 1e6:.1f} MB written, quota {estimate.quota / 1e6:.1f} MB ({cause})"
        )

    async def complete(self) -> None:
        await self.flush()
        await self._close()
        self._file = await self.handle.getFile()

    async def abort(self) -> None:
        """The conversion failed: close, and remove a file made for it. Nothing here may
        raise over the conversion's own error, nor wait on a write that never answers."""
        writable, access = self._writable, self._access
        self._writable = self._access = None
        try:
            if writable is not None:
                await asyncio.wait_for(writable.abort(), WRITE_STALL_SECONDS)
            if access is not None:
                access.close()
        except (JsException, TimeoutError):
            pass  # the browser already gave up on the file; removing it is what is left
        await self.remove()

    async def remove(self) -> None:
        """Delete the OPFS file made for this output (a file the user picked stays)."""
        if self._directory is not None:
            _OWNED.pop(self.handle.name, None)
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
            await self._answered(self._writable.close())  # the browser commits it here
            self._writable = None


async def remove_output(file: Any) -> bool:
    """Delete ``file`` (a conversion's ``File``) if it is an OPFS file this engine made and
    has not removed yet; whether it did. A file the user picked is never one of them."""
    sink = _OWNED.get(str(getattr(file, "name", "")))
    if sink is None:
        return False
    await sink.remove()
    return True


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
