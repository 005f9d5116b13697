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
from .ebml import (
    EbmlError,
    children,
    decode_uint,
    element,
    encode_id,
    encode_size,
    master,
    read_signed_vint,
    read_size,
    uint_element,
)

Buffer = bytes | memoryview

FLAG_KEY = 0x80
LACING_MASK = 0x06
XIPH_LACING = 0x02
FIXED_LACING = 0x04
EBML_LACING = 0x06
#: The BlockAddID whose BlockAdditional is the alpha channel (WebM, AlphaMode 1).
ALPHA_ADD_ID = 1


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


def block_group(
    track: int,
    relative: int,
    size: int,
    *,
    reference: int | None,
    discard_ns: int = 0,
    alpha: bytes | None = None,
) -> tuple[bytes, bytes]:
    """A BlockGroup around one frame of ``size`` bytes: the bytes before the frame data, and
    the bytes after it. ``reference`` is None for a key frame, else the ReferenceBlock (the
    relative time of a frame it needs, RFC 9559 section 10.2); players drop the frame's last
    ``discard_ns`` nanoseconds; ``alpha`` is its alpha channel (BlockAddID 1)."""
    header = _block_header(track, relative, 0)  # a Block without ReferenceBlock is a key
    block = encode_id(ids.BLOCK) + encode_size(len(header) + size) + header
    tail = b""
    if reference is not None:
        tail += _signed_element(ids.REFERENCE_BLOCK, reference)
    if discard_ns:
        tail += _signed_element(ids.DISCARD_PADDING, discard_ns)
    if alpha is not None:
        more = master(ids.BLOCK_MORE, uint_element(ids.BLOCK_ADD_ID, ALPHA_ADD_ID),
                      element(ids.BLOCK_ADDITIONAL, alpha))  # fmt: skip
        tail += master(ids.BLOCK_ADDITIONS, more)
    head = encode_id(ids.BLOCK_GROUP) + encode_size(len(block) + size + len(tail)) + block
    return head, tail


def _signed_element(element_id: int, value: int) -> bytes:
    return element(element_id, value.to_bytes((value.bit_length() + 8) // 8, "big", signed=True))


def read_alpha(buf: Buffer, start: int, end: int) -> bytes | None:
    """The alpha channel in the BlockAdditions ``buf[start:end]``: the BlockAdditional whose
    BlockAddID is 1 (its default when left out), or None when there is none."""
    for child_id, more_start, more_end in children(buf, start, end):
        if child_id != ids.BLOCK_MORE:
            continue
        add_id, data = ALPHA_ADD_ID, None
        for inner_id, inner_start, inner_end in children(buf, more_start, more_end):
            if inner_id == ids.BLOCK_ADD_ID:
                add_id = decode_uint(buf, inner_start, inner_end)
            elif inner_id == ids.BLOCK_ADDITIONAL:
                data = bytes(buf[inner_start:inner_end])
        if add_id == ALPHA_ADD_ID and data is not None:
            return data
    return None
