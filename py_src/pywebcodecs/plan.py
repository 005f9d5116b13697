"""Deciding, per input track, whether the conversion copies it, re-encodes it or drops it.

Pure logic, testable in CPython. The rules a user can predict:

- an explicit ``"drop"`` drops, ``"copy"`` copies (or fails, naming codec and container,
  when the output cannot hold the codec), a codec name re-encodes to that codec;
- with no choice, a track is copied when the output container can hold its codec and no
  pixel change (rotate, resize) is asked for; otherwise it is re-encoded to the container's
  first default codec that this browser can encode;
- a track of a kind the output cannot hold at all (video into WAV) is dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from .encoding import AUDIO_ENCODERS, DEFAULT_AUDIO_CODECS, DEFAULT_VIDEO_CODECS, VIDEO_ENCODERS
from .errors import UnsupportedError
from .muxer import Muxer
from .track import Track, VideoTrack

Action = Literal["copy", "reencode", "drop"]


@dataclass(frozen=True)
class Resize:
    """Output frame size; a ``None`` side follows the other one's scale."""

    width: int | None = None
    height: int | None = None

    def apply(self, width: int, height: int) -> tuple[int, int]:
        if self.width and self.height:
            return _even(self.width), _even(self.height)
        if self.width:
            return _even(self.width), _even(height * self.width / width)
        if self.height:
            return _even(width * self.height / height), _even(self.height)
        return width, height


def _even(value: float) -> int:
    """Encoders want even sizes for 4:2:0 chroma."""
    return max(2, round(value / 2) * 2)


@dataclass(frozen=True)
class TrackPlan:
    track: Track
    action: Action
    codec: str | None = None  # the output codec: the input's for copy, the target for reencode
    rotation: int = 0  # clockwise degrees baked into the pixels (re-encoded video)
    size: tuple[int, int] | None = None  # output frame size (re-encoded video)


#: A user's choice for one track: None (decide for me), "copy", "drop" or a codec name.
TrackChoice = str | None


def plan_track(
    track: Track,
    muxer: type[Muxer],
    choice: TrackChoice,
    *,
    rotate: int = 0,
    resize: Resize | None = None,
    can_encode: Callable[[str], bool] = lambda codec: True,
) -> TrackPlan:
    """The plan for one track; raises :class:`UnsupportedError` for impossible requests."""
    container = muxer.format_name
    is_video = isinstance(track, VideoTrack)
    defaults = (DEFAULT_VIDEO_CODECS if is_video else DEFAULT_AUDIO_CODECS).get(container, ())
    encoders = VIDEO_ENCODERS if is_video else AUDIO_ENCODERS
    kind = "video" if is_video else "audio"
    if choice == "drop":
        return TrackPlan(track, "drop")
    if choice == "copy":
        muxer.check_codec(track.codec)
        if is_video and (rotate or resize):
            raise UnsupportedError(
                "rotate and resize change the pixels, so the video cannot be copied; "
                "choose a video codec to re-encode to"
            )
        return TrackPlan(track, "copy", track.codec)
    if choice is None:
        if not defaults and not muxer.codecs & {track.codec}:
            return TrackPlan(track, "drop")
        transform = is_video and bool(rotate or resize)
        if track.codec in muxer.codecs and not transform:
            return TrackPlan(track, "copy", track.codec)
        usable = [codec for codec in defaults if can_encode(codec)]
        if not usable:
            raise UnsupportedError(
                f"this browser cannot encode any {kind} codec a {container.upper()} file holds "
                f"(tried {', '.join(defaults) or 'none'})"
            )
        choice = usable[0]
    if choice not in encoders:
        raise UnsupportedError(
            f"unknown {kind} codec {choice!r}; "
            f"choose one of copy, drop, {', '.join(sorted(encoders))}"
        )
    muxer.check_codec(choice)
    if not is_video:
        return TrackPlan(track, "reencode", choice)
    assert isinstance(track, VideoTrack)
    rotation = (track.rotation + rotate) % 360
    if rotation % 90:
        raise UnsupportedError(f"rotate must be a multiple of 90 degrees, got {rotate}")
    width, height = (
        (track.height, track.width) if rotation in (90, 270) else (track.width, track.height)
    )
    size = (resize or Resize()).apply(width, height)
    return TrackPlan(track, "reencode", choice, rotation=rotation, size=size)
