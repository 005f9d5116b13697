"""Matroska CodecIDs and colour code points, both ways.

CodecIDs are from the Matroska codec mappings (RFC 9559 section 5.1.4.1.21 and the
"Matroska Codec Specifications" registry); the names on our side are ffprobe's
``codec_name``. Colour values are the ISO/IEC 23091-4 (H.273) code points Matroska's
Colour element stores (RFC 9559 section 5.1.4.1.28.11 ff.), named as WebCodecs'
``VideoColorSpace`` names them.
"""

from __future__ import annotations

#: ffprobe codec name → CodecID, for writing. PCM is told apart by BitDepth.
CODEC_IDS: dict[str, str] = {
    "h264": "V_MPEG4/ISO/AVC",
    "hevc": "V_MPEGH/ISO/HEVC",
    "vp8": "V_VP8",
    "vp9": "V_VP9",
    "av1": "V_AV1",
    "mjpeg": "V_MJPEG",
    "aac": "A_AAC",
    "opus": "A_OPUS",
    "vorbis": "A_VORBIS",
    "flac": "A_FLAC",
    "mp3": "A_MPEG/L3",
    "ac3": "A_AC3",
    "eac3": "A_EAC3",
    "dts": "A_DTS",
    "pcm_s16le": "A_PCM/INT/LIT",
    "pcm_s24le": "A_PCM/INT/LIT",
    "pcm_s32le": "A_PCM/INT/LIT",
    "pcm_u8": "A_PCM/INT/LIT",
    "pcm_f32le": "A_PCM/FLOAT/IEEE",
    "pcm_f64le": "A_PCM/FLOAT/IEEE",
    "pcm_s16be": "A_PCM/INT/BIG",
    "pcm_s24be": "A_PCM/INT/BIG",
    "pcm_s32be": "A_PCM/INT/BIG",
}

#: Bits per sample of the PCM codecs, written as BitDepth.
PCM_BITS: dict[str, int] = {
    "pcm_u8": 8,
    "pcm_s16le": 16,
    "pcm_s24le": 24,
    "pcm_s32le": 32,
    "pcm_f32le": 32,
    "pcm_f64le": 64,
    "pcm_s16be": 16,
    "pcm_s24be": 24,
    "pcm_s32be": 32,
}

#: CodecID → ffprobe codec name, for reading (PCM and legacy AAC ids handled in code).
CODEC_NAMES: dict[str, str] = {
    codec_id: name for name, codec_id in CODEC_IDS.items() if not name.startswith("pcm")
}
CODEC_NAMES.update(
    {
        "A_MPEG/L2": "mp2",
        "A_TRUEHD": "truehd",
        "V_MPEG4/ISO/ASP": "mpeg4",
        "V_MPEG2": "mpeg2video",
        "V_THEORA": "theora",
        "V_PRORES": "prores",
        "V_FFV1": "ffv1",
    }
)

#: WebCodecs codec string for the codecs whose string does not depend on CodecPrivate.
FIXED_CODEC_STRINGS: dict[str, str] = {
    "vp8": "vp8",
    "opus": "opus",
    "vorbis": "vorbis",
    "flac": "flac",
    "mp3": "mp3",
    "ac3": "ac-3",
    "eac3": "ec-3",
    "pcm_u8": "pcm-u8",
    "pcm_s16le": "pcm-s16",
    "pcm_s24le": "pcm-s24",
    "pcm_s32le": "pcm-s32",
    "pcm_f32le": "pcm-f32",
    "pcm_f64le": "pcm-f64",
    "pcm_s16be": "pcm-s16be",
    "pcm_s24be": "pcm-s24be",
    "pcm_s32be": "pcm-s32be",
    "mjpeg": "mjpeg",
}


def pcm_codec(codec_id: str, bit_depth: int) -> str | None:
    """ffprobe's name for a Matroska PCM track (RFC 9559 codec mappings, ``A_PCM/*``)."""
    if codec_id == "A_PCM/INT/LIT":
        return "pcm_u8" if bit_depth == 8 else f"pcm_s{bit_depth}le"
    if codec_id == "A_PCM/INT/BIG":
        return "pcm_s8" if bit_depth == 8 else f"pcm_s{bit_depth}be"
    if codec_id == "A_PCM/FLOAT/IEEE":
        return f"pcm_f{bit_depth}le"
    return None


PRIMARIES: dict[str, int] = {
    "bt709": 1,
    "bt470m": 4,
    "bt470bg": 5,
    "smpte170m": 6,
    "smpte240m": 7,
    "film": 8,
    "bt2020": 9,
    "smpte432": 12,
}
TRANSFER: dict[str, int] = {
    "bt709": 1,
    "smpte170m": 6,
    "smpte240m": 7,
    "linear": 8,
    "iec61966-2-1": 13,
    "pq": 16,
    "hlg": 18,
}
MATRIX: dict[str, int] = {
    "rgb": 0,
    "bt709": 1,
    "fcc": 4,
    "bt470bg": 5,
    "smpte170m": 6,
    "smpte240m": 7,
    "bt2020-ncl": 9,
}


def name_of(table: dict[str, int], code: int) -> str | None:
    """The WebCodecs name of an H.273 code point (None for unspecified or unknown)."""
    for name, value in table.items():
        if value == code:
            return name
    return None
