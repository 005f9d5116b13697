"""Ogg pages written (RFC 3533 sections 5 and 6): packets laced into pages of at most 255
segments, each page stamped with the granule position of the last packet that ends on it
(or -1 when none does) and its CRC (:func:`.page.page_crc`)."""

from __future__ import annotations

import struct

from .page import CAPTURE, FLAG_CONTINUED, FLAG_FIRST, FLAG_LAST, NO_GRANULE, page_crc

_MAX_SEGMENTS = 255


class PageWriter:
    """The pages of one logical stream: numbers them and carries an open packet over."""

    def __init__(self, serial: int) -> None:
        self.serial = serial
        self.sequence = 0

    def pages(
        self, packets: list[tuple[bytes, int]], *, first: bool = False, last: bool = False
    ) -> bytes:
        """``(packet, granule)`` pairs as whole pages; the first page carries BOS when
        ``first``, the last one EOS when ``last``."""
        segments: list[tuple[int, bytes, int | None]] = []  # lacing value, piece, granule
        for data, granule in packets:
            for start in range(0, len(data) - len(data) % 255, 255):
                segments.append((255, data[start : start + 255], None))
            tail = len(data) % 255
            segments.append((tail, data[len(data) - tail :], granule))
        out = bytearray()
        continued = False
        for start in range(0, max(len(segments), 1), _MAX_SEGMENTS):  # an empty EOS page too
            group = segments[start : start + _MAX_SEGMENTS]
            ends = [granule for _, _, granule in group if granule is not None]
            flags = FLAG_CONTINUED if continued else 0
            flags |= FLAG_FIRST if first and not out else 0
            flags |= FLAG_LAST if last and start + _MAX_SEGMENTS >= len(segments) else 0
            out += self._page(flags, ends[-1] if ends else NO_GRANULE, group)
            continued = group[-1][0] == 255
        return bytes(out)

    def _page(self, flags: int, granule: int, group: list[tuple[int, bytes, int | None]]) -> bytes:
        lacing = bytes(value for value, _, _ in group)
        head = CAPTURE + struct.pack("<BBqIIIB", 0, flags, granule, self.serial, self.sequence,
                                     0, len(lacing))  # fmt: skip
        page = bytearray(head + lacing + b"".join(piece for _, piece, _ in group))
        page[22:26] = struct.pack("<I", page_crc(bytes(page)))
        self.sequence += 1
        return bytes(page)
