"""Browser inputs as :class:`~pywebcodecs.source.Source`: ``File``/``Blob`` and URLs.

Both answer range reads without loading the file: a Blob is sliced, a URL is fetched with
a ``Range`` header. A server that ignores ranges is read once in full (and said so in the
error if that fails), since there is no other way to read it.
"""

from __future__ import annotations

from typing import Any

import js
from pyodide.ffi import JsProxy

from ..errors import FormatError, PyWebCodecsError
from ..source import Source
from .interop import js_object


class BlobSource:
    """A ``File`` or ``Blob``, read with ``blob.slice(a, b).arrayBuffer()``."""

    def __init__(self, blob: Any) -> None:
        self._blob = blob
        self._name = str(getattr(blob, "name", None) or "<blob>")

    @property
    def name(self) -> str:
        return self._name

    async def size(self) -> int | None:
        return int(self._blob.size)

    async def read(self, offset: int, size: int) -> bytes:
        buffer = await self._blob.slice(offset, offset + size).arrayBuffer()
        return bytes(buffer.to_py())


class UrlSource:
    """A URL read by HTTP range requests."""

    def __init__(self, url: str) -> None:
        self._url = str(js.URL.new(url, js.globalThis.location.href).href)
        self._size: int | None = None
        self._whole: bytes | None = None

    @property
    def name(self) -> str:
        path = str(js.URL.new(self._url).pathname)
        return str(js.decodeURIComponent(path.rsplit("/", 1)[-1])) or self._url

    async def size(self) -> int | None:
        if self._size is None:
            await self.read(0, 1)
        return self._size

    async def read(self, offset: int, size: int) -> bytes:
        if self._whole is not None:
            return self._whole[offset : offset + size]
        init = js_object({"headers": {"Range": f"bytes={offset}-{offset + size - 1}"}})
        try:
            response = await js.fetch(self._url, init)
        except Exception as exc:
            raise PyWebCodecsError(f"{self._url}: network error: {exc}") from exc
        if response.status == 416:
            return b""
        if not response.ok:
            raise FormatError(f"HTTP {response.status} {response.statusText}", source=self._url)
        data = bytes((await response.arrayBuffer()).to_py())
        if response.status == 206:
            total = str(response.headers.get("Content-Range") or "").rsplit("/", 1)[-1]
            if total.isdigit():
                self._size = int(total)
            return data
        # The server sent the whole file: keep it, it is all we will get.
        self._whole = data
        self._size = len(data)
        return data[offset : offset + size]

    def open_relative(self, reference: str) -> UrlSource:
        return UrlSource(str(js.URL.new(reference, self._url).href))


def open_browser_source(src: Any) -> Source:
    if isinstance(src, str):
        return UrlSource(src)
    if isinstance(src, JsProxy):
        if getattr(src, "slice", None) is not None and getattr(src, "size", None) is not None:
            return BlobSource(src)
        if str(getattr(src, "constructor", None) and src.constructor.name) == "URL":
            return UrlSource(str(src.href))
    raise TypeError(f"cannot read from {src!r}: pass a File, Blob, URL string, bytes or a Source")
