"""SimpleBlock / Block payloads: track, relative timestamp, flags and laced frames.

RFC 9559 section 10 (Block structure) and section 10.4 (lacing): a block may hold several
frames of one track, with their sizes coded in Xiph, EBML or fixed-size lacing. ffmpeg,
and so our packet list, gives each laced frame its own packet.
"""

from __future__ import annotations

from dataclasses import dataclass

from .ebml import EbmlError, read_signed_vint, read_size

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
