"""FLAC frame headers (RFC 9639 section 9.1): found by the 15-bit sync code and trusted
only when their CRC-8 (section 9.1.8) matches, so that sync-like bytes inside a frame's
subframes are not taken for a frame start.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..crc import flac_crc8

MAX_HEADER_SIZE = 16  # 2 + 2 + 7 (coded number) + 2 (block size) + 2 (rate) + 1 (CRC-8)


@dataclass(frozen=True)
class FrameHeader:
    variable: bool  # blocking strategy: the coded number is a sample number, not a frame one
    number: int
    block_size: int
    size: int  # bytes of the header, CRC-8 included


def parse_frame_header(buf: bytes, pos: int) -> FrameHeader | None:
    """The header at ``buf[pos:]``, or None if it is not a valid one (or is cut off)."""
    if len(buf) - pos < 6 or buf[pos] != 0xFF or buf[pos + 1] & 0xFE != 0xF8:
        return None
    size_code, rate_code = buf[pos + 2] >> 4, buf[pos + 2] & 15
    channel_code, depth_code = buf[pos + 3] >> 4, (buf[pos + 3] >> 1) & 7
    if size_code == 0 or rate_code == 15 or channel_code > 10 or depth_code == 3:
        return None
    if buf[pos + 3] & 1:
        return None
    variable = bool(buf[pos + 1] & 1)
    coded = _coded_number(buf, pos + 4, 7 if variable else 6)
    if coded is None:
        return None
    number, end = coded
    if size_code in (6, 7):
        extra = 1 if size_code == 6 else 2
        if end + extra > len(buf):
            return None
        block_size = int.from_bytes(buf[end : end + extra], "big") + 1
        end += extra
    else:
        block_size = _BLOCK_SIZES[size_code]
    end += {12: 1, 13: 2, 14: 2}.get(rate_code, 0)
    if end >= len(buf) or flac_crc8(buf[pos:end]) != buf[end]:
        return None
    return FrameHeader(variable, number, block_size, end + 1 - pos)


_BLOCK_SIZES = (0, 192, 576, 1152, 2304, 4608, 0, 0, *(256 << n for n in range(8)))


def _coded_number(buf: bytes, pos: int, max_bytes: int) -> tuple[int, int] | None:
    """The UTF-8-like coded frame/sample number (RFC 9639 section 9.1.5) and its end."""
    if pos >= len(buf):
        return None
    first = buf[pos]
    if first < 0x80:
        return first, pos + 1
    length = 8 - (first ^ 0xFF).bit_length()  # count of leading one bits
    if length < 2 or length > max_bytes or pos + length > len(buf):
        return None
    value = first & (0x7F >> length)
    for byte in buf[pos + 1 : pos + length]:
        if byte & 0xC0 != 0x80:
            return None
        value = (value << 6) | (byte & 0x3F)
    return value, pos + length
