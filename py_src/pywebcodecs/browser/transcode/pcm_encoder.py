"""A stand-in for an ``AudioEncoder`` when the output is PCM (WAV)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from pyodide.code import run_js
from pyodide.ffi import create_proxy

from ...track import MICROSECONDS

#: ``_pcm_batcher(format, bytes, emit)``: ``encode(data)`` copies an ``AudioData``'s
#: interleaved samples in ``format`` after those already gathered in one reused
#: ``Uint8Array`` of ``bytes``; ``emit(view, start, frames, rate)`` is called with the
#: batch when the next piece does not fit or does not follow on from its end (a gap in
#: the timestamps, another rate), and by ``flush()``. A piece bigger than a batch gets a
#: buffer of its own size.
_pcm_batcher = run_js("""(format, bytes, emit) => {
  const options = { planeIndex: 0, format };
  let buffer = new Uint8Array(bytes), filled = 0, start = 0, frames = 0, rate = 0;
  const end = () => start + Math.round(frames * 1e6 / rate);
  const flush = () => {
    if (!frames) return;
    const [view, from, count, at] = [buffer.subarray(0, filled), start, frames, rate];
    filled = frames = 0;
    emit(view, from, count, at);
  };
  const encode = (data) => {
    const timestamp = data.timestamp, count = data.numberOfFrames, at = data.sampleRate;
    if (frames && (at !== rate || Math.abs(timestamp - end()) * at >= 1e6)) flush();
    const size = data.allocationSize(options);
    if (filled + size > buffer.length) {
      flush();
      if (size > buffer.length) buffer = new Uint8Array(size);
    }
    data.copyTo(buffer.subarray(filled, filled + size), options);
    if (!frames) [start, rate] = [timestamp, at];
    filled += size;
    frames += count;
  };
  return { encode, flush };
}""")


class PcmEncoder:
    """WebCodecs has no PCM encoder, and for WAV the interleaved samples are the encoded
    form, so they (and only they) are copied out of the decoded ``AudioData``.

    Decoded audio comes in small pieces (576 or 1152 samples for MP3), and in Pyodide each
    crossing of the JS bridge, each packet and each sink write costs more than the copy
    itself: so consecutive pieces are gathered in JS (:data:`_pcm_batcher`, whose
    ``encode`` the audio session's decoder output calls without Python: :attr:`js_encoder`)
    and handed on as one packet of up to :attr:`BATCH_BYTES` (MP3 → WAV, 38 s: ~60
    packets, and ~60 calls into Python, instead of ~1600). A piece that does not follow on
    from the batch's end (a gap in the input's timestamps) starts a new packet, so times
    stay as decoded."""

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
        self.on_samples = on_samples
        self.state = "configured"
        self.ondequeue: Any = None
        self._emit = create_proxy(self._batch)
        #: The JS side: ``encode(data)`` and ``flush()`` (:data:`_pcm_batcher`).
        self.js_encoder: Any = _pcm_batcher(sample_format, self.BATCH_BYTES, self._emit)

    def _batch(self, view: Any, start: float, frames: int, rate: int) -> None:
        duration = round(frames * MICROSECONDS / rate)
        self.on_samples(view.to_bytes(), int(start), duration)

    def encode(self, data: Any) -> None:
        self.js_encoder.encode(data)

    async def flush(self) -> None:
        """Hand on the batch gathered so far."""
        self.js_encoder.flush()

    def close(self) -> None:
        self.state = "closed"
        self._emit.destroy()
