"""ISO BMFF boxes (ISO/IEC 14496-12 section 4.2): headers and walking a parsed tree.

Top-level boxes are found with small header reads; a box we need whole (moov, moof) is
read at once and then walked in memory with :class:`BoxView`, which checks every size
against its parent so that a lying size field can never send the parser past its data.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import FormatError

MAX_DEPTH = 64
_HEADER = struct.Struct(">I4s")
_LARGE = struct.Struct(">Q")


@dataclass(frozen=True)
class BoxHeader:
    type: str
    offset: int  # of the box's first byte in the file
    header_size: int
    size: int | None  # None: extends to the end of the file (size field 0)

    @property
    def body_offset(self) -> int:
        return self.offset + self.header_size


def parse_header(data: bytes | memoryview, pos: int, file_offset: int) -> BoxHeader:
    """The header at ``data[pos:]``, where ``data[0]`` is at ``file_offset`` in the file."""
    if len(data) - pos < 8:
        raise FormatError("box header cut off", offset=file_offset + pos)
    size, raw_type = _HEADER.unpack_from(data, pos)
    box_type = raw_type.decode("latin-1")
    header_size = 8
    if size == 1:
        if len(data) - pos < 16:
            raise FormatError(f"{box_type!r} box: 64-bit size cut off", offset=file_offset + pos)
        (size,) = _LARGE.unpack_from(data, pos + 8)
        header_size = 16
    elif size == 0:
        return BoxHeader(box_type, file_offset + pos, header_size, None)
    if size < header_size:
        raise FormatError(
            f"{box_type!r} box claims {size} bytes, less than its own header",
            offset=file_offset + pos,
        )
    if box_type == "uuid":
        header_size += 16
    return BoxHeader(box_type, file_offset + pos, header_size, size)


class BoxView:
    """A box whose bytes are in memory: ``body`` is its payload, ``offset`` its file offset."""

    __slots__ = ("body", "body_offset", "depth", "type")

    def __init__(self, box_type: str, body: memoryview, body_offset: int, depth: int = 0):
        self.type = box_type
        self.body = body
        self.body_offset = body_offset
        self.depth = depth

    def children(self, skip: int = 0) -> Iterator[BoxView]:
        """The boxes inside this one, starting ``skip`` bytes into the body."""
        if self.depth >= MAX_DEPTH:
            raise FormatError(f"boxes nested more than {MAX_DEPTH} deep", offset=self.body_offset)
        body = self.body
        pos = skip
        while len(body) - pos >= 8:
            header = parse_header(body, pos, self.body_offset)
            size = header.size if header.size is not None else len(body) - pos
            if size > len(body) - pos:
                raise FormatError(
                    f"{header.type!r} box claims {size} bytes but its parent "
                    f"{self.type!r} has {len(body) - pos} left",
                    offset=header.offset,
                )
            start = pos + header.header_size
            yield BoxView(header.type, body[start : pos + size], self.body_offset + start,
                          self.depth + 1)  # fmt: skip
            pos += size

    def child(self, box_type: str, skip: int = 0) -> BoxView | None:
        for box in self.children(skip):
            if box.type == box_type:
                return box
        return None

    def all(self, box_type: str, skip: int = 0) -> list[BoxView]:
        return [box for box in self.children(skip) if box.type == box_type]

    def path(self, *types: str) -> BoxView | None:
        box: BoxView | None = self
        for box_type in types:
            box = box.child(box_type) if box is not None else None
        return box

    def full_box(self) -> tuple[int, int]:
        """(version, flags) of a FullBox (section 4.2.2)."""
        self.need(4)
        return self.body[0], int.from_bytes(self.body[1:4], "big")

    def need(self, size: int) -> None:
        if len(self.body) < size:
            raise FormatError(
                f"{self.type!r} box has {len(self.body)} bytes, needs at least {size}",
                offset=self.body_offset,
            )

    def unpack(self, fmt: struct.Struct, pos: int) -> tuple[int, ...]:
        if pos + fmt.size > len(self.body):
            raise FormatError(f"{self.type!r} box is cut off", offset=self.body_offset + pos)
        return fmt.unpack_from(self.body, pos)
