"""What we ask the browser's encoders for: codec strings, defaults and bitrates.

Targets are named like the rest of the model (ffprobe names: ``vp8``, ``vp9``, ``av1``,
``h264``, ``opus``, ``aac``…); this module turns them into WebCodecs encoder configs. Levels
are chosen from the picture size, because a level too low for the frame size makes some
encoders refuse the config.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import OptionError

#: Default output codecs per container, best first; the first the browser can encode wins.
DEFAULT_VIDEO_CODECS: dict[str, tuple[str, ...]] = {
    "webm": ("vp8", "vp9", "av1"),
    "mkv": ("vp8", "vp9", "h264", "av1"),
    "mp4": ("h264", "vp9", "av1"),
    "wav": (),
}
DEFAULT_AUDIO_CODECS: dict[str, tuple[str, ...]] = {
    "webm": ("opus",),
    "mkv": ("opus", "aac"),
    "mp4": ("aac", "opus"),
    "wav": ("pcm_s16le",),
    "ogg": ("opus",),
}

VIDEO_ENCODERS = frozenset({"vp8", "vp9", "av1", "h264", "hevc"})
#: PCM is written by the engine itself from the decoded samples (WebCodecs has no PCM
#: encoder), so there is no browser encoder to ask about these.
PCM_ENCODERS = frozenset({"pcm_u8", "pcm_s16le", "pcm_s32le", "pcm_f32le"})
AUDIO_ENCODERS = frozenset({"opus", "aac", "flac"}) | PCM_ENCODERS

# (max luma samples per picture, level) from each codec's level table.
_VP9_LEVELS = ((36864, 10), (122880, 20), (245760, 21), (552960, 30), (983040, 31),
               (2228224, 40), (8912896, 50), (35651584, 60))  # fmt: skip
_AV1_LEVELS = ((147456, 0), (278784, 1), (665856, 4), (1065024, 5), (2359296, 8),
               (8912896, 12), (35651584, 16))  # fmt: skip
# H.264 Table A-1: max frame size in 16x16 macroblocks.
_AVC_LEVELS = ((396, 0x15), (792, 0x16), (1620, 0x1E), (3600, 0x1F), (5120, 0x20),
               (8192, 0x28), (8704, 0x2A), (22080, 0x32), (36864, 0x33),
               (139264, 0x3C))  # fmt: skip


def _level(table: tuple[tuple[int, int], ...], size: int) -> int:
    for limit, level in table:
        if size <= limit:
            return level
    return table[-1][1]


def video_encoder_codec_string(codec: str, width: int, height: int) -> str:
    """The WebCodecs ``codec`` for a video encoder config."""
    pixels = width * height
    if codec == "vp8":
        return "vp8"
    if codec == "vp9":
        return f"vp09.00.{_level(_VP9_LEVELS, pixels):02d}.08"
    if codec == "av1":
        return f"av01.0.{_level(_AV1_LEVELS, pixels):02d}M.08"
    if codec == "h264":
        macroblocks = ((width + 15) // 16) * ((height + 15) // 16)
        return f"avc1.4200{_level(_AVC_LEVELS, macroblocks):02x}"
    if codec == "hevc":
        return "hvc1.1.6.L123.B0"
    raise ValueError(f"no video encoder for {codec}")


def audio_encoder_codec_string(codec: str) -> str:
    """The WebCodecs ``codec`` for an audio encoder config."""
    strings = {"opus": "opus", "aac": "mp4a.40.2", "flac": "flac"}
    if codec not in strings:
        raise ValueError(f"no audio encoder for {codec}")
    return strings[codec]


#: Bits per pixel per frame for each ``quality``: the bitrate then grows with the picture
#: size and the frame rate, so "high" means the same detail at 360p and at 1080p.
QUALITY_BITS_PER_PIXEL = {"low": 0.03, "medium": 0.08, "high": 0.15, "very-high": 0.3}
HARDWARE_ACCELERATION = ("no-preference", "prefer-hardware", "prefer-software")
LATENCY_MODES = ("quality", "realtime")


@dataclass(frozen=True)
class EncoderSettings:
    """What the caller asks of the encoders, the same for every re-encoded track: an
    explicit bitrate (bits/s) wins over ``quality``; ``keyframe_interval`` in seconds."""

    video_bitrate: int | None = None
    audio_bitrate: int | None = None
    quality: str = "medium"
    keyframe_interval: float = 2.0
    hardware_acceleration: str = "no-preference"
    latency_mode: str = "quality"

    def __post_init__(self) -> None:
        for name in ("video_bitrate", "audio_bitrate"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or value <= 0):  # fmt: skip
                raise OptionError(f"{name} must be a whole number of bits/s > 0, got {value!r}")
        _one_of("quality", self.quality, tuple(QUALITY_BITS_PER_PIXEL))
        _one_of("hardware_acceleration", self.hardware_acceleration, HARDWARE_ACCELERATION)
        _one_of("latency_mode", self.latency_mode, LATENCY_MODES)
        interval = self.keyframe_interval
        if (
            isinstance(interval, bool)
            or not isinstance(interval, int | float)
            or not (0 < interval < 1e6)
        ):
            raise OptionError(f"keyframe_interval must be seconds > 0, got {interval!r}")


def _one_of(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise OptionError(f"{name} must be one of {', '.join(choices)}, got {value!r}")


DEFAULT_SETTINGS = EncoderSettings()


def video_encoder_config(
    codec: str,
    width: int,
    height: int,
    frame_rate: float | None,
    settings: EncoderSettings = DEFAULT_SETTINGS,
) -> dict[str, Any]:
    """The ``VideoEncoder`` config for ``codec`` at this size and (output) frame rate:
    what the capability probe asks about is what the encoder is later configured with, so
    a yes means yes."""
    config: dict[str, Any] = {
        "codec": video_encoder_codec_string(codec, width, height),
        "width": width,
        "height": height,
        "bitrate": settings.video_bitrate
        or video_bitrate(width, height, frame_rate, settings.quality),
        "latencyMode": settings.latency_mode,
    }
    if settings.hardware_acceleration != "no-preference":
        config["hardwareAcceleration"] = settings.hardware_acceleration
    if frame_rate:
        config["framerate"] = frame_rate
    if codec == "h264":
        config["avc"] = {"format": "avc"}
    return config


def audio_encoder_config(
    codec: str, sample_rate: int, channels: int, settings: EncoderSettings = DEFAULT_SETTINGS
) -> dict[str, Any]:
    """The ``AudioEncoder`` config for ``codec`` at this sample rate and channel count."""
    return {
        "codec": audio_encoder_codec_string(codec),
        "sampleRate": sample_rate,
        "numberOfChannels": channels,
        "bitrate": settings.audio_bitrate or audio_bitrate(channels),
    }


def video_bitrate(
    width: int, height: int, frame_rate: float | None, quality: str = "medium"
) -> int:
    """A bitrate that keeps the same detail at any size and frame rate: ``quality``'s bits
    per pixel per frame (0.08 for "medium")."""
    fps = frame_rate if frame_rate and 1 <= frame_rate <= 240 else 30.0
    bits = QUALITY_BITS_PER_PIXEL[quality]
    return max(200_000, min(int(width * height * fps * bits), 40_000_000))


def audio_bitrate(channels: int) -> int:
    return 64_000 * max(1, min(channels, 8))
