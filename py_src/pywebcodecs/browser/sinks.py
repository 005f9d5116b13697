"""The browser-side output: encoded bytes gathered into a JS ``Blob``.

Writes are buffered in Python up to 1 MiB and then moved into a JS ``Uint8Array``, so the
output does not sit whole in Python memory and the number of JS calls stays small. Small
header patches (``write_at``) land in the Python buffer or in the JS chunk that holds them.
"""

from __future__ import annotations

from typing import Any

import js
from pyodide.ffi import to_js

from .interop import js_bytes, js_object

FLUSH_SIZE = 1 << 20


class BlobSink:
    def __init__(self) -> None:
        self._chunks: list[Any] = []  # JS Uint8Arrays
        self._starts: list[int] = []
        self._pending = bytearray()
        self._pending_start = 0
        self._position = 0

    @property
    def position(self) -> int:
        return self._position

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        self._pending += data
        self._position += len(data)
        if len(self._pending) >= FLUSH_SIZE:
            self._flush()

    async def write_at(self, offset: int, data: bytes | bytearray | memoryview) -> None:
        if offset < 0 or offset + len(data) > self._position:
            raise ValueError(f"write_at({offset}, {len(data)} bytes) outside {self._position}")
        view = memoryview(data).cast("B")
        while len(view):
            if offset >= self._pending_start:
                start = offset - self._pending_start
                self._pending[start : start + len(view)] = view
                return
            index = max(i for i, s in enumerate(self._starts) if s <= offset)
            chunk = self._chunks[index]
            start = offset - self._starts[index]
            take = min(int(chunk.length) - start, len(view))
            chunk.set(js_bytes(view[:take]), start)
            view = view[take:]
            offset += take

    def save(self, mime_type: str) -> Any:
        """The whole output as a ``Blob``."""
        self._flush()
        return js.Blob.new(to_js(self._chunks), js_object({"type": mime_type}))

    def _flush(self) -> None:
        if self._pending:
            self._starts.append(self._pending_start)
            self._chunks.append(js_bytes(self._pending))
            self._pending_start += len(self._pending)
            self._pending = bytearray()
