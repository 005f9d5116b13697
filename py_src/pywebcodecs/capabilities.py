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
    ``codecs`` (in preference order) at the output ``size`` and ``frame_rate`` (video) or
    ``sample_rate`` and ``channels`` (audio), None keeping the track's, with the caller's
    encoder ``settings``. The encoders are asked about the shape the output will have, so
    that a shape they refuse is refused by the plan, naming the file and the track."""

    track: Track
    codecs: tuple[str, ...]
    size: tuple[int, int] | None = None
    settings: EncoderSettings = DEFAULT_SETTINGS
    frame_rate: float | None = None
    sample_rate: int | None = None
    channels: int | None = None

    def audio_shape(self) -> tuple[int, int]:
        """The sample rate and channel count the audio encoders are asked about."""
        track = self.track
        assert isinstance(track, AudioTrack)
        return self.sample_rate or track.sample_rate, self.channels or track.channels


@dataclass(frozen=True)
class EncoderCheck:
    """The encoder of ``codec``'s answer for one track's output size, or its output
    sample rate and channels (``sample_rate``/``channels``: the shape asked about, None
    where it is the track's own)."""

    codec: str
    supported: bool
    #: When refused: the most channels it took at the asked sample rate (fewer than asked),
    #: i.e. the channel count is the cause.
    max_channels: int | None = None
    #: When refused: it took the asked channel count at 48 kHz, so the rate is the cause.
    rate_refused: bool = False
    sample_rate: int | None = None
    channels: int | None = None

    def refusal(self, track: Track, size: tuple[int, int] | None) -> str:
        """Why the encoder says no, in words that name the limit that was hit."""
        if isinstance(track, AudioTrack):
            rate = self.sample_rate or track.sample_rate
            channels = self.channels or track.channels
            whose = "this track has" if channels == track.channels else "asked for"
            if self.max_channels is not None:
                return (
                    f"the browser's {self.codec} encoder takes at most {self.max_channels} "
                    f"channel{'s' if self.max_channels != 1 else ''}; {whose} {channels}"
                )
            if self.rate_refused:
                return f"the browser's {self.codec} encoder does not take {rate} Hz audio"
            return (
                f"this browser cannot encode {self.codec} audio at {rate} Hz "
                f"with {channels} channel{'s' if channels != 1 else ''}"
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
