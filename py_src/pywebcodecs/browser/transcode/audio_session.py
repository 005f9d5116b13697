"""Audio re-encoding: ``AudioDecoder`` → (remix, resample) → ``AudioEncoder`` (or the PCM
stand-in), with the input's priming cut at the start and the encoder's padding cut at the
end. The output's sample rate and channels are the plan's
(:class:`~pywebcodecs.audio_plan.AudioRemix`); what the decoder actually gives is checked
against them at its first output, so a decoder that gives another rate than the container
said (HE-AAC's doubled rate) is resampled rather than mislabelled."""

from __future__ import annotations

from array import array
from typing import Any

import js
from pyodide.code import run_js
from pyodide.ffi import to_js

from ...audio_end import EncodedAudioEnd
from ...audio_plan import MIXES, AudioRemix, encoder_rate
from ...encoding import audio_encoder_config
from ...errors import CodecError, UnsupportedError
from ...mpegts.audio_frames import forbidden_layer2_mode
from ...track import MICROSECONDS, AudioTrack, Packet, Track
from ..capabilities import js_decoder_config, supported
from ..interop import js_object
from .audio_transforms import audio_reshaper, silence, slice_frames
from .pcm_encoder import PcmEncoder
from .session import CodecSession, description_bytes, output_decoder_config

#: Audio chunks are tiny and decode in microseconds: a deeper queue means fewer waits.
MAX_AUDIO_QUEUE = 64
#: A full queue is waited on until it is down to this, so that each wait lets many
#: packets through. Waiting only for room for one more packet (as video does) made MP3 →
#: WAV wait once every two packets: each wait is a trip through the event loop while the
#: decoder's completions come one task at a time (38 s MP3, median page time 570 → 230 ms).
LOW_AUDIO_QUEUE = 16

_audio_chunk = run_js(  # takes the data's buffer, as video chunks do (CodecSession.push)
    "(type, timestamp, duration, data) =>"
    " new EncodedAudioChunk({type, timestamp, duration, data, transfer: [data.buffer]})"
)
#: ``feed = _audio_feed(slow, fail)``: ``feed.output`` is the decoder's output callback.
#: Until ``feed.direct(sink, rate, channels, high, stages)`` it hands every ``AudioData``
#: to ``slow`` (Python's :meth:`AudioSession._on_audio`); after it, one that needs no cut
#: (``rate`` and ``channels`` as said, from 0 on, ending well before ``high`` µs, if not
#: null) goes through the ``stages`` (the session's JS reshapers, whose ``push`` gives
#: new ``AudioData``) to ``sink.encode``, everything closed after, without a call into
#: Python; the frames encoded are counted for ``feed.take()`` (which answers them and
#: starts again from 0). ``feed.stop()`` sends everything to ``slow`` again.
#: ``fail(message, timestamp)`` is told of a piece that throws.
_audio_feed = run_js("""(slow, fail) => {
  let sink = null, rate = 0, channels = 0, high = null, stages = [], frames = 0;
  const output = (data) => {
    const timestamp = data.timestamp, count = data.numberOfFrames;
    if (sink === null || data.sampleRate !== rate || data.numberOfChannels !== channels
        || timestamp < 0 || (high != null && (high - timestamp) * rate < (count + 1) * 1e6)) {
      return slow(data);
    }
    try {
      let pieces = [data];
      for (const stage of stages) {
        const next = [];
        for (const piece of pieces) {
          next.push(...stage.push(piece, 0, piece.numberOfFrames, piece.timestamp));
          if (piece !== data) piece.close();
        }
        pieces = next;
      }
      for (const piece of pieces) {
        sink.encode(piece);
        frames += piece.numberOfFrames;
        if (piece !== data) piece.close();
      }
    } catch (error) {
      fail(String(error?.message ?? error), timestamp);
    } finally {
      data.close();
    }
  };
  const direct = (...args) => { [sink, rate, channels, high, stages] = args; };
  const stop = () => { sink = null; };
  const take = () => { const n = frames; frames = 0; return n; };
  return { output, direct, stop, take };
}""")


#: ``chunks = _chunk_gatherer(first, fail)``: ``chunks.output`` is the encoder's output
#: callback. It hands the first chunk (which carries the decoder config) to ``first``
#: (Python's :meth:`AudioSession._on_chunk`) and gathers the bytes of the others in one
#: growing ``Uint8Array``, with their (timestamp, duration, size); ``chunks.take()``
#: answers ``[bytes, Float64Array of those]`` and starts again, or nothing when none was
#: gathered. ``fail(message, timestamp)`` is told of a chunk that could not be copied.
_chunk_gatherer = run_js("""(first, fail) => {
  let bytes = new Uint8Array(1 << 16), filled = 0, times = [], seen = false;
  const output = (chunk, metadata) => {
    if (!seen) {
      seen = true;
      return first(chunk, metadata);
    }
    try {
      const size = chunk.byteLength;
      if (filled + size > bytes.length) {
        const grown = new Uint8Array(Math.max(2 * bytes.length, filled + size));
        grown.set(bytes.subarray(0, filled));
        bytes = grown;
      }
      chunk.copyTo(bytes.subarray(filled, filled + size));
      filled += size;
      times.push(chunk.timestamp, chunk.duration ?? 0, size);
    } catch (error) {
      fail(String(error?.message ?? error), chunk.timestamp);
    }
  };
  const take = () => {
    if (!times.length) return undefined;
    const batch = [bytes.subarray(0, filled), Float64Array.from(times)];
    filled = 0;
    times = [];
    return batch;
  };
  return { output, take };
}""")
#: Input packets between two takes of the gathered encoder chunks: each take is a few
#: bridge calls, each chunk through Python was a callback and ~8 (~1000 for 20 s of Opus).
CHUNK_TAKE_EVERY = 16


class AudioSession(CodecSession):
    """Decoded audio that needs no cut (all of it but the priming and a trim's ends) goes
    from the decoder through the JS reshapers, if any, to the encoder in JS
    (:data:`_audio_feed`), never through Python: each ``AudioData`` through Python cost a
    callback and ~8 bridge calls. Python sees the first one (to check the decoder's shape)
    and any that must be cut; the frames fed in JS are added to the count of fed audio
    (:meth:`_take_fed`) before that count is used. The encoder's chunks are gathered in
    JS too (:data:`_chunk_gatherer`) and taken into Python a batch at a time."""

    make_chunk = _audio_chunk
    all_key = True
    max_queue = MAX_AUDIO_QUEUE
    resume_queue = LOW_AUDIO_QUEUE
    _feed: Any = None
    #: The encoder's gathered output (:data:`_chunk_gatherer`); None for PCM.
    _chunks: Any = None
    _pushed = 0
    _make_track: Any = None
    #: The sample rate of the frames fed in JS (0: none are).
    _direct_rate = 0

    async def start(self) -> None:
        track = self.plan.track
        assert isinstance(track, AudioTrack) and self.plan.codec is not None
        config = js_decoder_config(track)
        if not await supported(js.AudioDecoder, config):
            raise UnsupportedError(
                f"this browser cannot decode {track.codec} audio ({track.codec_string}, "
                f"{track.sample_rate} Hz, {track.channels} channels)"
            )
        self._label = f"track {track.id} ({track.codec} audio)"
        #: Whether the first packet's MPEG audio header has been checked (MP1/MP2 only).
        self._header_checked = track.codec not in ("mp1", "mp2")
        callbacks = self._callbacks(self._on_audio, f"{self._label}: the browser's decoder")
        #: Told by the JS feed and chunk gatherer of a piece that throws there.
        self._js_failed = self._proxy(self._feed_failed)
        self._feed = _audio_feed(callbacks.output, self._js_failed)
        callbacks.output = self._feed.output
        self.decoder = js.AudioDecoder.new(callbacks)
        self.decoder.configure(config)
        #: The output's shape, and the JS remix/resampler once the decoder's shape is known.
        self._shape = self.plan.audio or AudioRemix(track.sample_rate, track.channels)
        self._reshaper: Any = None
        self._shape_checked = False
        #: The rate the encoder is fed, and the JS resampler to it from the shape's rate.
        self._feed_rate = encoder_rate(self.plan.codec, self._shape.sample_rate)
        self._to_encoder: Any = None
        if self._feed_rate != self._shape.sample_rate:
            channels = self._shape.channels
            self._to_encoder = audio_reshaper(
                channels, self._shape.sample_rate, None, channels, self._feed_rate
            )
        trim = self.plan.trim
        #: The kept part of the input in µs: before 0 is the input's priming.
        self._keep_from = (trim.start_in(MICROSECONDS) if trim else None) or 0
        self._keep_until = trim.end_in(MICROSECONDS) if trim else None
        #: What was fed to the encoder, to cut what lies past the input's end: an encoder's
        #: padding, and (for PCM too) a decoder's whole last frame the input cuts short.
        self._end: EncodedAudioEnd | None = None
        if self.plan.codec in PcmEncoder.FORMATS:
            self.encoder = PcmEncoder(self.plan.codec, self._on_pcm)
            self._end = EncodedAudioEnd(MICROSECONDS, raw=True)
        else:
            await self._start_encoder(track)
            self._end = EncodedAudioEnd(MICROSECONDS)
        self._listen_dequeue()

    async def _start_encoder(self, track: AudioTrack) -> None:
        assert self.plan.codec is not None
        rate, channels = self._feed_rate, self._shape.channels
        encoder_config = audio_encoder_config(self.plan.codec, rate, channels, self.plan.settings)
        if not await supported(js.AudioEncoder, encoder_config):
            raise UnsupportedError(
                f"this browser cannot encode {self.plan.codec} audio at {rate} Hz "
                f"with {channels} channels"
            )
        what = f"{self._label}: the browser's {self.plan.codec} encoder"
        callbacks = self._callbacks(self._on_chunk, what)
        self._chunks = _chunk_gatherer(callbacks.output, self._js_failed)
        callbacks.output = self._chunks.output
        self.encoder = js.AudioEncoder.new(callbacks)
        self.encoder.configure(js_object(encoder_config))

    async def push(self, packet: Packet) -> None:
        """Decode one packet, as the session does, but not a packet that is all padding
        (duration 0, all of it ``discard_padding``: an MP3's last frame when the LAME
        tag's padding fills it): nothing of it would be kept, and its duration of 0 would
        say the input's end is unknown. An MPEG-1 Layer II track is checked at its first
        packet for a bitrate its channel mode may not use."""
        if packet.duration == 0 and packet.discard_padding:
            return
        if not self._header_checked:
            self._header_checked = True
            forbidden = forbidden_layer2_mode(packet.data)
            if forbidden is not None:
                raise UnsupportedError(
                    f"{self._label}: {forbidden}, so this browser cannot decode it; "
                    "copy it into MKV, or drop it"
                )
        self._pushed += 1
        if self._pushed % CHUNK_TAKE_EVERY == 0:
            self._take_chunks()
        await super().push(packet)

    def _take_chunks(self) -> None:
        """Deliver the encoder chunks gathered in JS since the last take, in order."""
        batch = self._chunks.take() if self._chunks is not None else None
        if batch is None or self._error is not None:
            return
        data = batch[0].to_bytes()
        times = array("d")
        times.frombytes(batch[1].to_bytes())
        at = 0
        for i in range(0, len(times), 3):
            size = int(times[i + 2])
            self._queue(data[at : at + size], int(times[i]), int(times[i + 1]), True,
                        self._make_track)  # fmt: skip
            at += size

    def _on_pcm(self, data: bytes, timestamp: int, duration: int) -> None:
        track = self.plan.track
        assert isinstance(track, AudioTrack) and self.plan.codec is not None
        codec = self.plan.codec
        _, _, bits, codec_string = PcmEncoder.FORMATS[codec]

        def make_track() -> Track:
            return AudioTrack(id=self.index + 1, codec=codec, codec_string=codec_string,
                              timescale=MICROSECONDS, sample_rate=self._shape.sample_rate,
                              channels=self._shape.channels, bits_per_sample=bits,
                              language=track.language, name=track.name,
                              is_default=track.is_default)  # fmt: skip

        try:
            self._queue(data, timestamp, duration, True, make_track)
        except Exception as exc:  # called from JS (the batcher): failing there loses it
            self._fail(CodecError(f"{self._label}: PCM output: {exc}"))

    def _on_audio(self, data: Any) -> None:
        """Encode decoded audio, cut sample-exactly to the kept part: what lies before 0
        (encoder priming of the input) or outside the trim window is left out, and times
        start at the window's start."""
        try:
            if self._error is not None:
                return
            start, rate = float(data.timestamp), int(data.sampleRate)
            frames = int(data.numberOfFrames)
            # Timestamps are whole microseconds: round to whole frames before comparing.
            low, high = self._keep_from, self._keep_until
            skip = round((low - start) * rate / MICROSECONDS) if start < low else 0
            if high is not None:
                frames = min(frames, round((high - start) * rate / MICROSECONDS))
            if skip >= frames:
                return
            timestamp = 0 if skip else int(start) - low
            if not self._shape_checked:
                self._check_shape(int(data.numberOfChannels), rate)
            if self._reshaper is not None:
                for shaped in self._reshaper.push(data, skip, frames - skip, timestamp):
                    self._encode(shaped, owned=True)
            elif skip or low or frames < int(data.numberOfFrames):
                self._encode(slice_frames(data, skip, frames - skip, timestamp), owned=True)
            else:
                self._encode(data, owned=False)
        except Exception as exc:
            self._fail(CodecError(f"{self._label}: audio at {data.timestamp} µs: {exc}"))
        finally:
            data.close()

    def _check_shape(self, channels: int, rate: int) -> None:
        """At the first decoded audio: a JS reshaper when its shape is not the output's;
        then what follows may go the JS way."""
        self._shape_checked = True
        shape = self._shape
        if (channels, rate) != (shape.channels, shape.sample_rate):
            matrix = None if channels == shape.channels else MIXES.get((channels, shape.channels))
            if channels != shape.channels and matrix is None:
                raise CodecError(
                    f"{self._label}: the decoder gives {channels} "
                    f"channels, and there is no standard mix to {shape.channels}"
                )
            self._reshaper = audio_reshaper(
                channels, rate, matrix, shape.channels, shape.sample_rate
            )
        self._feed_directly(channels, rate)

    def _feed_directly(self, channels: int, rate: int) -> None:
        """Let the decoder's output (``channels`` at ``rate``) go to the encoder in JS,
        through the reshapers there are, except with a trim start (every piece is
        re-dated) or once a piece needs a cut (``_audio_feed``)."""
        if self._keep_from:
            return
        sink = self.encoder.js_encoder if isinstance(self.encoder, PcmEncoder) else self.encoder
        stages = [stage for stage in (self._reshaper, self._to_encoder) if stage is not None]
        self._direct_rate = self._feed_rate
        self._feed.direct(sink, rate, channels, self._keep_until, to_js(stages))

    def _take_fed(self) -> None:
        """Count the frames the JS feed gave the encoder since the last time as fed."""
        if self._direct_rate and self._end is not None:
            frames = int(self._feed.take())
            if frames:
                self._end.fed(0, frames, self._direct_rate)

    def _feed_failed(self, message: str, timestamp: float) -> None:
        self._fail(CodecError(f"{self._label}: audio at {int(timestamp)} µs: {message}"))

    def _fail(self, error: Exception) -> None:
        if self._feed is not None:
            self._feed.stop()
        super()._fail(error)

    def _encode(self, data: Any, *, owned: bool) -> None:
        """Encode ``data`` (closing it if it is ours), noting what was fed for the end;
        resampled to the encoder's rate first where that differs."""
        if self._to_encoder is not None:
            frames = int(data.numberOfFrames)
            for resampled in self._to_encoder.push(data, 0, frames, int(data.timestamp)):
                self._encode_now(resampled, owned=True)
            if owned:
                data.close()
            return
        self._encode_now(data, owned=owned)

    def _encode_now(self, data: Any, *, owned: bool) -> None:
        if self._end is not None:
            self._take_fed()  # first: the count goes by rate, in the order fed
            self._end.fed(int(data.timestamp), int(data.numberOfFrames), int(data.sampleRate))
        self.encoder.encode(data)
        if owned:
            data.close()

    async def _decoded_all(self) -> None:
        """The resampler's tail (the samples it held back for its kernel's look-ahead),
        then, for a real encoder, silence not counted as fed (``FLUSH_SILENCE``): what
        the encoder loses at its flush is that silence, not the input."""
        self._take_fed()
        if self._reshaper is not None:
            for shaped in self._reshaper.finish():
                self._encode(shaped, owned=True)
        if self._to_encoder is not None:
            for resampled in self._to_encoder.finish():
                self._encode_now(resampled, owned=True)
        tail = self._end.flush_silence() if self._end is not None else None
        if tail is not None and not isinstance(self.encoder, PcmEncoder):
            timestamp, frames = tail
            padding = silence(self._shape.channels, self._feed_rate, frames, timestamp)
            self.encoder.encode(padding)
            padding.close()

    def _deliver(self, packet: Packet) -> None:
        """An encoded packet, dated where its decoded samples go: an Opus encoder's chunk
        timestamp is where its input starts, and decoding gives the pre-skip (priming)
        before that. Then held until it is known whether it reaches past the input's end."""
        if self._end is None:
            super()._deliver(packet)
            return
        assert isinstance(self.output_track, AudioTrack)
        self._take_fed()
        lead_in = self.output_track.lead_in
        packet.pts -= lead_in
        packet.dts -= lead_in
        for ready in self._end.push(packet):
            super()._deliver(ready)

    def _decoding(self, timestamp: int, duration: int) -> None:
        if self._end is not None:
            self._end.decoding(timestamp - self._keep_from, duration)

    def _flushed(self) -> None:
        self._take_chunks()
        if self._end is None:
            return
        self._take_fed()
        for ready in self._end.finish():
            super()._deliver(ready)
        if self._end.short_by:
            raise CodecError(
                f"{self._label}: the browser's {self.plan.codec} "
                f"encoder gave {self._end.short_by / 1000:.1f} ms less audio than it was fed"
            )

    def _on_chunk(self, chunk: Any, metadata: Any = None) -> None:
        config = output_decoder_config(metadata)
        track = self.plan.track
        assert isinstance(track, AudioTrack)

        def make_track() -> Track:
            shape = self._shape
            channels = int(getattr(config, "numberOfChannels", None) or shape.channels)
            return AudioTrack(
                id=self.index + 1,
                codec=self.plan.codec or "",
                codec_string=str(getattr(config, "codec", None) or self.plan.codec),
                description=description_bytes(config),
                timescale=MICROSECONDS,
                sample_rate=int(getattr(config, "sampleRate", None) or shape.sample_rate),
                channels=channels,
                language=track.language,
                name=track.name,
                is_default=track.is_default,
            )

        self._make_track = make_track
        try:
            self._emit(chunk, make_track)
        except Exception as exc:
            self._fail(CodecError(f"audio encoder output: {exc}"))
