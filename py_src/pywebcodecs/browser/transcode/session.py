"""Re-encoding stages: WebCodecs decoder → (rotate/resize) → encoder, driven from Python.

Decoded ``VideoFrame``/``AudioData`` objects never enter Python: the decoder's output
callback hands each one straight to the encoder and closes it. Only the encoder's chunks
are copied into Python bytes for the muxer.

Backpressure: before each ``decode`` the stage waits, on the codecs' ``dequeue`` events,
until both queues are short. Waiting on events (not polling with ``asyncio.sleep``) is what
keeps Python as fast as a plain JS loop: each poll would cost a clamped browser timer. A
codec error wakes the waiter too, and a codec that stops answering for
``STALL_SECONDS`` is reported, so a conversion never hangs.
"""

from __future__ import annotations

import asyncio
import heapq
import math
from collections.abc import Callable
from typing import Any, ClassVar

import js
from pyodide.code import run_js
from pyodide.ffi import JsException, create_proxy

from ..audio_end import EncodedAudioEnd
from ..encoding import audio_bitrate, audio_encoder_codec_string, video_encoder_config
from ..errors import CodecError, UnsupportedError
from ..interleave import Interleaver
from ..plan import TrackPlan
from ..track import MICROSECONDS, AudioTrack, Packet, Track, VideoTrack
from .capabilities import js_decoder_config
from .interop import js_bytes, js_error_message, js_object

MAX_QUEUE = 8
#: Audio chunks are tiny and decode in microseconds: a deeper queue means fewer waits.
MAX_AUDIO_QUEUE = 32
STALL_SECONDS = 30.0
KEYFRAME_INTERVAL_US = 2 * MICROSECONDS


# Made once: building these objects from Python dicts per chunk (to_js) would cost more
# than everything else the pipeline does per frame.
_video_chunk = run_js(
    "(type, timestamp, duration, data) => new EncodedVideoChunk({type, timestamp, duration, data})"
)
_audio_chunk = run_js(
    "(type, timestamp, duration, data) => new EncodedAudioChunk({type, timestamp, duration, data})"
)
_KEY_FRAME = js_object({"keyFrame": True})
_DELTA_FRAME = js_object({"keyFrame": False})


def _us(value: int, timescale: int) -> int:
    return round(value * MICROSECONDS / timescale)


class _Transcoder:
    """What video and audio share: error capture, waiting for room, flushing, closing."""

    decoder: Any
    encoder: Any
    #: Builds the Encoded{Video,Audio}Chunk for the decoder.
    make_chunk: ClassVar[Any]
    #: Audio packets are all key frames, whatever the container flags say.
    all_key: ClassVar[bool] = False

    def __init__(self, plan: TrackPlan, interleaver: Interleaver, index: int) -> None:
        self.plan = plan
        self.interleaver = interleaver
        self.index = index
        self.output_track: Track | None = None
        self._error: Exception | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._proxies: list[Any] = []
        self._seen_key = False

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

    max_queue = MAX_QUEUE

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
        packets before the first one are skipped)."""
        is_key = packet.is_key or self.all_key
        self._seen_key = self._seen_key or is_key
        if not self._seen_key:
            return
        await self._wait_for_room()
        timescale = self.plan.track.timescale
        timestamp = _us(packet.pts, timescale)
        duration = _us(packet.duration, timescale)
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
            await self.encoder.flush()
        except JsException as exc:
            self._check()
            raise CodecError(f"flushing {self.plan.track.codec}: {js_error_message(exc)}") from exc
        self._check()
        self._flushed()
        self.interleaver.finish_track(self.index)

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


def _decoder_config(metadata: Any) -> Any:
    """The ``decoderConfig`` an encoder attached to its output, or None."""
    return getattr(metadata, "decoderConfig", None) if metadata is not None else None


def _description(config: Any) -> bytes | None:
    description = getattr(config, "description", None) if config is not None else None
    if description is None:
        return None
    return bytes(js.Uint8Array.new(description).to_bytes())


async def _supported(codec_class: Any, config: Any) -> bool:
    try:
        return bool((await codec_class.isConfigSupported(config)).supported)
    except JsException:
        return False


class VideoTranscoder(_Transcoder):
    make_chunk = _video_chunk

    async def start(self) -> None:
        track = self.plan.track
        assert isinstance(track, VideoTrack) and self.plan.size is not None
        self.width, self.height = self.plan.size
        self._decoder_config = js_decoder_config(track)
        if not await _supported(js.VideoDecoder, self._decoder_config):
            raise UnsupportedError(
                f"this browser cannot decode {track.codec} video ({track.codec_string}, "
                f"{track.width}x{track.height})"
            )
        assert self.plan.codec is not None
        encoder_config = video_encoder_config(
            self.plan.codec, self.width, self.height, track.frame_rate
        )
        self._encoder_config = js_object(encoder_config)
        if not await _supported(js.VideoEncoder, self._encoder_config):
            raise UnsupportedError(
                f"this browser cannot encode {self.plan.codec} video at "
                f"{self.width}x{self.height} ({encoder_config['codec']})"
            )
        self._transform = FrameTransform.needed(track, self.plan.rotation, self.width, self.height)
        self._next_key = -math.inf
        self._times: list[int] = []
        self.decoder = js.VideoDecoder.new(self._callbacks(self._on_frame, "video decoding"))
        self.encoder = js.VideoEncoder.new(self._callbacks(self._on_chunk, "video encoding"))
        self.decoder.configure(self._decoder_config)
        self.encoder.configure(self._encoder_config)
        self._listen_dequeue()

    def _on_frame(self, frame: Any) -> None:
        try:
            if self._error is not None:
                return
            source = self._in_presentation_order(frame)
            if self._transform is not None:
                turned = self._transform.apply(source)
                if source is not frame:
                    source.close()
                source = turned
            timestamp = int(source.timestamp)
            key = timestamp >= self._next_key
            if key:
                self._next_key = timestamp + KEYFRAME_INTERVAL_US
            self.encoder.encode(source, _KEY_FRAME if key else _DELTA_FRAME)
            if source is not frame:
                source.close()
        except Exception as exc:
            self._fail(CodecError(f"video frame at {frame.timestamp} µs: {exc}"))
        finally:
            frame.close()

    def _decoding(self, timestamp: int, duration: int) -> None:
        heapq.heappush(self._times, timestamp)

    def _in_presentation_order(self, frame: Any) -> Any:
        """The frame, retimed if needed: a decoder outputs frames in presentation order,
        so the k-th frame gets the k-th smallest timestamp sent. That repairs inputs whose
        container stores no presentation times (AVI with B-frames), and changes nothing
        where the times were right."""
        if not self._times:
            return frame
        timestamp = heapq.heappop(self._times)
        if timestamp == int(frame.timestamp):
            return frame
        return js.VideoFrame.new(frame, js_object({"timestamp": timestamp}))

    def _on_chunk(self, chunk: Any, metadata: Any = None) -> None:
        config = _decoder_config(metadata)
        track = self.plan.track
        assert isinstance(track, VideoTrack) and self.plan.codec is not None

        def make_track() -> Track:
            return VideoTrack(
                id=self.index + 1,
                codec=self.plan.codec or "",
                codec_string=str(getattr(config, "codec", None) or self._encoder_config.codec),
                description=_description(config),
                timescale=MICROSECONDS,
                width=self.width,
                height=self.height,
                frame_rate=track.frame_rate,
                language=track.language,
                color=track.color,
            )

        try:
            self._emit(chunk, make_track)
        except Exception as exc:
            self._fail(CodecError(f"video encoder output: {exc}"))


class AudioTranscoder(_Transcoder):
    make_chunk = _audio_chunk
    all_key = True
    max_queue = MAX_AUDIO_QUEUE

    async def start(self) -> None:
        track = self.plan.track
        assert isinstance(track, AudioTrack) and self.plan.codec is not None
        decoder_config: dict[str, Any] = {
            "codec": track.codec_string,
            "sampleRate": track.sample_rate,
            "numberOfChannels": track.channels,
        }
        if track.description:
            decoder_config["description"] = js_bytes(track.description)
        config = js_object(decoder_config)
        if not await _supported(js.AudioDecoder, config):
            raise UnsupportedError(
                f"this browser cannot decode {track.codec} audio ({track.codec_string}, "
                f"{track.sample_rate} Hz, {track.channels} channels)"
            )
        self.decoder = js.AudioDecoder.new(self._callbacks(self._on_audio, "audio decoding"))
        self.decoder.configure(config)
        #: What was fed to a real encoder, to cut its padding at the end (PCM has none).
        self._end: EncodedAudioEnd | None = None
        if self.plan.codec in PcmEncoder.FORMATS:
            self.encoder = PcmEncoder(self.plan.codec, self._on_pcm)
        else:
            await self._start_encoder(track)
            self._end = EncodedAudioEnd(MICROSECONDS)
        self._listen_dequeue()

    async def _start_encoder(self, track: AudioTrack) -> None:
        assert self.plan.codec is not None
        encoder_config = js_object(
            {
                "codec": audio_encoder_codec_string(self.plan.codec),
                "sampleRate": track.sample_rate,
                "numberOfChannels": track.channels,
                "bitrate": audio_bitrate(track.channels),
            }
        )
        if not await _supported(js.AudioEncoder, encoder_config):
            raise UnsupportedError(
                f"this browser cannot encode {self.plan.codec} audio at {track.sample_rate} Hz "
                f"with {track.channels} channels"
            )
        self.encoder = js.AudioEncoder.new(self._callbacks(self._on_chunk, "audio encoding"))
        self.encoder.configure(encoder_config)

    def _on_pcm(self, data: bytes, timestamp: int, duration: int) -> None:
        track = self.plan.track
        assert isinstance(track, AudioTrack) and self.plan.codec is not None
        codec = self.plan.codec
        _, _, bits, codec_string = PcmEncoder.FORMATS[codec]

        def make_track() -> Track:
            return AudioTrack(id=self.index + 1, codec=codec, codec_string=codec_string,
                              timescale=MICROSECONDS, sample_rate=track.sample_rate,
                              channels=track.channels, bits_per_sample=bits,
                              language=track.language)  # fmt: skip

        self._queue(data, timestamp, duration, True, make_track)

    def _on_audio(self, data: Any) -> None:
        """Encode decoded audio, cutting what lies before 0 (encoder priming of the input)."""
        try:
            if self._error is not None:
                return
            start = float(data.timestamp)
            # Timestamps are whole microseconds: round to whole frames before comparing.
            skip = round(-start * int(data.sampleRate) / MICROSECONDS) if start < 0 else 0
            frames = int(data.numberOfFrames)
            if skip >= frames:
                return
            if self._end is not None:
                self._end.fed(0 if skip else int(start), frames - skip, int(data.sampleRate))
            if skip:
                trimmed = _trim_start(data, skip)
                self.encoder.encode(trimmed)
                trimmed.close()
            else:
                self.encoder.encode(data)
        except Exception as exc:
            self._fail(CodecError(f"audio at {data.timestamp} µs: {exc}"))
        finally:
            data.close()

    def _deliver(self, packet: Packet) -> None:
        """An encoded packet, dated where its decoded samples go: an Opus encoder's chunk
        timestamp is where its input starts, and decoding gives the pre-skip (priming)
        before that. Then held until it is known whether it reaches past the input's end."""
        if self._end is None:
            super()._deliver(packet)
            return
        assert isinstance(self.output_track, AudioTrack)
        lead_in = self.output_track.lead_in
        packet.pts -= lead_in
        packet.dts -= lead_in
        for ready in self._end.push(packet):
            super()._deliver(ready)

    def _decoding(self, timestamp: int, duration: int) -> None:
        if self._end is not None:
            self._end.decoding(timestamp, duration)

    def _flushed(self) -> None:
        if self._end is not None:
            for ready in self._end.finish():
                super()._deliver(ready)

    def _on_chunk(self, chunk: Any, metadata: Any = None) -> None:
        config = _decoder_config(metadata)
        track = self.plan.track
        assert isinstance(track, AudioTrack)

        def make_track() -> Track:
            channels = int(getattr(config, "numberOfChannels", None) or track.channels)
            return AudioTrack(
                id=self.index + 1,
                codec=self.plan.codec or "",
                codec_string=str(getattr(config, "codec", None) or self.plan.codec),
                description=_description(config),
                timescale=MICROSECONDS,
                sample_rate=int(getattr(config, "sampleRate", None) or track.sample_rate),
                channels=channels,
                language=track.language,
            )

        try:
            self._emit(chunk, make_track)
        except Exception as exc:
            self._fail(CodecError(f"audio encoder output: {exc}"))


class PcmEncoder:
    """Stands in for an ``AudioEncoder`` when the output is PCM (WAV): WebCodecs has no PCM
    encoder, and for WAV the interleaved samples are the encoded form, so they (and only
    they) are copied out of the decoded ``AudioData``."""

    #: codec → (AudioData sample format, typed array, bits, WebCodecs codec string)
    FORMATS: ClassVar[dict[str, tuple[str, str, int, str]]] = {
        "pcm_u8": ("u8", "Uint8Array", 8, "pcm-u8"),
        "pcm_s16le": ("s16", "Int16Array", 16, "pcm-s16"),
        "pcm_s32le": ("s32", "Int32Array", 32, "pcm-s32"),
        "pcm_f32le": ("f32", "Float32Array", 32, "pcm-f32"),
    }
    encodeQueueSize = 0

    def __init__(self, codec: str, on_samples: Callable[[bytes, int, int], None]) -> None:
        self.format, self.array, _, _ = self.FORMATS[codec]
        self.on_samples = on_samples
        self.state = "configured"
        self.ondequeue: Any = None

    def encode(self, data: Any) -> None:
        frames, channels = int(data.numberOfFrames), int(data.numberOfChannels)
        samples = getattr(js, self.array).new(frames * channels)
        data.copyTo(samples, js_object({"planeIndex": 0, "format": self.format}))
        raw = js.Uint8Array.new(samples.buffer).to_bytes()
        duration = round(frames * MICROSECONDS / int(data.sampleRate))
        self.on_samples(raw, int(data.timestamp), duration)

    async def flush(self) -> None:
        """Nothing is held back: every ``encode`` delivered its samples at once."""

    def close(self) -> None:
        self.state = "closed"


def _trim_start(data: Any, skip: int) -> Any:
    """A new ``AudioData`` without the first ``skip`` frames (copied inside the browser)."""
    frames = int(data.numberOfFrames) - skip
    channels = int(data.numberOfChannels)
    samples = js.Float32Array.new(frames * channels)
    for channel in range(channels):
        plane = samples.subarray(channel * frames, (channel + 1) * frames)
        options = {"planeIndex": channel, "frameOffset": skip, "format": "f32-planar"}
        data.copyTo(plane, js_object(options))
    init = {
        "format": "f32-planar",
        "sampleRate": data.sampleRate,
        "numberOfFrames": frames,
        "numberOfChannels": channels,
        "timestamp": 0,
        "data": samples,
    }
    return js.AudioData.new(js_object(init))


class FrameTransform:
    """Rotation and scaling of decoded frames on an ``OffscreenCanvas`` (stays on the GPU
    or in the browser's memory; no pixels reach Python)."""

    def __init__(self, rotation: int, width: int, height: int) -> None:
        self.rotation = rotation
        self.width = width
        self.height = height
        self.canvas = js.OffscreenCanvas.new(width, height)
        self.context = self.canvas.getContext("2d")

    @classmethod
    def needed(
        cls, track: VideoTrack, rotation: int, width: int, height: int
    ) -> FrameTransform | None:
        upright = (
            (track.height, track.width) if rotation in (90, 270) else (track.width, track.height)
        )
        if rotation == 0 and upright == (width, height):
            return None
        return cls(rotation, width, height)

    def apply(self, frame: Any) -> Any:
        ctx = self.context
        drawn_w, drawn_h = (
            (self.height, self.width) if self.rotation in (90, 270) else (self.width, self.height)
        )
        ctx.save()
        ctx.translate(self.width / 2, self.height / 2)
        ctx.rotate(self.rotation * math.pi / 180)
        ctx.drawImage(frame, -drawn_w / 2, -drawn_h / 2, drawn_w, drawn_h)
        ctx.restore()
        init = {"timestamp": frame.timestamp}
        if frame.duration is not None:
            init["duration"] = frame.duration
        return js.VideoFrame.new(self.canvas, js_object(init))


async def make_transcoder(
    plan: TrackPlan, interleaver: Interleaver, index: int
) -> VideoTranscoder | AudioTranscoder:
    stage: VideoTranscoder | AudioTranscoder
    if isinstance(plan.track, VideoTrack):
        stage = VideoTranscoder(plan, interleaver, index)
    else:
        stage = AudioTranscoder(plan, interleaver, index)
    try:
        await stage.start()
    except BaseException:
        stage.close()
        raise
    return stage
