"""Changes to decoded ``AudioData`` made inside the browser (typed arrays, never sample by
sample in Python)."""

from __future__ import annotations

from typing import Any

import js

from ..interop import js_object


def trim_start(data: Any, skip: int) -> Any:
    """A new ``AudioData`` without the first ``skip`` frames, dated 0."""
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
