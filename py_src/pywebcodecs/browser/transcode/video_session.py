"""Video re-encoding: ``VideoDecoder`` → (rotate/resize) → ``VideoEncoder``."""

from __future__ import annotations

import heapq
import math
from typing import Any

from pyodide.code import run_js

import js

from ...encoding import video_encoder_config
from ...errors import CodecError, UnsupportedError
from ...track import MICROSECONDS, Track, VideoTrack
from ..capabilities import js_decoder_config, supported
from ..interop import js_object
from .frame_transforms import FrameTransform
from .session import CodecSession, description_bytes, output_decoder_config

KEYFRAME_INTERVAL_US = 2 * MICROSECONDS

# Made once: building these objects from Python dicts per chunk (to_js) would cost more
# than everything else the pipeline does per frame.
_video_chunk = run_js(
    "(type, timestamp, duration, data) => new EncodedVideoChunk({type, timestamp, duration, data})"
)
_KEY_FRAME = js_object({"keyFrame": True})
_DELTA_FRAME = js_object({"keyFrame": False})


class VideoSession(CodecSession):
    make_chunk = _video_chunk

    async def start(self) -> None:
        track = self.plan.track
        assert isinstance(track, VideoTrack) and self.plan.size is not None
        self.width, self.height = self.plan.size
        self._decoder_config = js_decoder_config(track)
        if not await supported(js.VideoDecoder, self._decoder_config):
            raise UnsupportedError(
                f"this browser cannot decode {track.codec} video ({track.codec_string}, "
                f"{track.width}x{track.height})"
            )
        assert self.plan.codec is not None
        encoder_config = video_encoder_config(
            self.plan.codec, self.width, self.height, track.frame_rate
        )
        self._encoder_config = js_object(encoder_config)
        if not await supported(js.VideoEncoder, self._encoder_config):
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
        config = output_decoder_config(metadata)
        track = self.plan.track
        assert isinstance(track, VideoTrack) and self.plan.codec is not None

        def make_track() -> Track:
            return VideoTrack(
                id=self.index + 1,
                codec=self.plan.codec or "",
                codec_string=str(getattr(config, "codec", None) or self._encoder_config.codec),
                description=description_bytes(config),
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
