"""Deciding, per input track, whether the conversion copies it, re-encodes it or drops it.

Pure logic, testable in CPython. The rules a user can predict:

- an explicit ``"drop"`` drops, ``"copy"`` copies (or fails, naming codec and container,
  when the output cannot hold the codec), a codec name re-encodes to that codec;
- with no choice, a track is copied when the output container can hold its codec and no
  pixel change (rotate, resize) is asked for; otherwise it is re-encoded to the container's
  first default codec that this browser can encode;
- with no choice, a track of a kind the output cannot hold at all (video into WAV) is
  dropped *with a note* on the result, not refused: asking for an audio-only container is
  the user's evident intent to keep only the audio. Naming a codec or ``"copy"`` for such a
  track is a request that cannot be met, so it is an error.

Every plan carries a ``note`` that says what happens to the track (copied, re-encoded from
X to Y and why, dropped and why); the conversion's result lists them. Every refusal is an
:class:`UnsupportedError` naming the file, the track, its codec and the cause: the browser
cannot decode it, cannot encode it (or not with its channel count or sample rate), the
container cannot hold the codec, or the codec asked for is unknown.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from .audio_plan import AudioRemix, changes_audio, mix_refusal, plan_remix, remix_refusal
from .capabilities import Capabilities, ProbeRequest
from .encoding import (
    AUDIO_ENCODERS,
    DEFAULT_AUDIO_CODECS,
    DEFAULT_SETTINGS,
    DEFAULT_VIDEO_CODECS,
    VIDEO_ENCODERS,
    EncoderSettings,
)
from .errors import OptionError, UnsupportedError
from .formats import MUXERS
from .frame_plan import Crop, Geometry, Resize, TrimWindow, video_geometry
from .muxer import Muxer
from .track import AudioTrack, Track, VideoTrack

Action = Literal["copy", "reencode", "drop"]

_PIXEL_OPTIONS = "rotate, resize, crop and frame_rate"
_SAMPLE_OPTIONS = "sample_rate and channels"


@dataclass(frozen=True)
class TrackPlan:
    track: Track
    action: Action
    codec: str | None = None  # the output codec: the input's for copy, the target for reencode
    rotation: int = 0  # clockwise degrees baked into the pixels (re-encoded video)
    size: tuple[int, int] | None = None  # output frame size (re-encoded video)
    note: str = ""  # what happens to the track and why, in words for the result
    crop: Crop | None = None  # of the decoded picture, before rotation (re-encoded video)
    frame_rate: float | None = None  # constant output rate (re-encoded video); None keeps
    trim: TrimWindow | None = None  # the part of the input kept (every kept track)
    settings: EncoderSettings = DEFAULT_SETTINGS  # bitrate, quality, key frames (re-encode)
    audio: AudioRemix | None = None  # output rate, channels and mix (re-encoded audio)
    warning: str = ""  # what the output loses of the track (its alpha), naming file and track


@dataclass(frozen=True)
class _Reencode:
    """A decision to re-encode, to the first of ``codecs`` the browser can encode."""

    codecs: tuple[str, ...]
    why: str
    rotation: int = 0
    size: tuple[int, int] | None = None
    crop: Crop | None = None


#: A user's choice for one track: None (decide for me), "copy", "drop" or a codec name.
TrackChoice = str | None


@dataclass(frozen=True)
class Target:
    """What the output is asked to be, the same for every track: the container, the pixel
    and time changes, the encoder settings, and ``source``, the input's name that errors
    start with."""

    muxer: type[Muxer]
    source: str = "input"
    rotate: int = 0
    resize: Resize | None = None
    crop: Crop | None = None
    frame_rate: float | None = None
    trim: TrimWindow | None = None
    settings: EncoderSettings = DEFAULT_SETTINGS
    sample_rate: int | None = None  # audio; None keeps each track's
    channels: int | None = None

    @property
    def changes_pixels(self) -> bool:
        """Whether video must be decoded and encoded again to meet this target (a trim
        alone does not: copied video is cut at key frames)."""
        return bool(self.rotate or self.resize or self.crop or self.frame_rate)


def plan_track(
    track: Track, target: Target, choice: TrackChoice, capabilities: Capabilities | None = None
) -> TrackPlan:
    """The plan for one track; raises :class:`UnsupportedError` for impossible requests.

    ``capabilities`` are the browser's answers for this track (see :func:`probe_request`),
    None when nothing was probed.
    """
    decision = _decide(track, target, choice)
    if isinstance(decision, TrackPlan):
        return _alpha_kept_or_warned(replace(decision, trim=target.trim), target)
    source = target.source
    caps = capabilities or Capabilities()
    if not caps.decodable:
        raise _refusal(
            track, source, f"this browser cannot decode {track.codec} {track.kind} "
            f"({track.codec_string}); {_keep_hint(track.codec)}"
        )  # fmt: skip
    if isinstance(track, AudioTrack):  # a remix may serve where the track as it is cannot
        usable = [codec for codec in decision.codecs if _remix(track, target, caps, codec)]
    else:
        usable = [codec for codec in decision.codecs if caps.can_encode(codec)]
    if not usable:
        causes = [_encoder_refusal(track, caps, codec, decision.size) for codec in decision.codecs]
        if len(causes) > 1:
            container = target.muxer.format_name.upper()
            causes.insert(0, f"no {track.kind} codec a {container} file holds can be encoded "
                             "here")  # fmt: skip
        raise _refusal(track, source, "; ".join(causes))
    codec = usable[0]
    is_video = isinstance(track, VideoTrack)
    note = f"re-encoded from {track.codec} to {codec} ({decision.why})"
    remix = None
    if isinstance(track, AudioTrack):
        remix = _remix(track, target, caps, codec)
        assert remix is not None  # usable
        note += f"; {remix.note}" if remix.note else ""
    plan = TrackPlan(
        track, "reencode", codec, decision.rotation, decision.size, note=note,
        crop=decision.crop, frame_rate=target.frame_rate if is_video else None,
        trim=target.trim, settings=target.settings, audio=remix,
    )  # fmt: skip
    return _alpha_kept_or_warned(plan, target)


def _alpha_kept_or_warned(plan: TrackPlan, target: Target) -> TrackPlan:
    """A video's alpha channel survives only a copy into a container that stores it
    (WebM/MKV). Elsewhere the picture is still worth having (refusing would make every
    canvas recording unconvertible), so the loss is a note and a warning, never silent."""
    track = plan.track
    if not isinstance(track, VideoTrack) or not track.alpha or plan.action == "drop":
        return plan
    if plan.action == "copy" and target.muxer.keeps_alpha:
        return plan
    why = (
        "the re-encoded video has none" if plan.action == "reencode"
        else f"{target.muxer.format_name.upper()} cannot hold it"
    )  # fmt: skip
    lost = f"its alpha channel (transparency) was dropped: {why}"
    warning = _about(track, target.source, lost)
    return replace(plan, note=f"{plan.note}; {lost}", warning=warning)


def probe_request(track: Track, target: Target, choice: TrackChoice) -> ProbeRequest | None:
    """What the browser must be asked before :func:`plan_track` can decide this track:
    None when the track is copied or dropped (nothing to probe)."""
    decision = _decide(track, target, choice)
    if isinstance(decision, TrackPlan):
        return None
    if isinstance(track, AudioTrack):  # the encoders are asked about the output's shape
        return ProbeRequest(track, decision.codecs, settings=target.settings,
                            sample_rate=target.sample_rate, channels=target.channels)  # fmt: skip
    return ProbeRequest(track, decision.codecs, decision.size, target.settings, target.frame_rate)


def _decide(track: Track, target: Target, choice: TrackChoice) -> TrackPlan | _Reencode:
    """Everything that needs no browser: copy, drop, or which codecs a re-encode may use."""
    muxer, source = target.muxer, target.source
    container = muxer.format_name.upper()
    is_video = isinstance(track, VideoTrack)
    defaults = (DEFAULT_VIDEO_CODECS if is_video else DEFAULT_AUDIO_CODECS).get(
        muxer.format_name, ()
    )
    encoders = VIDEO_ENCODERS if is_video else AUDIO_ENCODERS
    if isinstance(track, AudioTrack):
        transform = changes_audio(track, target.sample_rate, target.channels)
        cannot_mix = mix_refusal(track, target.channels)
        if cannot_mix and choice != "drop":
            raise _refusal(track, source, cannot_mix)
    else:
        transform = target.changes_pixels
    changed = _PIXEL_OPTIONS if is_video else _SAMPLE_OPTIONS
    if choice == "drop":
        return TrackPlan(track, "drop", note="dropped by choice")
    if choice == "copy":
        _check_holds(track, muxer, track.codec, source)
        if transform:
            raise _refusal(
                track, source, f"{changed} change the {'pixels' if is_video else 'samples'}, "
                f"so the {track.kind} cannot be copied; choose a codec to re-encode to",
            )  # fmt: skip
        return TrackPlan(track, "copy", track.codec, note=f"copied ({track.codec})")
    if choice is None:
        if not defaults and track.codec not in muxer.codecs:
            return TrackPlan(track, "drop", note=f"dropped: a {container} file holds no "
                                                 f"{track.kind}")  # fmt: skip
        if track.codec in muxer.codecs and not transform:
            return TrackPlan(track, "copy", track.codec, note=f"copied ({track.codec})")
        codecs = defaults
        why = (
            f"{changed} change the {'pixels' if is_video else 'samples'}"
            if track.codec in muxer.codecs
            else f"a {container} file cannot hold {track.codec}"
        )
    else:
        if choice not in encoders:
            raise _refusal(
                track, source, f"unknown {track.kind} codec {choice!r}; "
                f"choose one of copy, drop, {', '.join(sorted(encoders))}",
            )  # fmt: skip
        _check_holds(track, muxer, choice, source)
        codecs, why = (choice,), "chosen"
    if not is_video:
        return _Reencode(codecs, why)
    assert isinstance(track, VideoTrack)
    try:
        geometry: Geometry = video_geometry(track, target.rotate, target.crop, target.resize)
    except OptionError as exc:
        raise _refusal(track, source, str(exc)) from None
    return _Reencode(codecs, why, geometry.rotation, geometry.size, geometry.crop)


def _remix(track: AudioTrack, target: Target, caps: Capabilities, codec: str) -> AudioRemix | None:
    return plan_remix(track, target.sample_rate, target.channels, caps.encoders.get(codec))


def _encoder_refusal(
    track: Track, caps: Capabilities, codec: str, size: tuple[int, int] | None
) -> str:
    check = caps.encoders.get(codec)
    if isinstance(track, AudioTrack) and check is not None and not check.supported:
        return remix_refusal(track, check)
    return caps.refusal(codec, track, size)


def _check_holds(track: Track, muxer: type[Muxer], codec: str, source: str) -> None:
    try:
        muxer.check_codec(codec)
    except UnsupportedError as exc:
        raise _refusal(track, source, str(exc)) from None


def _keep_hint(codec: str) -> str:
    """What the user can do with a track this browser cannot decode: copy it where it fits."""
    holders = [name.upper() for name, muxer in MUXERS.items() if codec in muxer.codecs]
    if not holders:
        return "drop it"
    return f"copy it into {' or '.join(holders)}, or drop it"


def _refusal(track: Track, source: str, cause: str) -> UnsupportedError:
    return UnsupportedError(_about(track, source, cause))


def _about(track: Track, source: str, what: str) -> str:
    """A refusal's or warning's words: the file, the track and its codec, then ``what``."""
    return f"{source}: track {track.id} ({track.codec} {track.kind}): {what}"
