"""What a video and an audio re-encoding session share: WebCodecs error capture, waiting
for room in the codecs' queues, flushing, closing, and handing encoder output to the
interleaver.

Backpressure: before each ``decode`` the session waits, on the codecs' ``dequeue``
events, until both queues are short. Waiting on events (not polling with
``asyncio.sleep``) is what keeps Python as fast as a plain JS loop: each poll would cost
a clamped browser timer. A codec error wakes the waiter too, and a codec that stops
answering for ``STALL_SECONDS`` is reported, so a conversion never hangs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, ClassVar

import js
from pyodide.ffi import JsException, create_proxy

from ...errors import CodecError
from ...interleave import Interleaver
from ...plan import TrackPlan
from ...track import MICROSECONDS, Packet, Track
from ..interop import js_bytes, js_error_message, js_object

MAX_QUEUE = 8
STALL_SECONDS = 30.0


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

    def __init__(self, plan: TrackPlan, interleaver: Interleaver, index: int) -> None:
        self.plan = plan
        self.interleaver = interleaver
        self.index = index
        self.output_track: Track | None = None
        self._error: Exception | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._proxies: list[Any] = []
        self._seen_key = False

    async def start(self) -> None:
        """Check the configs with the browser, then create and configure both codecs."""
        raise NotImplementedError

    def _proxy(self, function: Callable[..., Any]) -> Any:
        proxy = create_proxy(function)
        self._proxies.append(proxy)
        return proxy

    def _callbacks(self, output: Callable[..., Any], what: str) -> Any:
        def on_error(error: Any) -> None:
            self._fail(CodecError(f"{what} failed: {js_error_message(error)}"))

        return js_object({"output": self._proxy(output), "error": self._proxy(on_error)})

    def _fail(self, error: Exception) -> None:
        if self._error is None:
            self._error = error
        self._wake()

    def _wake(self, _event: Any = None) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _listen_dequeue(self) -> None:
        wake = self._proxy(self._wake)
        self.decoder.ondequeue = wake
        self.encoder.ondequeue = wake

    def _check(self) -> None:
        if self._error is not None:
            raise self._error

    async def _wait_for_room(self) -> None:
        limit = self.max_queue
        while self.decoder.decodeQueueSize > limit or self._encode_queue() > limit:
            self._check()
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await asyncio.wait_for(self._waiter, STALL_SECONDS)
            except TimeoutError:
                raise CodecError(
                    f"{self.plan.track.codec} track {self.plan.track.id}: the browser's codecs "
                    f"made no progress for {STALL_SECONDS:.0f} s"
                ) from None
        self._check()

    def _encode_queue(self) -> int:
        return int(self.encoder.encodeQueueSize)

    async def push(self, packet: Packet) -> None:
        """Decode one packet once the codecs have room (decoders start at a key frame:
        packets before the first one are skipped).

        The chunk is made with ``transfer`` of a fresh copy of the bytes: a chunk that
        copies its data holds that copy until V8 collects the chunk, and V8 does not
        count it, so a re-encode of 264 MB of H.264 held ~500 MiB of them."""
        is_key = packet.is_key or self.all_key
        self._seen_key = self._seen_key or is_key
        if not self._seen_key:
            return
        await self._wait_for_room()
        timescale = self.plan.track.timescale
        timestamp = to_us(packet.pts, timescale)
        duration = to_us(packet.duration, timescale)
        self._decoding(timestamp, duration)
        chunk = self.make_chunk(
            "key" if is_key else "delta", timestamp, duration, js_bytes(packet.data)
        )
        self.decoder.decode(chunk)

    def _decoding(self, timestamp: int, duration: int) -> None:
        """Called with each chunk's timestamp and duration as it goes to the decoder."""

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
        for codec in (getattr(self, "decoder", None), getattr(self, "encoder", None)):
            if codec is None:
                continue
            # Events already queued (dequeue) may still be dispatched after close():
            # unhook them before their proxies are destroyed.
            codec.ondequeue = None
            if codec.state != "closed":
                codec.close()
        for proxy in self._proxies:
            proxy.destroy()
        self._proxies.clear()

    def _emit(self, chunk: Any, make_track: Callable[[], Track]) -> None:
        """An encoder output: copy the chunk's bytes into Python and queue the packet."""
        data = js.Uint8Array.new(chunk.byteLength)
        chunk.copyTo(data)
        self._queue(data.to_bytes(), int(chunk.timestamp), int(chunk.duration or 0),
                    chunk.type == "key", make_track)  # fmt: skip

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
