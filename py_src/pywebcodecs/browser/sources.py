"""Browser inputs as :class:`~pywebcodecs.source.Source`: ``File``/``Blob`` and URLs.

Both answer range reads without loading the file: a Blob is sliced, a URL is fetched with
a ``Range`` header. A server that ignores ranges is read once in full (and said so in the
error if that fails), since there is no other way to read it.
"""

from __future__ import annotations

from typing import Any

import js
from pyodide.code import run_js
from pyodide.ffi import JsException, JsProxy

from ..errors import FormatError, PyWebCodecsError
from ..source import Source
from .interop import js_object


class BlobSource:
    """A ``File`` or ``Blob``, read with ``blob.slice(a, b).arrayBuffer()``."""

    #: Each read is a trip to the browser's blob store, which cost a 7 MB remux more than
    #: its demuxing and muxing together at the reader's 1 MiB; the window is only this.
    read_window = 8 << 20

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
        return buffer.to_bytes()  # one copy (``bytes(buffer.to_py())`` made two)


#: A URL is read as a stream over ranges of this size, one request each: a request per
#: window (1 MiB) costs the tab its response's buffers until V8 collects them, which took
#: a 264 MB copy from 250 to 550 MiB, where streaming the same bytes added nothing.
STREAM_SPAN_BYTES = 32 << 20
#: A read this far ahead of the stream is reached by reading on, not by a new request.
SKIP_BYTES = 1 << 20
#: The one JS buffer every streamed read lands in before its copy into Python.
READ_BUFFER_BYTES = 1 << 20


_body_state = run_js("(reader, byob, buffer) => ({reader, byob, buffer, left: null})")
# Reads up to `size` bytes of a body into its buffer: a BYOB reader fills it in place (each
# read hands the buffer back), a default reader's chunks are copied and their rest kept.
_fill = run_js("""async (s, size) => {
  let got = 0;
  while (got < size) {
    if (s.left) {
      const n = Math.min(s.left.length, size - got);
      new Uint8Array(s.buffer, got, n).set(s.left.subarray(0, n));
      s.left = n < s.left.length ? s.left.subarray(n) : null;
      got += n;
      continue;
    }
    const { done, value } = s.byob
      ? await s.reader.read(new Uint8Array(s.buffer, got, size - got))
      : await s.reader.read();
    if (s.byob && value) s.buffer = value.buffer;
    if (done) break;
    if (s.byob) got += value.byteLength;
    else s.left = value;
  }
  return new Uint8Array(s.buffer, 0, got);
}""")


class UrlSource:
    """A URL read by HTTP range requests, streamed: a read continues the open response
    when it starts where the last one ended (or a little after), which is how demuxers
    walk a file, and starts a new ``Range`` request otherwise."""

    def __init__(self, url: str) -> None:
        self._url = str(js.URL.new(url, js.globalThis.location.href).href)
        self._size: int | None = None
        self._whole: bytes | None = None
        self._body: Any = None  # the open response body's reader and buffer (_body_state)
        self._position = 0  # the file offset of the open body's next byte

    @property
    def name(self) -> str:
        path = str(js.URL.new(self._url).pathname)
        return str(js.decodeURIComponent(path.rsplit("/", 1)[-1])) or self._url

    async def size(self) -> int | None:
        if self._size is None:
            await self.read(0, 1)
        return self._size

    async def read(self, offset: int, size: int) -> bytes:
        if self._whole is None and self._body is not None:
            gap = offset - self._position
            if 0 < gap <= SKIP_BYTES:
                await self.read(self._position, gap)
        pieces: list[bytes] = []
        got = 0
        while got < size and self._whole is None:
            opened = self._body is None or self._position != offset + got
            if opened and (not await self._open(offset + got) or self._whole is not None):
                break
            chunk = await self._chunk(size - got)
            if chunk is None:  # the end of this range: the next one is a new request
                self._body = None
                if opened:  # an empty range: the file ends here
                    break
                continue
            pieces.append(chunk.to_bytes())  # one copy out of JS, none more for one piece
            got += len(pieces[-1])
            self._position += len(pieces[-1])
        if self._whole is not None:
            return self._whole[offset : offset + size]
        return pieces[0] if len(pieces) == 1 else b"".join(pieces)

    async def _open(self, offset: int) -> bool:
        """Start a request at ``offset``; False when the file ends before it."""
        buffer = None
        if self._body is not None:
            await self._body.reader.cancel()
            buffer, self._body = self._body.buffer, None
        if self._size is not None and offset >= self._size:
            return False
        last = offset + STREAM_SPAN_BYTES - 1
        init = js_object({"headers": {"Range": f"bytes={offset}-{last}"}})
        try:
            response = await js.fetch(self._url, init)
        except Exception as exc:
            raise PyWebCodecsError(f"{self._url}: network error: {exc}") from exc
        if response.status == 416:
            return False
        if not response.ok:
            raise FormatError(f"HTTP {response.status} {response.statusText}", source=self._url)
        if response.status != 206:
            # The server sent the whole file: keep it, it is all we will get.
            self._whole = (await response.arrayBuffer()).to_bytes()
            self._size = len(self._whole)
            return True
        total = str(response.headers.get("Content-Range") or "").rsplit("/", 1)[-1]
        if total.isdigit():
            self._size = int(total)
        try:
            reader, byob = response.body.getReader(js_object({"mode": "byob"})), True
        except JsException:  # a body that is not a byte stream
            reader, byob = response.body.getReader(), False
        buffer = buffer or js.ArrayBuffer.new(READ_BUFFER_BYTES)
        self._body = _body_state(reader, byob, buffer)
        self._position = offset
        return True

    async def _chunk(self, most: int) -> Any:
        """The open body's next bytes (a ``Uint8Array`` of at most ``most`` in the reused
        buffer), or None at its end: one call to JS however many pieces the network
        delivered them in, so that a read makes no garbage per piece."""
        try:
            view = await _fill(self._body, min(most, READ_BUFFER_BYTES))
        except JsException as exc:
            raise PyWebCodecsError(f"{self._url}: network error: {exc}") from exc
        return view if view.byteLength else None

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
