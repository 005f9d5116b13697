"""What a video and an audio re-encoding session share: WebCodecs error capture, waiting
for room in the codecs' queues, flushing, closing, and handing encoder output to the
interleaver.

Backpressure: before each ``decode`` the session waits, on the codecs' ``dequeue``
events, until both queues are short. Waiting on events (not polling with
``asyncio.sleep``) is what keeps Python as fast as a plain JS loop: each poll would cost
a clamped browser timer. The events are heard in JS (:data:`_room_gate`), and only while
a queue is full: Python is called once per wait, when there is room, not at each of the
~4 dequeue events per packet. A codec error wakes the waiter too, and a codec that stops
answering for ``STALL_SECONDS`` is reported, so a conversion never hangs: one watchdog
timer per stall period checks that, not a timer per wait (each would be a browser timer
and a callback proxy: ~1000 for 20 s of 720p).
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Callable
from typing import Any, ClassVar

import js
from pyodide.code import run_js
from pyodide.ffi import JsException, JsProxy, create_proxy, to_js

from ...errors import CodecError
from ...interleave import Interleaver
from ...plan import TrackPlan
from ...track import MICROSECONDS, Packet, Track
from ..interop import js_error_message, js_object

MAX_QUEUE = 8
STALL_SECONDS = 30.0
#: Chunk data handed to a decoder between two reports to V8 (see CodecSession.push).
UNSEEN_BYTES = 8 << 20
#: What each report tells V8: its external-memory step (64 MiB over the level at its last
#: collection), so that each report starts a collection or, during one, advances it.
REPORT_BYTES = 64 << 20


#: ``gate = _room_gate(decoder, encoder or None, limit, resume, wake, make_chunk)``:
#: ``gate.ready()`` is true when both queues hold at most ``limit``; else it is false and
#: ``wake()`` is called once both hold at most ``resume`` (``limit`` or less: a lower mark
#: lets each wait pass many packets). ``gate.decode(type, timestamp, duration, data)``
#: makes the chunk and decodes it in one bridge call (it never becomes a Python object);
#: ``gate.decodeIfReady(...)`` does so only if ``ready()``, and says whether it did: the
#: usual packet costs one call, not two. ``gate.cancel()`` stops listening. The encoder is
#: None (``undefined`` in JS) when it is not a JS codec (PCM's stand-in never queues).
_room_gate = run_js("""(decoder, encoder, limit, resume, wake, make) => {
  let listening = null;
  const over = (mark) => decoder.decodeQueueSize > mark
    || (encoder != null && encoder.encodeQueueSize > mark);
  const cancel = () => { listening?.abort(); listening = null; };
  const check = () => { if (!over(resume)) { cancel(); wake(); } };
  const ready = () => {
    if (!over(limit)) return true;
    if (listening === null) {
      listening = new AbortController();
      decoder.addEventListener("dequeue", check, { signal: listening.signal });
      encoder?.addEventListener("dequeue", check, { signal: listening.signal });
    }
    return false;
  };
  const decode = (type, timestamp, duration, data) =>
    decoder.decode(make(type, timestamp, duration, data));
  const decodeIfReady = (type, timestamp, duration, data) => {
    if (!ready()) return false;
    decode(type, timestamp, duration, data);
    return true;
  };
  return { ready, cancel, decode, decodeIfReady };
}""")
#: ``_packing.pack(chunk)``: an encoder's output chunk as one ``Uint8Array``, its data
#: followed by :data:`_CHUNK_TRAILER` (timestamp, duration, key). Reading the chunk from
#: Python took ~8 bridge calls (a new array, copyTo, to_bytes, three attributes...);
#: packed, it is one call here and one ``to_bytes``. ``_packing.output(callback)``: an
#: encoder ``output`` callback that calls ``callback(packed, decoderConfig or undefined)``,
#: so that neither the chunk nor its metadata becomes a Python proxy.
_packing = run_js("""(() => {
  const pack = (chunk) => {
    const size = chunk.byteLength;
    const packed = new Uint8Array(size + 17);
    chunk.copyTo(packed);
    const trailer = new DataView(packed.buffer, size);
    trailer.setFloat64(0, chunk.timestamp, true);
    trailer.setFloat64(8, chunk.duration ?? 0, true);
    packed[size + 16] = chunk.type === "key" ? 1 : 0;
    return packed;
  };
  return { pack, output: (callback) => (chunk, metadata) =>
    callback(pack(chunk), metadata?.decoderConfig) };
})()""")
#: An encoder ``output`` callback for Python's ``callback(packed, decoderConfig or None)``.
packed_output = _packing.output
#: What follows a packed chunk's data: timestamp and duration (µs, float64), key (a byte).
_CHUNK_TRAILER = struct.Struct("<ddB")


#: Tells V8 that ``bytes`` more memory is in use outside its heap: an ``ArrayBuffer`` of
#: that size, never touched (its pages are never made resident), dropped at once. V8 counts
#: its size as external memory, and past a limit (64 MiB over the level at its last
#: collection) it starts an incremental collection, which each later report while it runs
#: pushes on; the collection frees the chunks V8 could not see.
_report_unseen = run_js("(bytes) => new ArrayBuffer(bytes).byteLength")


def to_us(value: int, timescale: int) -> int:
    """A time in ``timescale`` units as WebCodecs' whole microseconds."""
    return round(value * MICROSECONDS / timescale)


class CodecSession:
    """One track's decoder → encoder pair, fed packet by packet from the pipeline."""

    decoder: Any
    encoder: Any
    #: Builds the Encoded{Video,Audio}Chunk for the decoder.
    make_chunk: ClassVar[Any]
    #: Audio packets are all key frames, whatever the container flags say.
    all_key: ClassVar[bool] = False
    max_queue: ClassVar[int] = MAX_QUEUE
    #: A full queue is waited on until it holds at most this (None: ``max_queue``).
    resume_queue: ClassVar[int | None] = None

    def __init__(self, plan: TrackPlan, interleaver: Interleaver, index: int) -> None:
        self.plan = plan
        self.interleaver = interleaver
        self.index = index
        self.output_track: Track | None = None
        self._error: Exception | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._waiting_since = 0.0
        self._watchdog: asyncio.TimerHandle | None = None
        self._gate: Any = None
        self._decode_if_ready: Any = None
        self._decode: Any = None
        self._proxies: list[Any] = []
        self._seen_key = False
        self._unseen = 0

    async def start(self) -> None:
        """Check the configs with the browser, then create and configure both codecs."""
        raise NotImplementedError

    def _proxy(self, function: Callable[..., Any]) -> Any:
        proxy = create_proxy(function)
        self._proxies.append(proxy)
        return proxy

    def _callbacks(self, output: Callable[..., Any], what: str, wrap: Any = None) -> Any:
        """A codec's ``{output, error}``; ``wrap`` (a JS function) may adapt the output
        callback, to hand Python plain values instead of proxies."""

        def on_error(error: Any) -> None:
            self._fail(CodecError(f"{what} failed: {js_error_message(error)}"))

        on_output = self._proxy(output)
        if wrap is not None:
            on_output = wrap(on_output)
        return js_object({"output": on_output, "error": self._proxy(on_error)})

    def _fail(self, error: Exception) -> None:
        if self._error is None:
            self._error = error
        self._wake()

    def _wake(self, _event: Any = None) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _listen_dequeue(self) -> None:
        """Once both codecs exist: the room gate on their queues and the decode call."""
        encoder = self.encoder if isinstance(self.encoder, JsProxy) else None
        resume = self.max_queue if self.resume_queue is None else self.resume_queue
        wake = self._proxy(self._wake)
        self._gate = _room_gate(
            self.decoder, encoder, self.max_queue, resume, wake, self.make_chunk
        )
        self._decode_if_ready = self._gate.decodeIfReady
        self._decode = self._gate.decode

    def _check(self) -> None:
        if self._error is not None:
            raise self._error

    async def _wait_for_room(self) -> None:
        """Until the gate wakes us (room), a codec fails, or the watchdog gives up."""
        self._check()
        loop = asyncio.get_running_loop()
        self._waiter = loop.create_future()
        self._waiting_since = loop.time()
        if self._watchdog is None:
            self._watchdog = loop.call_later(STALL_SECONDS, self._watch)
        await self._waiter
        self._waiter = None

    def _watch(self) -> None:
        """The watchdog: a wait that has lasted ``STALL_SECONDS`` fails the session; one
        still shorter is checked again when it would reach it; none: disarmed until the
        next wait."""
        self._watchdog = None
        if self._waiter is None or self._waiter.done():
            return
        loop = asyncio.get_running_loop()
        left = self._waiting_since + STALL_SECONDS - loop.time()
        if left > 0:
            self._watchdog = loop.call_later(left, self._watch)
            return
        self._fail(
            CodecError(
                f"{self.plan.track.codec} track {self.plan.track.id}: the browser's codecs "
                f"made no progress for {STALL_SECONDS:g} s"
            )
        )

    async def push(self, packet: Packet) -> None:
        """Decode one packet once the codecs have room (decoders start at a key frame:
        packets before the first one are skipped).

        The chunk is made with ``transfer`` of a fresh copy of the bytes: a chunk that
        copies its data holds that copy until V8 collects the chunk. Either way V8 does
        not count the chunk's data (it sees a small object) and collects spent chunks
        late: in a 1 GB 100 Mb/s re-encode to 160x90 up to 550 MB of chunks awaited
        collection (counted with a FinalizationRegistry), the renderer peaking at 633-852
        MiB. So every :data:`UNSEEN_BYTES` of chunk data V8 is told :data:`REPORT_BYTES`
        (:data:`_report_unseen`). Reporting what was handed over (64 MiB per 64 MiB) left
        up to 190 MB waiting: the collection it starts runs in small steps beside the
        codecs, and reporting 64 MiB every 8 MiB pushes it on, leaving at most 80-120 MB.
        bench_memory (load 7-13): 1 GB peak 397-461 -> 333-359 MiB, 264 MB 386-451 ->
        315-354 (240-270 when collecting every 100 ms)."""
        is_key = packet.is_key or self.all_key
        self._seen_key = self._seen_key or is_key
        if not self._seen_key:
            return
        self._check()
        timescale = self.plan.track.timescale
        timestamp = to_us(packet.pts, timescale)
        duration = to_us(packet.duration, timescale)
        kind = "key" if is_key else "delta"
        # to_js copies the bytes into a new Uint8Array in one bridge call (js_bytes: two).
        data = to_js(packet.data)
        # No output can come between the decode and _decoding: outputs are later tasks.
        if not self._decode_if_ready(kind, timestamp, duration, data):
            await self._wait_for_room()
            self._check()
            self._decode(kind, timestamp, duration, data)
        self._decoding(timestamp, duration)
        self._unseen += len(packet.data)
        if self._unseen >= UNSEEN_BYTES:
            _report_unseen(REPORT_BYTES)
            self._unseen = 0

    def _decoding(self, timestamp: int, duration: int) -> None:
        """Called with each chunk's timestamp and duration once it went to the decoder."""

    async def flush(self) -> None:
        try:
            await self.decoder.flush()
            self._check()
            await self._decoded_all()
            self._check()
            await self.encoder.flush()
        except JsException as exc:
            self._check()
            raise CodecError(f"flushing {self.plan.track.codec}: {js_error_message(exc)}") from exc
        self._check()
        self._flushed()
        self.interleaver.finish_track(self.index)

    async def _decoded_all(self) -> None:
        """Called once the decoder has given its last output, before the encoder flushes."""

    def _flushed(self) -> None:
        """Called once the encoder has given its last output."""

    def close(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        if self._gate is not None:
            # Events already queued (dequeue) may still be dispatched after close():
            # stop listening before the wake proxy is destroyed.
            self._gate.cancel()
        for codec in (getattr(self, "decoder", None), getattr(self, "encoder", None)):
            if codec is not None and codec.state != "closed":
                codec.close()
        for proxy in self._proxies:
            proxy.destroy()
        self._proxies.clear()

    def _emit(self, chunk: Any, make_track: Callable[[], Track]) -> None:
        """An encoder output chunk: its bytes copied into Python, queued as a packet."""
        self._emit_packed(_packing.pack(chunk), make_track)

    def _emit_packed(self, packed: Any, make_track: Callable[[], Track]) -> None:
        """An encoder output as :data:`_packing` packs it, queued as a packet."""
        raw = packed.to_bytes()
        end = len(raw) - _CHUNK_TRAILER.size
        timestamp, duration, key = _CHUNK_TRAILER.unpack_from(raw, end)
        self._queue(raw[:end], int(timestamp), int(duration), key == 1, make_track)

    def _queue(self, data: bytes, timestamp: int, duration: int, is_key: bool,
               make_track: Callable[[], Track]) -> None:  # fmt: skip
        if self.output_track is None:
            self.output_track = make_track()
            self.interleaver.set_track(self.index, self.output_track)
        self._deliver(Packet(self.index, timestamp, timestamp, duration, is_key, data))

    def _deliver(self, packet: Packet) -> None:
        self.interleaver.push(self.index, packet)


def output_decoder_config(metadata: Any) -> Any:
    """The ``decoderConfig`` an encoder attached to its output, or None."""
    return getattr(metadata, "decoderConfig", None) if metadata is not None else None


def description_bytes(config: Any) -> bytes | None:
    """An output ``decoderConfig``'s ``description`` (avcC, …) as bytes, or None."""
    description = getattr(config, "description", None) if config is not None else None
    if description is None:
        return None
    return js.Uint8Array.new(description).to_bytes()
