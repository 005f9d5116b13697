"""Video re-encoding: ``VideoDecoder`` → frame plan → ``VideoEncoder``.

Each decoded frame is held until the next one arrives: only then does
:class:`~pywebcodecs.frame_plan.FrameTimeline` know which output frames it becomes (none
when it lies outside the trim window or between two slots of the output frame rate,
several when it spans several slots). Each output frame is a new ``VideoFrame`` sharing
the decoded pixels (cropped or rotated, :class:`.FrameTransform` makes and encodes it),
dated where the plan says, and a key frame where
:class:`~pywebcodecs.frame_plan.KeyframeSchedule` says.
"""

from __future__ import annotations

import heapq
from typing import Any

import js
from pyodide.code import run_js

from ...encoding import video_encoder_config
from ...errors import CodecError
from ...frame_plan import FrameTimeline, Geometry, KeyframeSchedule, Slot
from ...track import MICROSECONDS, Track, VideoTrack, pixel_aspect_after
from ..capabilities import js_decoder_config
from ..interop import js_object
from .frame_transforms import FrameTransform
from .session import CodecSession, description_bytes, packed_output

# Made once: building these objects from Python dicts per chunk (to_js) would cost more
# than everything else the pipeline does per frame. The chunk takes the data's buffer
# (``transfer``, see CodecSession.push) instead of copying it.
_video_chunk = run_js(
    "(type, timestamp, duration, data) =>"
    " new EncodedVideoChunk({type, timestamp, duration, data, transfer: [data.buffer]})"
)
_retimed_frame = run_js(
    "(frame, timestamp, duration) => new VideoFrame(frame, {timestamp, duration})"
)
#: A decoder ``output`` callback that hands Python the frame with its timestamp and
#: duration (0: none) as numbers: two bridge reads fewer per frame.
_with_times = run_js(
    "(callback) => (frame) => callback(frame, frame.timestamp, frame.duration ?? 0)"
)
#: ``_encoding_with(encoder)(frame, options)``: encodes the frame, then closes it, in one
#: bridge call (from Python: an attribute read and a call for each of the two).
_encoding_with = run_js(
    "(encoder) => (frame, options) => { try { encoder.encode(frame, options); }"
    " finally { frame.close(); } }"
)
_KEY_FRAME = js_object({"keyFrame": True})
_DELTA_FRAME = js_object({"keyFrame": False})


class VideoSession(CodecSession):
    make_chunk = _video_chunk

    async def start(self) -> None:
        """Create and configure both codecs. The plan was made from the browser's answers
        for these very configs (:func:`~pywebcodecs.browser.capabilities.probe_capabilities`
        asks about the track's decoder config and the encoder config at the plan's size
        and frame rate), so they are not asked again: a 720p VP8 encoder's
        ``isConfigSupported`` answered in 25-155 ms (load 9; the decoder's in under 1 ms)."""
        track = self.plan.track
        assert isinstance(track, VideoTrack) and self.plan.size is not None
        self.width, self.height = self.plan.size
        self._decoder_config = js_decoder_config(track)
        plan = self.plan
        assert plan.codec is not None
        encoder_config = video_encoder_config(
            plan.codec, self.width, self.height, plan.frame_rate or track.frame_rate, plan.settings
        )
        self._encoder_config = js_object(encoder_config)
        geometry = Geometry(plan.crop, plan.rotation, (self.width, self.height))
        self._transform = FrameTransform.needed(track, geometry)
        self._timeline = FrameTimeline(plan.trim, plan.frame_rate)
        self._keys = KeyframeSchedule(plan.settings.keyframe_interval)
        self._held: Any = None  # the latest decoded frame, until the next one arrives
        self._held_end: int | None = None  # where it stops showing, when its chunk says
        self._held_slot: Slot | None = None  # its own time and duration
        self._times: list[int] = []
        self.decoder = js.VideoDecoder.new(
            self._callbacks(self._on_frame, "video decoding", _with_times)
        )
        self.encoder = js.VideoEncoder.new(
            self._callbacks(self._on_chunk, "video encoding", packed_output)
        )
        self.decoder.configure(self._decoder_config)
        self.encoder.configure(self._encoder_config)
        self._encode_closing = _encoding_with(self.encoder)
        self._listen_dequeue()

    def _on_frame(self, frame: Any, decoded_at: int, duration: int) -> None:
        """A decoded frame, with its timestamp and duration (0: none) in µs."""
        kept = None
        try:
            if self._error is not None:
                return
            kept, timestamp = self._in_presentation_order(frame, int(decoded_at))
            self._encode_held(self._timeline.push(timestamp))
            duration = int(duration)
            self._held_end = timestamp + duration if duration else None
            self._held_slot = Slot(timestamp, duration) if duration else None
            self._held, kept = kept, None
        except Exception as exc:
            self._fail(CodecError(f"video frame at {decoded_at} µs: {exc}"))
        finally:
            if kept is not None and kept is not frame:
                kept.close()
            if self._held is not frame:
                frame.close()

    def _encode_held(self, slots: list[Slot]) -> None:
        """Encode the held frame once per output slot, then let it go."""
        held = self._held
        if held is None:
            return
        self._held = None
        if self._transform is None and len(slots) == 1 and slots[0] == self._held_slot:
            # Shown as decoded (most frames of a conversion without trim or frame rate):
            # encode() copies the frame, so it is encoded and closed in one call.
            key = _KEY_FRAME if self._keys.is_key(slots[0].timestamp) else _DELTA_FRAME
            self._encode_closing(held, key)
            return
        try:
            for slot in slots:
                key = _KEY_FRAME if self._keys.is_key(slot.timestamp) else _DELTA_FRAME
                if self._transform is not None:
                    self._transform.encode(self.encoder, held, slot.timestamp, slot.duration, key)
                    continue
                if slot == self._held_slot:
                    out = held  # shown as decoded: encode() copies the frame
                else:
                    out = _retimed_frame(held, slot.timestamp, slot.duration)
                self.encoder.encode(out, key)
                if out is not held:
                    out.close()
        finally:
            held.close()

    async def _decoded_all(self) -> None:
        """The last frame's slots, once the decoder has given every frame."""
        self._encode_held(self._timeline.finish(self._held_end))
        if self._transform is not None:
            await self._transform.drained()

    def close(self) -> None:
        if getattr(self, "_held", None) is not None:
            self._held.close()
            self._held = None
        super().close()

    def _decoding(self, timestamp: int, duration: int) -> None:
        heapq.heappush(self._times, timestamp)

    def _in_presentation_order(self, frame: Any, decoded_at: int) -> tuple[Any, int]:
        """The frame and its timestamp, retimed if needed: a decoder outputs frames in
        presentation order, so the k-th frame gets the k-th smallest timestamp sent. That
        repairs inputs whose container stores no presentation times (AVI with B-frames),
        and changes nothing where the times were right."""
        if not self._times:
            return frame, decoded_at
        timestamp = heapq.heappop(self._times)
        if timestamp == decoded_at:
            return frame, timestamp
        return js.VideoFrame.new(frame, js_object({"timestamp": timestamp})), timestamp

    def _on_chunk(self, packed: Any, config: Any = None) -> None:
        """An encoder output, packed (:data:`.session.packed_output`), with the decoder config
        the encoder attached to it (its first output has one)."""
        try:
            self._emit_packed(packed, lambda: self._output_track(config))
        except Exception as exc:
            self._fail(CodecError(f"video encoder output: {exc}"))

    def _output_track(self, config: Any) -> Track:
        """The output track, made at the first encoder output: ``config`` is its
        ``decoderConfig`` (codec string, avcC...), or None."""
        track, plan = self.plan.track, self.plan
        assert isinstance(track, VideoTrack) and plan.codec is not None
        crop = plan.crop
        region = (crop.width, crop.height) if crop else (track.width, track.height)
        size = (self.width, self.height)
        aspect = pixel_aspect_after(track, region, plan.rotation, size)
        return VideoTrack(
            id=self.index + 1,
            codec=plan.codec,
            codec_string=str(getattr(config, "codec", None) or self._encoder_config.codec),
            description=description_bytes(config),
            timescale=MICROSECONDS,
            width=self.width,
            height=self.height,
            display_width=self.width * aspect[0] // aspect[1],
            display_height=self.height,
            pixel_aspect=aspect,
            frame_rate=plan.frame_rate or track.frame_rate,
            language=track.language,
            name=track.name,
            is_default=track.is_default,
            color=track.color,
        )
