"""Changes to decoded ``VideoFrame`` pixels, made on an ``OffscreenCanvas`` (stays on the
GPU or in the browser's memory; no pixels reach Python). What to change is decided in
:mod:`pywebcodecs.frame_plan`; this only draws it."""

from __future__ import annotations

import math
from typing import Any

import js

from ...frame_plan import Crop, Geometry
from ...track import VideoTrack
from ..interop import js_object


class FrameTransform:
    """Crop, rotation and scaling of decoded frames, in one draw."""

    def __init__(self, geometry: Geometry, source: tuple[int, int]) -> None:
        self.rotation = geometry.rotation
        self.width, self.height = geometry.size
        self.crop = geometry.crop or Crop(0, 0, *source)
        self.canvas = js.OffscreenCanvas.new(self.width, self.height)
        self.context = self.canvas.getContext("2d")

    @classmethod
    def needed(cls, track: VideoTrack, geometry: Geometry) -> FrameTransform | None:
        """None when the frames go to the encoder as they are: also when only their size
        changes, since the encoder scales each frame to the size it was configured with.
        A canvas draw would cost more: Chromium keeps what it converts each decoded frame
        into (an RGB picture, ~0.9 MB at 640x360), up to ~800 MiB for a long input."""
        if not geometry.changes_pixels:
            return None
        return cls(geometry, (track.width, track.height))

    def apply(self, frame: Any, timestamp: int, duration: int) -> Any:
        """A new frame with the pixels changed, shown at ``timestamp`` for ``duration``."""
        ctx = self.context
        drawn_w, drawn_h = (
            (self.height, self.width) if self.rotation in (90, 270) else (self.width, self.height)
        )
        crop = self.crop
        ctx.save()
        ctx.translate(self.width / 2, self.height / 2)
        ctx.rotate(self.rotation * math.pi / 180)
        ctx.drawImage(frame, crop.left, crop.top, crop.width, crop.height,
                      -drawn_w / 2, -drawn_h / 2, drawn_w, drawn_h)  # fmt: skip
        ctx.restore()
        init = {"timestamp": timestamp, "duration": duration}
        return js.VideoFrame.new(self.canvas, js_object(init))
