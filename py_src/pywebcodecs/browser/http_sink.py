"""The terminal command's output: the page hands the bytes back to the host process over
loopback HTTP as they are written (see :mod:`pywebcodecs_host.site_server`), so neither
the tab nor the host holds the whole output."""

from __future__ import annotations

import js

from ..errors import PyWebCodecsError
from ..sink import StreamedSink
from .interop import js_bytes, js_object


class HttpRangeSink(StreamedSink):
    """The terminal command's output: each chunk is ``PUT`` to the host with a
    ``Content-Range`` naming its offset, and the host writes it into the file there."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url

    async def put(self, offset: int, data: bytes | bytearray | memoryview) -> None:
        last = offset + len(data) - 1
        headers = {"Content-Range": f"bytes {offset}-{last}/*"}
        init = js_object({"method": "PUT", "body": js_bytes(data), "headers": headers})
        response = await js.fetch(self.url, init)
        if not response.ok:
            raise PyWebCodecsError(f"could not hand the output back: HTTP {response.status}")

    async def complete(self) -> None:
        await self.flush()
