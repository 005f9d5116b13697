"""A stand-in for an ``AudioEncoder`` when the output is PCM (WAV)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import js

from ...track import MICROSECONDS
from ..interop import js_object


class PcmEncoder:
    """WebCodecs has no PCM encoder, and for WAV the interleaved samples are the encoded
    form, so they (and only they) are copied out of the decoded ``AudioData``."""

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
