"""AVI stream headers: ``strh`` (AVISTREAMHEADER) and ``strf`` (BITMAPINFOHEADER for video,
WAVEFORMATEX for audio), as Microsoft's AVI RIFF reference describes them, mapped to
ffprobe's codec names and WebCodecs codec strings."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from math import gcd

from ..codec_data import aac_codec_string
from ..errors import FormatError

#: BITMAPINFOHEADER biCompression fourccs → ffprobe codec names.
VIDEO_FOURCCS = {
    **dict.fromkeys(("H264", "h264", "X264", "x264", "avc1", "AVC1", "DAVC"), "h264"),
    **dict.fromkeys(("HEVC", "hevc", "H265", "h265", "hvc1", "HVC1"), "hevc"),
    **dict.fromkeys(("MJPG", "mjpg", "AVRn", "LJPG", "JPGL"), "mjpeg"),
    **dict.fromkeys(("XVID", "xvid", "DIVX", "divx", "DX50", "FMP4", "fmp4", "MP4V"), "mpeg4"),
    "VP80": "vp8",
    "VP90": "vp9",
}

_VIDEO_CODEC_STRINGS = {"mjpeg": "mjpeg", "mpeg4": "mp4v.20.9", "vp8": "vp8"}

#: WAVEFORMATEX wFormatTag values that are not plain PCM.
_AUDIO_TAGS = {
    0x0006: ("pcm_alaw", "alaw"),
    0x0007: ("pcm_mulaw", "ulaw"),
    0x0050: ("mp2", "mp4a.69"),
    0x0055: ("mp3", "mp3"),
    0x2000: ("ac3", "ac-3"),
}
_PCM_INT = {8: ("pcm_u8", "pcm-u8"), 16: ("pcm_s16le", "pcm-s16"),
            24: ("pcm_s24le", "pcm-s24"), 32: ("pcm_s32le", "pcm-s32")}  # fmt: skip
_PCM_FLOAT = {32: ("pcm_f32le", "pcm-f32"), 64: ("pcm_f64le", "pcm-f64")}
_EXTENSIBLE = 0xFFFE
_AAC = 0x00FF


@dataclass(frozen=True)
class Timing:
    """How a stream's chunks map to time (strh dwScale/dwRate/dwSampleSize)."""

    timescale: int  # rate / gcd(scale, rate): ffprobe's time_base denominator
    step: int  # scale / gcd: timescale units per chunk (or per sample_size bytes)
    sample_size: int  # dwSampleSize: 0 when one chunk is one frame
    length: int  # dwLength, in chunks or samples


@dataclass
class StreamFormat:
    """One ``strl``: what the stream holds and how its chunks are timed."""

    kind: str  # "video", "audio" or another strh fccType ("txts", "mids")
    codec: str
    codec_string: str
    description: bytes | None
    timing: Timing
    width: int = 0
    height: int = 0
    sample_rate: int = 0
    channels: int = 0
    bits_per_sample: int | None = None
    fourcc: str = ""


def parse_strh(data: bytes) -> tuple[str, int, int, int, int]:
    """(fccType, dwScale, dwRate, dwLength, dwSampleSize) of an AVISTREAMHEADER."""
    if len(data) < 48:
        raise FormatError(f"strh chunk holds {len(data)} bytes, an AVISTREAMHEADER needs 48")
    kind = data[0:4].decode("latin-1")
    scale, rate, _start, length = struct.unpack_from("<4I", data, 20)
    sample_size = struct.unpack_from("<I", data, 44)[0]
    return kind, scale, rate, length, sample_size


def stream_format(strh: bytes, strf: bytes) -> StreamFormat:
    """The stream described by a ``strh`` and its ``strf``."""
    kind, scale, rate, length, sample_size = parse_strh(strh)
    if not scale or not rate:
        raise FormatError(f"strh of a {kind!r} stream has dwScale {scale} / dwRate {rate}")
    common = gcd(scale, rate)
    timing = Timing(rate // common, scale // common, sample_size, length)
    if kind == "vids":
        return _video(strf, timing)
    if kind == "auds":
        return _audio(strf, timing)
    return StreamFormat(kind, "unknown", kind, None, timing)


def _video(strf: bytes, timing: Timing) -> StreamFormat:
    if len(strf) < 40:
        raise FormatError(f"video strf holds {len(strf)} bytes, a BITMAPINFOHEADER needs 40")
    width, height = struct.unpack_from("<ii", strf, 4)
    compression = strf[16:20]
    fourcc = compression.decode("latin-1")
    if compression in (b"\x00\x00\x00\x00", b"DIB "):
        codec = "rawvideo"
    else:
        codec = VIDEO_FOURCCS.get(fourcc, "unknown")
    codec_string = _VIDEO_CODEC_STRINGS.get(codec, fourcc if codec == "unknown" else codec)
    return StreamFormat("video", codec, codec_string, None, timing, width=width,
                        height=abs(height), fourcc=fourcc)  # fmt: skip


def _audio(strf: bytes, timing: Timing) -> StreamFormat:
    if len(strf) < 16:
        raise FormatError(f"audio strf holds {len(strf)} bytes, a WAVEFORMATEX needs 16")
    tag, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", strf)
    extra = b""
    if len(strf) >= 18:
        extra_size = struct.unpack_from("<H", strf, 16)[0]
        extra = strf[18 : 18 + extra_size]
    if tag == _EXTENSIBLE and len(extra) >= 8:
        tag = struct.unpack_from("<H", extra, 6)[0]  # first two bytes of the SubFormat GUID
    description = None
    bits_per_sample = None
    if tag == 1 and bits in _PCM_INT:
        codec, codec_string = _PCM_INT[bits]
        bits_per_sample = bits
    elif tag == 3 and bits in _PCM_FLOAT:
        codec, codec_string = _PCM_FLOAT[bits]
        bits_per_sample = bits
    elif tag == _AAC and extra:
        codec, codec_string, description = "aac", aac_codec_string(extra), extra
    else:
        codec, codec_string = _AUDIO_TAGS.get(tag, ("unknown", f"0x{tag:04x}"))
    return StreamFormat("audio", codec, codec_string, description, timing, sample_rate=rate,
                        channels=channels, bits_per_sample=bits_per_sample,
                        fourcc=f"0x{tag:04x}")  # fmt: skip
