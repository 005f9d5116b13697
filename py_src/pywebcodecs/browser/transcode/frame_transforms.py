"""Changes to decoded ``VideoFrame`` pixels (no pixels reach Python). What to change is
decided in :mod:`pywebcodecs.frame_plan`; this only carries it out.

A crop alone is no pixel work: a new ``VideoFrame`` over the same pixels with a smaller
``visibleRect``, which the encoder scales to its configured size like any frame. Only a
rotation draws, on an ``OffscreenCanvas``: Chromium keeps the RGB picture it converts each
drawn decoded frame into (~0.8 MiB at 640x360, given back neither on ``close()`` nor on
garbage collection) until some ~450 MiB are held (``build_scripts/bench_transforms.py``:
a 640x360 rotate peaks at ~730 MiB after 600 frames and ~755 after 1800)."""

from __future__ import annotations

import math
from typing import Any

import js
from pyodide.code import run_js

from ...frame_plan import Crop, Geometry
from ...track import VideoTrack
from ..interop import js_object

# Made once (a dict through to_js per frame would cost more than the frame). The crop is
# in the picture's pixels, the visibleRect in the decoded frame's coded ones.
_cropped_frame = run_js(
    "(frame, timestamp, duration, left, top, width, height) => new VideoFrame(frame, {"
    " timestamp, duration, visibleRect: {"
    "  x: frame.visibleRect.x + left, y: frame.visibleRect.y + top, width, height}})"
)


class FrameTransform:
    """Crop, then rotation of decoded frames (scaling is the encoder's)."""

    def __init__(self, geometry: Geometry, source: tuple[int, int]) -> None:
        self.rotation = geometry.rotation
        self.width, self.height = geometry.size
        self.crop = geometry.crop or Crop(0, 0, *source)
        if self.rotation:
            self.canvas = js.OffscreenCanvas.new(self.width, self.height)
            self.context = self.canvas.getContext("2d")

    @classmethod
    def needed(cls, track: VideoTrack, geometry: Geometry) -> FrameTransform | None:
        """None when the frames go to the encoder as they are: also when only their size
        changes, since the encoder scales each frame to the size it was configured with."""
        if not geometry.changes_pixels:
            return None
        return cls(geometry, (track.width, track.height))

    def apply(self, frame: Any, timestamp: int, duration: int) -> Any:
        """A new frame with the pixels changed, shown at ``timestamp`` for ``duration``."""
        crop = self.crop
        if not self.rotation:
            return _cropped_frame(frame, timestamp, duration,
                                  crop.left, crop.top, crop.width, crop.height)  # fmt: skip
        ctx = self.context
        drawn_w, drawn_h = (
            (self.height, self.width) if self.rotation in (90, 270) else (self.width, self.height)
        )
        ctx.save()
        ctx.translate(self.width / 2, self.height / 2)
        ctx.rotate(self.rotation * math.pi / 180)
        ctx.drawImage(frame, crop.left, crop.top, crop.width, crop.height,
                      -drawn_w / 2, -drawn_h / 2, drawn_w, drawn_h)  # fmt: skip
        ctx.restore()
        init = {"timestamp": timestamp, "duration": duration}
        return js.VideoFrame.new(self.canvas, js_object(init))
