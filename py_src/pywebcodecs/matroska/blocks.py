"""SimpleBlock / Block payloads: track, relative timestamp, flags and laced frames.

RFC 9559 section 10 (Block structure) and section 10.4 (lacing): a block may hold several
frames of one track, with their sizes coded in Xiph, EBML or fixed-size lacing. ffmpeg,
and so our packet list, gives each laced frame its own packet. The writer's blocks are
one frame each: a SimpleBlock, or a BlockGroup when the frame ends in DiscardPadding.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from . import ids
from .ebml import EbmlError, encode_id, encode_size, read_signed_vint, read_size

Buffer = bytes | memoryview

FLAG_KEY = 0x80
LACING_MASK = 0x06
XIPH_LACING = 0x02
FIXED_LACING = 0x04
EBML_LACING = 0x06


@dataclass
class Block:
    track: int
    timestamp: int  # relative to the cluster timestamp
    flags: int
    frames: list[tuple[int, int]]  # (start, end) of each frame in the buffer


def parse_block_header(buf: Buffer, start: int, end: int) -> tuple[int, int, int, int]:
    """``(track, relative timestamp, flags, offset of the lacing or frame data)``."""
    track, length = read_size(buf, start)
    pos = start + length
    if track < 0 or pos + 3 > end:
        raise EbmlError("block header cut off", start)
    timestamp = int.from_bytes(buf[pos : pos + 2], "big", signed=True)
    return track, timestamp, buf[pos + 2], pos + 3


def parse_block(buf: Buffer, start: int, end: int) -> Block:
    """The block whose data is ``buf[start:end]``, with its frames split by the lacing."""
    track, timestamp, flags, pos = parse_block_header(buf, start, end)
    lacing = flags & LACING_MASK
    if not lacing:
        return Block(track, timestamp, flags, [(pos, end)])
    if pos >= end:
        raise EbmlError("laced block has no frame count", pos)
    count = buf[pos] + 1
    pos += 1
    sizes: list[int] = []
    if lacing == XIPH_LACING:
        for _ in range(count - 1):
            size = 0
            while True:
                if pos >= end:
                    raise EbmlError("Xiph lace sizes run past the block", pos)
                byte = buf[pos]
                pos += 1
                size += byte
                if byte != 255:
                    break
            sizes.append(size)
    elif lacing == EBML_LACING:
        size, length = read_size(buf, pos)
        if size < 0:
            raise EbmlError("EBML lace size is 'unknown'", pos)
        pos += length
        sizes.append(size)
        for _ in range(count - 2):
            delta, length = read_signed_vint(buf, pos)
            pos += length
            size += delta
            if size < 0:
                raise EbmlError("negative EBML lace size", pos)
            sizes.append(size)
    else:
        if (end - pos) % count:
            raise EbmlError(f"{end - pos} bytes do not split into {count} equal frames", pos)
        sizes = [(end - pos) // count] * (count - 1)
    last = end - pos - sum(sizes)
    if last < 0:
        raise EbmlError(f"lace sizes add up to more than the block's {end - pos} bytes", pos)
    frames = []
    for size in [*sizes, last]:
        frames.append((pos, pos + size))
        pos += size
    return Block(track, timestamp, flags, frames)


def _block_header(track: int, relative: int, flags: int) -> bytes:
    return encode_size(track) + struct.pack(">hB", relative, flags)


def simple_block(track: int, relative: int, is_key: bool, size: int) -> bytes:
    """Everything of a one-frame SimpleBlock before its ``size`` bytes of frame data."""
    header = _block_header(track, relative, FLAG_KEY if is_key else 0)
    return encode_id(ids.SIMPLE_BLOCK) + encode_size(len(header) + size) + header


def block_group(track: int, relative: int, size: int, discard_ns: int) -> tuple[bytes, bytes]:
    """A BlockGroup around one key frame of ``size`` bytes whose last ``discard_ns``
    nanoseconds players drop: the bytes before the frame data, and the bytes after it."""
    header = _block_header(track, relative, 0)  # a Block without ReferenceBlock is a key
    block = encode_id(ids.BLOCK) + encode_size(len(header) + size) + header
    value = discard_ns.to_bytes((discard_ns.bit_length() + 8) // 8, "big", signed=True)
    tail = encode_id(ids.DISCARD_PADDING) + encode_size(len(value)) + value
    head = encode_id(ids.BLOCK_GROUP) + encode_size(len(block) + size + len(tail)) + block
    return head, tail
