"""Changes to decoded ``VideoFrame`` pixels, made on an ``OffscreenCanvas`` (stays on the
GPU or in the browser's memory; no pixels reach Python)."""

from __future__ import annotations

import math
from typing import Any

import js

from ...track import VideoTrack
from ..interop import js_object


class FrameTransform:
    """Rotation and scaling of decoded frames."""

    def __init__(self, rotation: int, width: int, height: int) -> None:
        self.rotation = rotation
        self.width = width
        self.height = height
        self.canvas = js.OffscreenCanvas.new(width, height)
        self.context = self.canvas.getContext("2d")

    @classmethod
    def needed(
        cls, track: VideoTrack, rotation: int, width: int, height: int
    ) -> FrameTransform | None:
        upright = (
            (track.height, track.width) if rotation in (90, 270) else (track.width, track.height)
        )
        if rotation == 0 and upright == (width, height):
            return None
        return cls(rotation, width, height)

    def apply(self, frame: Any) -> Any:
        ctx = self.context
        drawn_w, drawn_h = (
            (self.height, self.width) if self.rotation in (90, 270) else (self.width, self.height)
        )
        ctx.save()
        ctx.translate(self.width / 2, self.height / 2)
        ctx.rotate(self.rotation * math.pi / 180)
        ctx.drawImage(frame, -drawn_w / 2, -drawn_h / 2, drawn_w, drawn_h)
        ctx.restore()
        init = {"timestamp": frame.timestamp}
        if frame.duration is not None:
            init["duration"] = frame.duration
        return js.VideoFrame.new(self.canvas, js_object(init))
