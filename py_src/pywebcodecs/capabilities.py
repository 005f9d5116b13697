"""What this browser can do with each input track: decode it, and encode it to which codecs.

Pure data, so that the plans (:mod:`pywebcodecs.plan`) are decided and tested in CPython;
:mod:`pywebcodecs.browser.capabilities` fills it from WebCodecs' ``isConfigSupported``
answers. A refusal keeps *why* the browser said no (the decoder, the encoder, or only
the track's channel count or sample rate), because an error must name the real cause: a
track that cannot be decoded is not helped by choosing another encoder, and a 6-channel
track is not helped by another browser.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .encoding import DEFAULT_SETTINGS, EncoderSettings
from .track import AudioTrack, Track, VideoTrack


@dataclass(frozen=True)
class ProbeRequest:
    """What a plan may need to know about one track: its decoder, and the encoders of
    ``codecs`` (in preference order) at the output ``size`` and ``frame_rate`` (video;
    None keeps the track's) with the caller's encoder ``settings``."""

    track: Track
    codecs: tuple[str, ...]
    size: tuple[int, int] | None = None
    settings: EncoderSettings = DEFAULT_SETTINGS
    frame_rate: float | None = None


@dataclass(frozen=True)
class EncoderCheck:
    """The encoder of ``codec``'s answer for one track's size, sample rate and channels."""

    codec: str
    supported: bool
    #: When refused: the most channels it took at the track's sample rate (fewer than the
    #: track has), i.e. the channel count is the cause.
    max_channels: int | None = None
    #: When refused: it took the track's channel count at 48 kHz, so the rate is the cause.
    rate_refused: bool = False

    def refusal(self, track: Track, size: tuple[int, int] | None) -> str:
        """Why the encoder says no, in words that name the limit that was hit."""
        if isinstance(track, AudioTrack):
            if self.max_channels is not None:
                return (
                    f"the browser's {self.codec} encoder takes at most {self.max_channels} "
                    f"channel{'s' if self.max_channels != 1 else ''}; "
                    f"this track has {track.channels}"
                )
            if self.rate_refused:
                return (
                    f"the browser's {self.codec} encoder does not take {track.sample_rate} Hz audio"
                )
            return (
                f"this browser cannot encode {self.codec} audio at {track.sample_rate} Hz "
                f"with {track.channels} channels"
            )
        assert isinstance(track, VideoTrack)
        width, height = size or (track.width, track.height)
        return f"this browser cannot encode {self.codec} video at {width}x{height}"


@dataclass(frozen=True)
class Capabilities:
    """The browser's answers for one track. The default (nothing probed: CPython, or a
    track that is only copied or dropped) assumes yes; the stage that would re-encode
    then says why it cannot."""

    decodable: bool = True
    encoders: Mapping[str, EncoderCheck] = field(default_factory=dict)

    def can_encode(self, codec: str) -> bool:
        check = self.encoders.get(codec)
        return check is None or check.supported

    def refusal(self, codec: str, track: Track, size: tuple[int, int] | None) -> str:
        check = self.encoders.get(codec) or EncoderCheck(codec, False)
        return check.refusal(track, size)


def decoder_config(track: Track) -> dict[str, Any]:
    """The WebCodecs decoder config for ``track`` (``description`` as bytes)."""
    config: dict[str, Any] = {"codec": track.codec_string}
    if isinstance(track, VideoTrack):
        config.update(codedWidth=track.width, codedHeight=track.height)
    elif isinstance(track, AudioTrack):
        config.update(sampleRate=track.sample_rate, numberOfChannels=track.channels)
    if track.description:
        config["description"] = track.description
    return config
