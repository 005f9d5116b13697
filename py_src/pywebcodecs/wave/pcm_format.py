"""The ``fmt `` chunk (WAVEFORMATEX and WAVE_FORMAT_EXTENSIBLE, Microsoft "Multiple
Channel Audio Data and WAVE Files") ↔ ffprobe codec names and WebCodecs codec strings."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ..errors import FormatError

WAVE_FORMAT_PCM = 1
WAVE_FORMAT_IEEE_FLOAT = 3
WAVE_FORMAT_ALAW = 6
WAVE_FORMAT_MULAW = 7
WAVE_FORMAT_EXTENSIBLE = 0xFFFE
#: The tail shared by every KSDATAFORMAT_SUBTYPE GUID; its first two bytes are a format tag.
GUID_TAIL = bytes.fromhex("000000001000800000aa00389b71")

#: (format tag, bits per sample) → (ffprobe codec, WebCodecs codec string).
CODECS = {
    (WAVE_FORMAT_PCM, 8): ("pcm_u8", "pcm-u8"),
    (WAVE_FORMAT_PCM, 16): ("pcm_s16le", "pcm-s16"),
    (WAVE_FORMAT_PCM, 24): ("pcm_s24le", "pcm-s24"),
    (WAVE_FORMAT_PCM, 32): ("pcm_s32le", "pcm-s32"),
    (WAVE_FORMAT_IEEE_FLOAT, 32): ("pcm_f32le", "pcm-f32"),
    (WAVE_FORMAT_IEEE_FLOAT, 64): ("pcm_f64le", "pcm-f64"),  # not in WebCodecs' registry
    (WAVE_FORMAT_ALAW, 8): ("pcm_alaw", "alaw"),
    (WAVE_FORMAT_MULAW, 8): ("pcm_mulaw", "ulaw"),
}
#: ffprobe codec → (format tag, bits per sample), for the writer.
TAGS = {codec: key for key, (codec, _string) in CODECS.items()}


@dataclass(frozen=True)
class PcmFormat:
    codec: str
    codec_string: str
    channels: int
    sample_rate: int
    block_align: int
    bits_per_sample: int


def parse_fmt(body: bytes) -> PcmFormat:
    """The stream format of a ``fmt `` chunk body."""
    if len(body) < 16:
        raise FormatError(f"fmt chunk holds {len(body)} bytes, needs at least 16")
    tag, channels, rate, _byte_rate, block_align, bits = struct.unpack_from("<HHIIHH", body)
    if tag == WAVE_FORMAT_EXTENSIBLE:
        if len(body) < 40 or body[26:40] != GUID_TAIL:
            raise FormatError("WAVE_FORMAT_EXTENSIBLE fmt chunk without a known subformat GUID")
        tag = int.from_bytes(body[24:26], "little")
    if channels == 0 or rate == 0 or block_align == 0:
        raise FormatError(
            f"fmt chunk gives {channels} channels, {rate} Hz, block align {block_align}"
        )
    if (tag, bits) not in CODECS:
        raise FormatError(f"unsupported WAV sample format: tag 0x{tag:04x}, {bits} bits")
    codec, codec_string = CODECS[(tag, bits)]
    return PcmFormat(codec, codec_string, channels, rate, block_align, bits)


def build_fmt(codec: str, channels: int, sample_rate: int) -> bytes:
    """A ``fmt `` chunk body: WAVEFORMATEX, or WAVE_FORMAT_EXTENSIBLE for more than two
    channels (where the plain form cannot say which speaker is which)."""
    tag, bits = TAGS[codec]
    block_align = channels * bits // 8
    base = struct.pack("<HIIHH", channels, sample_rate, sample_rate * block_align, block_align,
                       bits)  # fmt: skip
    if channels <= 2:
        return tag.to_bytes(2, "little") + base
    extension = struct.pack("<HHI", 22, bits, 0) + tag.to_bytes(2, "little") + GUID_TAIL
    return WAVE_FORMAT_EXTENSIBLE.to_bytes(2, "little") + base + extension
