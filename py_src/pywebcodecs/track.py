"""The track and packet model every demuxer produces and every muxer consumes.

Names follow PyAV and ffprobe where they can (``codec`` is ffprobe's ``codec_name``:
``h264``, ``aac``, ``pcm_s16le``…) and WebCodecs where the browser needs them
(``codec_string`` is what ``VideoDecoder.configure`` takes: ``avc1.64001f``,
``mp4a.40.2``, ``vp09.00.10.08``, ``pcm-s16``…). Timestamps are integers in the track's
own ``timescale`` (units per second) so that copying never rounds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal

MICROSECONDS = 1_000_000
NANOSECONDS = 1_000_000_000
#: Opus counts its pre-skip in samples at 48 kHz, whatever the input rate (RFC 7845 section 4.2).
OPUS_RATE = 48_000


@dataclass
class ColorInfo:
    """The colour description, with WebCodecs' ``VideoColorSpace`` names."""

    primaries: str | None = None  # "bt709", "bt470bg", "smpte170m", "bt2020", ...
    transfer: str | None = None  # "bt709", "smpte170m", "iec61966-2-1", "pq", "hlg", ...
    matrix: str | None = None  # "rgb", "bt709", "bt470bg", "smpte170m", "bt2020-ncl", ...
    full_range: bool | None = None


@dataclass(kw_only=True)
class Track:
    """One elementary stream of a container."""

    id: int  # the container's own number for the track (MP4 track_ID, Matroska TrackNumber)
    codec: str  # ffprobe's codec_name: "h264", "hevc", "vp9", "aac", "opus", "pcm_s16le"...
    codec_string: str  # the WebCodecs codec string; for codecs WebCodecs lacks, a best effort
    description: bytes | None = None  # decoder config: avcC, hvcC, AudioSpecificConfig, ...
    timescale: int  # units per second of this track's pts/dts/duration
    duration: int | None = None  # in timescale units, when the container says
    language: str | None = None
    name: str | None = None
    is_default: bool = True
    # Filled in by demuxers that know them without reading payload (MP4 sample tables);
    # otherwise by parse_media's scan.
    packet_count: int | None = None
    keyframe_count: int | None = None

    kind: Literal["video", "audio"] = field(init=False)

    @property
    def duration_seconds(self) -> float | None:
        return None if self.duration is None else self.duration / self.timescale

    @property
    def lead_in(self) -> int:
        """How far (in timescale units) the first packet's pts lies before where the track
        starts, because the decoder drops that much priming (Opus pre-skip) or the
        container hides it (trimmed copied video, :attr:`VideoTrack.hidden_lead_in`)."""
        return 0


@dataclass(kw_only=True)
class VideoTrack(Track):
    width: int  # coded size in pixels
    height: int
    display_width: int | None = None  # after pixel aspect ratio, before rotation
    display_height: int | None = None
    rotation: int = 0  # clockwise degrees to apply for display: 0, 90, 180 or 270
    pixel_aspect: tuple[int, int] = (1, 1)
    color: ColorInfo | None = None
    frame_rate: float | None = None  # average, when known
    #: An alpha channel beside the picture (WebM AlphaMode 1): each packet's ``alpha``.
    alpha: bool = False
    #: Copied video trimmed from the key frame before the trim's start: how long (timescale
    #: units) its frames are shown before the start, for a container that can hide them.
    hidden_lead_in: int = 0

    def __post_init__(self) -> None:
        self.kind = "video"

    @property
    def lead_in(self) -> int:
        return self.hidden_lead_in


def pixel_aspect_after(
    track: VideoTrack, region: tuple[int, int], rotation: int, size: tuple[int, int]
) -> tuple[int, int]:
    """The pixel aspect ratio of a re-encoded picture that shows ``region`` (width,
    height in ``track``'s stored pixels) turned ``rotation`` degrees, at ``size``: the
    picture keeps the shape it had on screen whatever its pixel size, as ffmpeg's scale
    filter keeps the display aspect ratio. (1, 1) for square pixels."""
    h_spacing, v_spacing = track.pixel_aspect if all(track.pixel_aspect) else (1, 1)
    shown = (region[0] * h_spacing, region[1] * v_spacing)
    if rotation % 180:
        shown = shown[1], shown[0]
    ratio = Fraction(shown[0] * size[1], shown[1] * size[0])
    return ratio.numerator, ratio.denominator


@dataclass(kw_only=True)
class AudioTrack(Track):
    sample_rate: int
    channels: int
    bits_per_sample: int | None = None  # PCM only
    #: Samples (at ``sample_rate``) a decoder drops at the start, other than Opus's
    #: pre-skip: an MP3's LAME-tag delay plus the decoder's 529. Its packets start that
    #: much before 0 (as an MP4 edit list puts AAC's priming), see :attr:`lead_in`.
    priming: int = 0

    def __post_init__(self) -> None:
        self.kind = "audio"

    @property
    def pre_skip(self) -> int:
        """Samples at 48 kHz an Opus decoder drops at the start: the encoder's priming, from
        the OpusHead (RFC 7845 section 5.1); 0 for other codecs or without an OpusHead."""
        head = self.description
        if self.codec != "opus" or not head or len(head) < 12 or not head.startswith(b"OpusHead"):
            return 0
        return int.from_bytes(head[10:12], "little")

    @property
    def skipped_samples(self) -> int:
        """What a decoder drops at the start, in samples at the rate it counts them in
        (48 kHz for Opus's pre-skip, ``sample_rate`` for :attr:`priming`)."""
        return self.pre_skip or self.priming

    @property
    def lead_in(self) -> int:
        """The pre-skip (or :attr:`priming`) in this track's timescale, rounded half up as
        ffmpeg rounds CodecDelay (so a copied Matroska track's first pts is exactly minus
        this)."""
        rate = OPUS_RATE if self.pre_skip else self.sample_rate
        return (2 * self.skipped_samples * self.timescale + rate) // (2 * rate)


@dataclass(slots=True)
class Packet:
    """One encoded frame (video) or block of samples (audio), as the container stores it.

    ``pts`` and ``dts`` are in the track's timescale and already have the container's
    timeline applied (MP4 edit lists, Matroska CodecDelay): ``pts`` is when the frame is
    shown, and it may be negative for audio priming that is meant to be cut.

    ``duration`` is the part of the packet that is presented. An audio encoder fills its
    last frame up with silence; ``discard_padding`` is how much decoded audio follows that
    end and is dropped (Matroska DiscardPadding, the Ogg last granule, an MP4 edit list
    ending early). It is in nanoseconds, as Matroska stores it, because a track counted in
    milliseconds could not hold a trim of a few samples.
    """

    track_id: int
    pts: int
    dts: int
    duration: int
    is_key: bool
    data: bytes
    discard_padding: int = 0  # ns of decoded audio after pts + duration that players drop
    #: A frame shown after a trim's end, kept only because frames shown before it need it
    #: to decode (B-frames): a container that can (an MP4 edit list) ends before it.
    hidden: bool = False
    #: The frame's alpha channel (transparency), coded apart from the picture in the same
    #: codec, as WebM stores it (BlockAdditional 1); only Matroska/WebM can keep it.
    alpha: bytes | None = None


@dataclass
class CoverImage:
    """An embedded picture (album art, thumbnail)."""

    mime_type: str
    data: bytes
    description: str = ""
