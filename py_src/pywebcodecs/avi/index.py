"""AVI indexes, read only for their keyframe flags (packets are walked in file order).

``idx1`` (AVIOLDINDEX, the AVI 1.0 index): 16-byte entries of chunk id, flags
(AVIIF_KEYFRAME = 0x10), offset and size; the offset counts either from the ``movi``
fourcc or from the file start, which the first entry tells apart.
OpenDML (AVI 2.0, "OpenDML AVI File Format Extensions" section 2): an ``indx`` super index
in each ``strl`` points at ``ix##`` standard indexes, whose entries give each chunk's data
offset and size, bit 31 of the size marking a chunk that is *not* a keyframe. OpenDML files
over 1 GiB have no ``idx1`` past the first RIFF, so this is where their flags come from.
"""

from __future__ import annotations

import struct

from ..errors import FormatError

AVIIF_KEYFRAME = 0x10
_NOT_KEYFRAME = 0x80000000
_INDEX_OF_INDEXES, _INDEX_OF_CHUNKS = 0, 1
#: Index sizes this reader accepts: an hour of 60 fps video with audio needs ~5 MiB.
MAX_INDEX_BYTES = 256 << 20


def idx1_keyframes(data: bytes, base: int) -> dict[int, bool]:
    """Keyframe flag by absolute chunk-data offset, from idx1 entries relative to ``base``."""
    flags = {}
    for _, flag, offset, _ in struct.iter_unpack("<4sIII", data[: len(data) // 16 * 16]):
        flags[base + offset + 8] = bool(flag & AVIIF_KEYFRAME)
    return flags


def idx1_base(data: bytes, movi_fourcc: int) -> int:
    """Where idx1 offsets count from: the ``movi`` fourcc (the usual), or the file start
    (some writers), which the first entry tells: an absolute offset lies past the fourcc."""
    if len(data) >= 16 and struct.unpack_from("<I", data, 8)[0] > movi_fourcc:
        return 0
    return movi_fourcc


def super_index_entries(indx: bytes) -> list[tuple[int, int]]:
    """(offset, size) of the ``ix##`` chunks an OpenDML super index (``indx``) lists."""
    if len(indx) < 24:
        raise FormatError(f"indx chunk holds {len(indx)} bytes, its header needs 24")
    longs_per_entry, _, index_type, count = struct.unpack_from("<HBBI", indx)
    if index_type != _INDEX_OF_INDEXES or longs_per_entry != 4:
        return []
    count = min(count, (len(indx) - 24) // 16)
    return [struct.unpack_from("<QI", indx, 24 + 16 * i) for i in range(count)]


def standard_index_keyframes(chunk: bytes) -> dict[int, bool]:
    """Keyframe flag by absolute chunk-data offset, from one ``ix##`` standard index
    (``chunk`` without its 8-byte chunk header)."""
    if len(chunk) < 24:
        raise FormatError(f"ix## index holds {len(chunk)} bytes, its header needs 24")
    longs_per_entry, _, index_type, count = struct.unpack_from("<HBBI", chunk)
    if index_type != _INDEX_OF_CHUNKS or longs_per_entry != 2:
        return {}
    base = struct.unpack_from("<Q", chunk, 12)[0]
    count = min(count, (len(chunk) - 24) // 8)
    entries = struct.iter_unpack("<II", chunk[24 : 24 + 8 * count])
    return {base + offset: not size & _NOT_KEYFRAME for offset, size in entries}
