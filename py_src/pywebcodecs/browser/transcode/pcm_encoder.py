"""A stand-in for an ``AudioEncoder`` when the output is PCM (WAV)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import js
from pyodide.code import run_js

from ...track import MICROSECONDS
from ..interop import js_object

#: Copies an ``AudioData``'s samples into ``buffer`` from ``offset`` on, in one bridge
#: call; returns how many bytes, or -1 (nothing copied) when they do not fit.
_copy_into = run_js(
    "(data, buffer, offset, options) => {"
    " const size = data.allocationSize(options);"
    " if (offset + size > buffer.length) return -1;"
    " data.copyTo(buffer.subarray(offset, offset + size), options);"
    " return size; }"
)


class PcmEncoder:
    """WebCodecs has no PCM encoder, and for WAV the interleaved samples are the encoded
    form, so they (and only they) are copied out of the decoded ``AudioData``.

    Decoded audio comes in small pieces (576 or 1152 samples for MP3), and in Pyodide each
    crossing of the JS bridge, each packet and each sink write costs more than the copy
    itself: so consecutive pieces are gathered in one reused byte array (one bridge call
    per piece) and handed on as one packet of up to :attr:`BATCH_BYTES` (MP3 → WAV, 38 s:
    ~60 packets instead of ~1600). A piece that does not follow on from the batch's end
    (a gap in the input's timestamps) starts a new packet, so times stay as decoded."""

    #: codec → (AudioData sample format, bytes per sample, bits, WebCodecs codec string)
    FORMATS: ClassVar[dict[str, tuple[str, int, int, str]]] = {
        "pcm_u8": ("u8", 1, 8, "pcm-u8"),
        "pcm_s16le": ("s16", 2, 16, "pcm-s16"),
        "pcm_s32le": ("s32", 4, 32, "pcm-s32"),
        "pcm_f32le": ("f32", 4, 32, "pcm-f32"),
    }
    #: Up to ~0.35 s of 48 kHz stereo s16: big enough to make the per-packet costs vanish,
    #: small enough to interleave with video in Matroska.
    BATCH_BYTES = 64 << 10
    encodeQueueSize = 0

    def __init__(self, codec: str, on_samples: Callable[[bytes, int, int], None]) -> None:
        sample_format, self.sample_bytes, _, _ = self.FORMATS[codec]
        self.copy_options = js_object({"planeIndex": 0, "format": sample_format})
        self.buffer: Any = js.Uint8Array.new(self.BATCH_BYTES)
        self.on_samples = on_samples
        self.state = "configured"
        self.ondequeue: Any = None
        self._filled = 0  # bytes in ``buffer``
        self._start = 0  # the batch's first timestamp (µs)
        self._frames = 0  # frames in the batch
        self._rate = 0

    def encode(self, data: Any) -> None:
        timestamp, frames = int(data.timestamp), int(data.numberOfFrames)
        rate = int(data.sampleRate)
        if self._frames and (
            rate != self._rate or abs(timestamp - self._end()) * rate >= MICROSECONDS
        ):
            self._emit()  # not contiguous: a new packet from here
        size = _copy_into(data, self.buffer, self._filled, self.copy_options)
        if size < 0:
            self._emit()
            size = _copy_into(data, self.buffer, 0, self.copy_options)
            if size < 0:  # one piece bigger than a batch
                self.buffer = js.Uint8Array.new(data.allocationSize(self.copy_options))
                size = _copy_into(data, self.buffer, 0, self.copy_options)
        if not self._frames:
            self._start, self._rate = timestamp, rate
        self._filled += size
        self._frames += frames

    def _end(self) -> int:
        return self._start + round(self._frames * MICROSECONDS / self._rate)

    def _emit(self) -> None:
        if not self._frames:
            return
        data = self.buffer.subarray(0, self._filled).to_bytes()
        start, duration = self._start, self._end() - self._start
        self._filled = self._frames = 0
        self.on_samples(data, start, duration)

    async def flush(self) -> None:
        """Hand on the batch gathered so far."""
        self._emit()

    def close(self) -> None:
        self.state = "closed"
