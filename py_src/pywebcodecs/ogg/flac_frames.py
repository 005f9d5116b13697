"""FLAC's STREAMINFO block and frame headers (FLAC format specification, sections
METADATA_BLOCK_STREAMINFO and FRAME_HEADER), as far as a container reader needs them: the
stream's format, and how many samples a frame holds."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import FormatError

STREAMINFO_SIZE = 34
#: Block sizes by the frame header's 4-bit code; 6 and 7 mean "stored after the number".
_BLOCK_SIZES = (0, 192, 576, 1152, 2304, 4608, -1, -2, 256, 512, 1024, 2048, 4096, 8192,
                16384, 32768)  # fmt: skip


@dataclass(frozen=True)
class StreamInfo:
    min_block: int
    max_block: int
    sample_rate: int
    channels: int
    bits_per_sample: int
    total_samples: int  # 0 when unknown


def parse_streaminfo(body: bytes) -> StreamInfo:
    if len(body) < STREAMINFO_SIZE:
        raise FormatError(f"STREAMINFO block of {len(body)} bytes, needs {STREAMINFO_SIZE}")
    min_block = int.from_bytes(body[0:2], "big")
    max_block = int.from_bytes(body[2:4], "big")
    packed = int.from_bytes(body[10:18], "big")
    rate = packed >> 44
    channels = (packed >> 41 & 7) + 1
    bits = (packed >> 36 & 31) + 1
    if rate == 0:
        raise FormatError("STREAMINFO gives a sample rate of 0 Hz")
    return StreamInfo(min_block, max_block, rate, channels, bits, packed & (1 << 36) - 1)


def flac_description(streaminfo: bytes) -> bytes:
    """``fLaC`` and the STREAMINFO block, marked as the last block: what WebCodecs' FLAC
    registration wants as the decoder ``description``."""
    return b"fLaC\x80" + STREAMINFO_SIZE.to_bytes(3, "big") + streaminfo[:STREAMINFO_SIZE]


def coded_number_size(first: int) -> int:
    """Bytes of the frame header's UTF-8-style coded frame/sample number, from its first
    byte, or 0 when the byte cannot start one."""
    if first < 0x80:
        return 1
    ones = 8 - (~first & 0xFF).bit_length()
    return ones if 2 <= ones <= 7 else 0


def frame_block_size(frame: bytes | memoryview) -> int | None:
    """Samples per channel in the frame starting ``frame``, or None without a valid header."""
    if len(frame) < 5 or frame[0] != 0xFF or frame[1] & 0xFE != 0xF8:
        return None
    code = _BLOCK_SIZES[frame[2] >> 4]
    if code > 0:
        return code
    if code == 0:
        return None
    number = coded_number_size(frame[4])
    at = 4 + number
    if number == 0 or len(frame) < at + -code:
        return None
    return int.from_bytes(frame[at : at - code], "big") + 1
