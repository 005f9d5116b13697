"""Serialising ISO BMFF boxes (ISO/IEC 14496-12 section 4.2) for the MP4 writer.

A box is built bottom-up from its children's bytes, so every size is known when it is
written; only the ``mdat`` header of a progressive file is patched afterwards.
"""

from __future__ import annotations

import struct

_HEADER = struct.Struct(">I4s")
#: The header of an ``mdat`` whose size is not known yet: size 1, then a 64-bit largesize.
LARGE_HEADER_SIZE = 16
MAX_32 = 0xFFFFFFFF


def box(box_type: str, *parts: bytes) -> bytes:
    """A box with a 32-bit size, or a 64-bit largesize when its body needs one."""
    body = b"".join(parts)
    size = len(body) + 8
    if size > MAX_32:
        return large_box_header(box_type, size + 8) + body
    return _HEADER.pack(size, box_type.encode("latin-1")) + body


def full_box(box_type: str, version: int, flags: int, *parts: bytes) -> bytes:
    """A FullBox (section 4.2.2): one version byte and 24 bits of flags before the body."""
    return box(box_type, struct.pack(">I", (version << 24) | flags), *parts)


def large_box_header(box_type: str, size: int) -> bytes:
    """``size`` 1 and the largesize field: a 16-byte header for a box of ``size`` bytes."""
    return _HEADER.pack(1, box_type.encode("latin-1")) + struct.pack(">Q", size)


def fixed_16_16(value: int) -> int:
    """An integer as 16.16 fixed point, or 0 when it does not fit (e.g. 96 kHz audio)."""
    return value << 16 if 0 <= value <= 0xFFFF else 0
