"""Changes to decoded ``AudioData`` made inside the browser (typed arrays, never sample by
sample in Python)."""

from __future__ import annotations

from typing import Any

import js

from ..interop import js_object


def slice_frames(data: Any, skip: int, frames: int, timestamp: int) -> Any:
    """A new ``AudioData`` of ``frames`` frames from frame ``skip`` on, dated ``timestamp``
    (µs): a cut at the trim window or at the input's priming."""
    channels = int(data.numberOfChannels)
    samples = js.Float32Array.new(frames * channels)
    for channel in range(channels):
        plane = samples.subarray(channel * frames, (channel + 1) * frames)
        options = {"planeIndex": channel, "frameOffset": skip, "frameCount": frames,
                   "format": "f32-planar"}  # fmt: skip
        data.copyTo(plane, js_object(options))
    init = {
        "format": "f32-planar",
        "sampleRate": data.sampleRate,
        "numberOfFrames": frames,
        "numberOfChannels": channels,
        "timestamp": timestamp,
        "data": samples,
    }
    return js.AudioData.new(js_object(init))
