"""The terminal command's output: the page hands the bytes back to the host process over
loopback HTTP as they are written (see :mod:`pywebcodecs_host.site_server`), so neither
the tab nor the host holds the whole output.

Why the PUTs are made as they are, each measured in headless Chromium driven by
Playwright (which enables the DevTools network domain on every page and worker):

- a body is a ``Blob``, never a ``Uint8Array``: Chromium copies a byte-array body into
  the DevTools ``requestWillBeSent`` event as base64, so the whole output went down the
  automation pipe a second time; a 4 MiB PUT took 0.7-1.7 s that way, 30-50 ms as a Blob;
- the Blobs are made in a worker that is replaced every :data:`WORKER_BYTES`: a Blob's
  bytes stay in the browser's blob store until its wrapper is garbage collected, and a
  busy page collects rarely, so after ~500 MiB of PUTs the store refused new Blobs
  (``ERR_BLOB_OUT_OF_MEMORY``). A worker's wrappers all go when it is terminated;
- several PUTs are in flight, so that the conversion goes on while the host writes.
"""

from __future__ import annotations

from typing import Any

from pyodide.code import run_js

from ..errors import PyWebCodecsError
from ..sink import StreamedSink

#: PUTs in flight at once: each holds one chunk, so this bounds the sink's memory.
MAX_IN_FLIGHT = 4
#: Bytes one upload worker PUTs before it is replaced (and terminated once they landed).
WORKER_BYTES = 64 << 20

# The uploader: `put(url, data, first, last)` copies the Python bytes out of Pyodide's
# memory before it returns (so the caller may reuse them) and resolves to null, or to what
# went wrong; it never rejects, so that a PUT nobody awaits any more (the conversion
# failed elsewhere) is no unhandled rejection.
_Uploader = run_js("""(() => {
  const source = `onmessage = async ({ data: { id, url, buffer, first, last } }) => {
    let error = null;
    try {
      const headers = { "Content-Range": "bytes " + first + "-" + last + "/*" };
      const response = await fetch(url, { method: "PUT", body: new Blob([buffer]), headers });
      if (!response.ok) error = "HTTP " + response.status + " " + (await response.text());
    } catch (e) {
      error = String(e);
    }
    postMessage({ id, error });
  };`;
  const workerUrl = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
  return class Uploader {
    constructor(workerBytes) {
      this.workerBytes = workerBytes;
      this.worker = null;
      this.nextId = 0;
    }
    put(url, data, first, last) {
      const view = data.getBuffer("u8");
      let buffer;
      try { buffer = view.data.slice().buffer; } finally { view.release(); }
      if (!this.worker || this.worker.sent >= this.workerBytes) this.replaceWorker();
      const worker = this.worker;
      worker.sent += buffer.byteLength;
      worker.pending += 1;
      const id = this.nextId++;
      return new Promise((resolve) => {
        worker.answers.set(id, resolve);
        worker.handle.postMessage({ id, url, buffer, first, last }, [buffer]);
      });
    }
    replaceWorker() {
      if (this.worker) this.retire(this.worker);
      const worker = { handle: new Worker(workerUrl), sent: 0, pending: 0, answers: new Map(),
                       retired: false };
      worker.handle.onmessage = ({ data: { id, error } }) => {
        worker.answers.get(id)(error);
        worker.answers.delete(id);
        worker.pending -= 1;
        if (worker.retired && !worker.pending) worker.handle.terminate();
      };
      worker.handle.onerror = (event) => {
        for (const answer of worker.answers.values()) answer(`upload worker: ${event.message}`);
        worker.answers.clear();
      };
      this.worker = worker;
    }
    retire(worker) {
      worker.retired = true;
      if (!worker.pending) worker.handle.terminate();
    }
    close() {
      if (this.worker) this.retire(this.worker);
      this.worker = null;
    }
  };
})()""")


class HttpRangeSink(StreamedSink):
    """The terminal command's output: each chunk is ``PUT`` to the host with a
    ``Content-Range`` naming its offset, and the host writes it into the file there.

    Up to :data:`MAX_IN_FLIGHT` PUTs run at once. Order does not matter, as each carries
    its offset, except for a patch of bytes still in flight: it waits for their PUT, so
    that it lands after them."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self._uploader = _Uploader.new(WORKER_BYTES)
        self._in_flight: list[tuple[int, int, Any]] = []  # first, end, promise

    async def put(self, offset: int, data: bytes | bytearray | memoryview) -> None:
        end = offset + len(data)
        for entry in [e for e in self._in_flight if e[0] < end and offset < e[1]]:
            await self._settle(entry)
        while len(self._in_flight) >= MAX_IN_FLIGHT:
            await self._settle(self._in_flight[0])
        promise = self._uploader.put(self.url, data, offset, end - 1)
        self._in_flight.append((offset, end, promise))

    async def complete(self) -> None:
        await self.flush()
        while self._in_flight:
            await self._settle(self._in_flight[0])
        self._uploader.close()

    async def abort(self) -> None:
        """The conversion failed: PUTs still in flight finish unheard (the host removes
        the partial output) and the upload worker goes."""
        self._in_flight.clear()
        self._uploader.close()

    async def _settle(self, entry: tuple[int, int, Any]) -> None:
        """Wait for one PUT; its failure fails the conversion (the host removes the
        partial output), so that the output is never silently short."""
        self._in_flight.remove(entry)
        first, end, promise = entry
        error = await promise
        if isinstance(error, str):
            raise PyWebCodecsError(
                f"could not write bytes {first}-{end - 1} of the output back to the host: {error}"
            )
