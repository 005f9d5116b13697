"""Table-driven, MSB-first CRCs used by container formats to check headers.

FLAC frames carry a CRC-8 over the header and a CRC-16 over the frame (RFC 9639 section
9.1.8 and 9.3); MPEG-TS tables carry the MPEG-2 CRC-32 (ISO/IEC 13818-1 Annex A). Ogg's
page CRC is computed with zlib instead (see :mod:`pywebcodecs.ogg.page`).
"""

from __future__ import annotations


class Crc:
    """A CRC of ``width`` bits with polynomial ``poly``, not reflected, no final XOR."""

    def __init__(self, poly: int, width: int, initial: int = 0) -> None:
        self.width = width
        self.mask = (1 << width) - 1
        self.initial = initial
        top = 1 << (width - 1)
        table = []
        for byte in range(256):
            crc = byte << (width - 8)
            for _ in range(8):
                crc = ((crc << 1) ^ poly) & self.mask if crc & top else (crc << 1) & self.mask
            table.append(crc)
        self.table = tuple(table)

    def __call__(self, data: bytes | bytearray | memoryview) -> int:
        crc, mask, table, shift = self.initial, self.mask, self.table, self.width - 8
        for byte in data:
            crc = ((crc << 8) & mask) ^ table[((crc >> shift) ^ byte) & 0xFF]
        return crc


flac_crc8 = Crc(0x07, 8)
flac_crc16 = Crc(0x8005, 16)
mpeg2_crc32 = Crc(0x04C11DB7, 32, initial=0xFFFFFFFF)
