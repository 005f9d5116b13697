"""What happens to each decoded video frame: its pixels (crop → rotate → resize) and its
time (trim window, constant output frame rate, which frames are key frames).

Pure Python, so that every rule is tested in CPython; the browser layer
(:mod:`pywebcodecs.browser.transcode.video_session`) only carries the answers out on
``VideoFrame`` objects, which never enter Python as pixels.

Timing works on a held frame: a frame is shown from its timestamp until the next frame's,
so only when the next one arrives is it known which output slots it fills. Without a
frame rate a frame fills one slot (its interval cut to the trim window); with one, the
output is a constant grid of slots and each slot shows the frame on screen at that time
(dropping frames between slots, repeating a frame that spans several).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from .errors import OptionError
from .track import MICROSECONDS, VideoTrack

#: Timestamps stored in whole milliseconds (Matroska) or rounded from another timescale
#: may sit up to this much (µs) after the slot they belong to.
SLOT_TOLERANCE_US = 1000


def even(value: float) -> int:
    """The nearest even size, at least 2: encoders want even sizes for 4:2:0 chroma."""
    return max(2, round(value / 2) * 2)


@dataclass(frozen=True)
class Resize:
    """Output frame size; a ``None`` side follows the other one's scale."""

    width: int | None = None
    height: int | None = None

    def apply(self, width: int, height: int) -> tuple[int, int]:
        if self.width and self.height:
            return even(self.width), even(self.height)
        if self.width:
            return even(self.width), even(height * self.width / width)
        if self.height:
            return even(width * self.height / height), even(self.height)
        return width, height


@dataclass(frozen=True)
class Crop:
    """A rectangle of the decoded picture, in its stored pixels (before any rotation)."""

    left: int
    top: int
    width: int
    height: int

    def fitted(self, width: int, height: int) -> Crop:
        """This rectangle on an even grid (4:2:0 chroma covers 2x2 pixels), checked to lie
        inside a ``width`` x ``height`` picture. The browser needs even ``left`` and ``top``
        for a crop made as a ``VideoFrame``'s ``visibleRect`` (a 4:2:0 frame cannot start
        between two chroma samples), and encoders want even sizes: each edge moves to the
        even pixel line at or before it, so an odd rectangle shifts by at most one pixel
        left or up (and keeps at least 2x2)."""
        if min(self.left, self.top) < 0 or min(self.width, self.height) <= 0:
            raise OptionError(f"crop {self.shown()} must have left, top >= 0 and a size > 0")
        if self.left + self.width > width or self.top + self.height > height:
            raise OptionError(f"crop {self.shown()} reaches outside the {width}x{height} picture")
        left, top = self.left // 2 * 2, self.top // 2 * 2
        right = min(width, left + max(2, (self.left + self.width - left) // 2 * 2))
        bottom = min(height, top + max(2, (self.top + self.height - top) // 2 * 2))
        return Crop(left, top, right - left, bottom - top)

    def shown(self) -> str:
        return f"({self.left}, {self.top}, {self.width}, {self.height})"


@dataclass(frozen=True)
class Geometry:
    """Crop, then rotate (clockwise), then scale to ``size`` (the encoder's part)."""

    crop: Crop | None
    rotation: int
    size: tuple[int, int]

    @property
    def changes_pixels(self) -> bool:
        return self.crop is not None or self.rotation != 0


def video_geometry(
    track: VideoTrack, rotate: int, crop: Crop | None, resize: Resize | None
) -> Geometry:
    """The output picture for ``track``: the input's own rotation plus ``rotate`` is baked
    into the pixels; sizes are even; raises :class:`OptionError` for an impossible ask."""
    rotation = (track.rotation + rotate) % 360
    if rotation % 90:
        raise OptionError(f"rotate must be a multiple of 90 degrees, got {rotate}")
    fitted = crop.fitted(track.width, track.height) if crop is not None else None
    width, height = (fitted.width, fitted.height) if fitted else (track.width, track.height)
    if rotation in (90, 270):
        width, height = height, width
    if resize is not None or fitted is not None:
        width, height = (resize or Resize()).apply(width, height)
        width, height = even(width), even(height)
    return Geometry(fitted, rotation, (width, height))


@dataclass(frozen=True)
class TrimWindow:
    """The part of the input to keep, in seconds; ``None`` is the input's start or end."""

    start: float | None = None
    end: float | None = None

    def __post_init__(self) -> None:
        for name, value in (("start", self.start), ("end", self.end)):
            if value is not None and (not math.isfinite(value) or value < 0):
                raise OptionError(f"trim {name} must be a time in seconds >= 0, got {value}")
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise OptionError(f"trim end ({self.end} s) must come after its start ({self.start} s)")

    def start_in(self, timescale: int) -> int | None:
        return None if self.start is None else round(self.start * timescale)

    def end_in(self, timescale: int) -> int | None:
        return None if self.end is None else round(self.end * timescale)


@dataclass(frozen=True)
class Slot:
    """One output frame: the held input frame shown at ``timestamp`` for ``duration`` (µs)."""

    timestamp: int
    duration: int


class FrameTimeline:
    """Which output frames each decoded frame becomes (timestamps in µs, presentation
    order). Output times are measured from the trim start (so the output starts at 0), or
    kept as they are when there is no trim start."""

    def __init__(self, trim: TrimWindow | None = None, frame_rate: float | None = None) -> None:
        trim = trim or TrimWindow()
        self._start = trim.start_in(MICROSECONDS)
        self._end = trim.end_in(MICROSECONDS)
        if frame_rate is not None and not (math.isfinite(frame_rate) and frame_rate > 0):
            raise OptionError(f"frame_rate must be more than 0 frames per second, got {frame_rate}")
        self._period = Fraction(MICROSECONDS) / Fraction(frame_rate) if frame_rate else None
        self._origin: int | None = self._start  # where slot 0 lies (input time)
        self._next_slot = 0
        self._held: int | None = None
        self._last_interval: int | None = None

    def push(self, timestamp: int) -> list[Slot]:
        """A new frame at ``timestamp``: the slots the previously held frame fills (the
        new one is held in its place)."""
        if self._origin is None:
            self._origin = timestamp
        slots: list[Slot] = []
        if self._held is not None:
            if timestamp > self._held:
                self._last_interval = timestamp - self._held
            slots = self._slots(self._held, timestamp)
        self._held = timestamp
        return slots

    def finish(self, end: int | None = None) -> list[Slot]:
        """The slots of the last frame, shown until ``end`` (when the input says; else
        for one frame interval)."""
        if self._held is None:
            return []
        held, self._held = self._held, None
        if end is None or end <= held:
            step = self._period or self._last_interval or Fraction(MICROSECONDS, 30)
            end = held + math.ceil(step)
        return self._slots(held, end)

    def past_end(self, timestamp: int) -> bool:
        """Whether a frame at ``timestamp`` (and every later one) lies after the window."""
        return self._end is not None and timestamp >= self._end

    def _slots(self, shown: int, hidden: int) -> list[Slot]:
        low = shown if self._start is None else max(shown, self._start)
        high = hidden if self._end is None else min(hidden, self._end)
        shift = self._start or 0
        if self._period is None:
            return [Slot(low - shift, high - low)] if high > low else []
        assert self._origin is not None
        period, origin = self._period, self._origin
        first = max(self._next_slot, math.ceil((shown - SLOT_TOLERANCE_US - origin) / period))
        stop = math.ceil((hidden - SLOT_TOLERANCE_US - origin) / period)
        if self._end is not None:
            stop = min(stop, math.ceil((self._end - origin) / period))
        slots = []
        for k in range(first, stop):
            at = round(origin + k * period)
            slots.append(Slot(at - shift, round(origin + (k + 1) * period) - at))
        self._next_slot = max(self._next_slot, stop)
        return slots


class KeyframeSchedule:
    """Asks the encoder for a key frame at the first frame and then at the first frame
    ``interval`` seconds or more after the previous key frame: seeking needs them, and
    an encoder left to itself may place one only every few hundred frames."""

    def __init__(self, interval: float) -> None:
        self._interval = round(interval * MICROSECONDS)
        self._next: float = -math.inf

    def is_key(self, timestamp: int) -> bool:
        if timestamp < self._next:
            return False
        self._next = timestamp + self._interval
        return True
