"""A stand-in for an ``AudioEncoder`` when the output is PCM (WAV)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import js

from ...track import MICROSECONDS
from ..interop import js_object


class PcmEncoder:
    """WebCodecs has no PCM encoder, and for WAV the interleaved samples are the encoded
    form, so they (and only they) are copied out of the decoded ``AudioData``.

    Decoded audio comes in packets of one size (1152 samples for MP3), and each crossing
    of the JS bridge costs more than the copy itself in Pyodide, so the samples land in
    one reused byte array (``copyTo`` takes any buffer) with options made once: per
    packet, one ``copyTo`` and one copy into Python bytes."""

    #: codec → (AudioData sample format, bytes per sample, bits, WebCodecs codec string)
    FORMATS: ClassVar[dict[str, tuple[str, int, int, str]]] = {
        "pcm_u8": ("u8", 1, 8, "pcm-u8"),
        "pcm_s16le": ("s16", 2, 16, "pcm-s16"),
        "pcm_s32le": ("s32", 4, 32, "pcm-s32"),
        "pcm_f32le": ("f32", 4, 32, "pcm-f32"),
    }
    encodeQueueSize = 0

    def __init__(self, codec: str, on_samples: Callable[[bytes, int, int], None]) -> None:
        sample_format, self.sample_bytes, _, _ = self.FORMATS[codec]
        self.copy_options = js_object({"planeIndex": 0, "format": sample_format})
        self.buffer: Any = js.Uint8Array.new(0)
        self.on_samples = on_samples
        self.state = "configured"
        self.ondequeue: Any = None

    def encode(self, data: Any) -> None:
        frames, channels = data.numberOfFrames, data.numberOfChannels
        size = frames * channels * self.sample_bytes
        if self.buffer.length != size:
            self.buffer = js.Uint8Array.new(size)
        data.copyTo(self.buffer, self.copy_options)
        duration = round(frames * MICROSECONDS / data.sampleRate)
        self.on_samples(self.buffer.to_bytes(), int(data.timestamp), duration)

    async def flush(self) -> None:
        """Nothing is held back: every ``encode`` delivered its samples at once."""

    def close(self) -> None:
        self.state = "closed"
