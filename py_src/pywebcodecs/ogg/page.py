"""Ogg pages (RFC 3533 section 6): the 27-byte header, the lacing table and the CRC.

The page CRC is the non-reflected CRC-32 with polynomial 0x04C11DB7, initial value 0 and no
final XOR, computed with the CRC field zeroed. Python has no such CRC in its standard
library, but it equals zlib's reflected CRC-32 of the bit-reversed bytes, bit-reversed, once
zlib's initial and final XOR are cancelled; that keeps the check at C speed.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

HEADER_SIZE = 27
CAPTURE = b"OggS"
MAX_PAGE = HEADER_SIZE + 255 + 255 * 255  # the largest page the lacing table can describe
NO_GRANULE = -1  # "no packet finishes on this page" (section 6, granule_position)

FLAG_CONTINUED = 0x01
FLAG_FIRST = 0x02  # beginning of stream (BOS)
FLAG_LAST = 0x04  # end of stream (EOS)

_REVERSED_BITS = bytes(int(f"{i:08b}"[::-1], 2) for i in range(256))


@dataclass(frozen=True)
class PageHeader:
    """What the 27-byte header and the lacing table say about one page."""

    offset: int
    flags: int
    granule: int
    serial: int
    sequence: int
    crc: int
    lacing: bytes

    @property
    def header_size(self) -> int:
        return HEADER_SIZE + len(self.lacing)

    @property
    def body_size(self) -> int:
        return sum(self.lacing)

    @property
    def size(self) -> int:
        return self.header_size + self.body_size


def parse_page_header(data: bytes, offset: int) -> PageHeader | str:
    """The header of the page whose ``data`` starts at file ``offset``, or what is wrong.

    ``data`` must hold at least the 27 fixed bytes and the lacing table; a shorter buffer
    is reported as cut off."""
    if len(data) < HEADER_SIZE:
        return "page header is cut off"
    if data[:4] != CAPTURE:
        return f"expected the capture pattern 'OggS', found {data[:4].hex(' ')}"
    version, flags, granule, serial, sequence, crc, segments = struct.unpack_from(
        "<BBqIIIB", data, 4
    )
    if version != 0:
        return f"page has stream structure version {version}, only 0 exists"
    lacing = data[HEADER_SIZE : HEADER_SIZE + segments]
    if len(lacing) < segments:
        return "page lacing table is cut off"
    return PageHeader(offset, flags, granule, serial, sequence, crc, bytes(lacing))


def page_crc(page: bytes) -> int:
    """The CRC a whole page (header, lacing, body) should carry in bytes 22..25."""
    zeroed = page[:22] + b"\0\0\0\0" + page[26:]
    reflected = zlib.crc32(zeroed.translate(_REVERSED_BITS), 0xFFFFFFFF) ^ 0xFFFFFFFF
    return int(f"{reflected:032b}"[::-1], 2)


def split_packets(header: PageHeader, body: bytes) -> tuple[list[bytes], bool]:
    """The packet pieces of a page body, and whether the last one continues on the next page.

    A lacing value below 255 ends a packet (section 5); the first piece continues the packet
    left open by the previous page when the page says so."""
    pieces: list[bytes] = []
    start = end = 0
    for value in header.lacing:
        end += value
        if value < 255:
            pieces.append(body[start:end])
            start = end
    open_end = bool(header.lacing) and header.lacing[-1] == 255
    if open_end:
        pieces.append(body[start:end])
    return pieces, open_end
