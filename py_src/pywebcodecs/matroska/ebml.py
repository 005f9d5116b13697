"""EBML, the binary encoding under Matroska: variable-size integers and element headers.

RFC 8794 section 4 defines the variable-size integer (VINT): the count of leading zero bits
of the first byte gives the length (1 to 8 bytes), the rest of the bits are the value, and
a size whose value bits are all ones means "unknown size" (section 6.2). Element IDs are
VINTs kept with their marker bit (section 5), which is why IDs are compared as the raw
big-endian integers the specs print (``0x1A45DFA3``). The reader and the writer of this
package share this module so both sides agree on every byte.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

#: The largest size a VINT of 8 bytes can state (2^56 - 2); 2^56 - 1 means "unknown".
MAX_SIZE = (1 << 56) - 2
#: What :func:`read_size` returns for an unknown size (RFC 8794 section 6.2).
UNKNOWN_SIZE = -1


class EbmlError(ValueError):
    """Bytes that are not valid EBML; the demuxer turns it into a located FormatError.

    ``offset`` is the position in the buffer that was being parsed.
    """

    def __init__(self, message: str, offset: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


def vint_length(first: int) -> int:
    """Byte count of the VINT whose first byte is ``first`` (0 when invalid: 0x00)."""
    return 9 - first.bit_length() if first else 0


def read_id(buf: bytes | memoryview, pos: int) -> tuple[int, int]:
    """The element ID at ``pos`` (marker bit kept) and its byte length (RFC 8794 section 5)."""
    if pos >= len(buf):
        raise EbmlError("expected an element ID, found the end of the data", pos)
    length = vint_length(buf[pos])
    if not 1 <= length <= 4:
        raise EbmlError(f"invalid element ID first byte 0x{buf[pos]:02x}", pos)
    if pos + length > len(buf):
        raise EbmlError("element ID cut off", pos)
    return int.from_bytes(buf[pos : pos + length], "big"), length


def read_size(buf: bytes | memoryview, pos: int) -> tuple[int, int]:
    """The element data size at ``pos`` and its byte length; unknown size → ``UNKNOWN_SIZE``."""
    if pos >= len(buf):
        raise EbmlError("expected an element size, found the end of the data", pos)
    length = vint_length(buf[pos])
    if length == 0:
        raise EbmlError("invalid element size first byte 0x00", pos)
    if pos + length > len(buf):
        raise EbmlError("element size cut off", pos)
    value = int.from_bytes(buf[pos : pos + length], "big") & ((1 << (7 * length)) - 1)
    if value == (1 << (7 * length)) - 1:
        return UNKNOWN_SIZE, length
    return value, length


def read_header(buf: bytes | memoryview, pos: int) -> tuple[int, int, int]:
    """``(id, size, header_length)`` of the element starting at ``pos``."""
    element_id, id_length = read_id(buf, pos)
    size, size_length = read_size(buf, pos + id_length)
    return element_id, size, id_length + size_length


def read_signed_vint(buf: bytes | memoryview, pos: int) -> tuple[int, int]:
    """A signed VINT as EBML lacing uses it (RFC 9559 section 10.4.3): value minus bias."""
    length = vint_length(buf[pos]) if pos < len(buf) else 0
    if length == 0 or pos + length > len(buf):
        raise EbmlError("bad signed lace size", pos)
    raw = int.from_bytes(buf[pos : pos + length], "big") & ((1 << (7 * length)) - 1)
    return raw - ((1 << (7 * length - 1)) - 1), length


def children(buf: bytes | memoryview, start: int, end: int) -> Iterator[tuple[int, int, int]]:
    """``(id, data_start, data_end)`` of each child of the master element data in
    ``buf[start:end]``; a child that claims more than its parent holds is an error."""
    pos = start
    while pos < end:
        element_id, size, header = read_header(buf, pos)
        if size == UNKNOWN_SIZE:
            raise EbmlError(f"element 0x{element_id:X} has an unknown size here", pos)
        data_start = pos + header
        if data_start + size > end:
            raise EbmlError(
                f"element 0x{element_id:X} claims {size} bytes but its parent holds "
                f"{end - data_start}",
                pos,
            )
        yield element_id, data_start, data_start + size
        pos = data_start + size


def decode_uint(buf: bytes | memoryview, start: int, end: int) -> int:
    """An unsigned integer element's data ``buf[start:end]`` (RFC 8794 section 7.2)."""
    if end - start > 8:
        raise EbmlError(f"unsigned integer of {end - start} bytes (at most 8)", start)
    return int.from_bytes(buf[start:end], "big")


def decode_float(buf: bytes | memoryview, start: int, end: int) -> float:
    """A float element's data: 0, 4 or 8 bytes (RFC 8794 section 7.3)."""
    if end - start == 4:
        return float(struct.unpack_from(">f", buf, start)[0])
    if end - start == 8:
        return float(struct.unpack_from(">d", buf, start)[0])
    if end == start:
        return 0.0
    raise EbmlError(f"float of {end - start} bytes (must be 0, 4 or 8)", start)


def decode_string(buf: bytes | memoryview, start: int, end: int) -> str:
    """ASCII or UTF-8 string; trailing NUL padding is allowed (RFC 8794 section 7.4)."""
    return bytes(buf[start:end]).split(b"\0", 1)[0].decode("utf-8", "replace")


def encode_id(element_id: int) -> bytes:
    return element_id.to_bytes((element_id.bit_length() + 7) // 8, "big")


def encode_size(size: int, length: int = 0) -> bytes:
    """The VINT for ``size``, in ``length`` bytes or the fewest that hold it."""
    if not 0 <= size <= MAX_SIZE:
        raise ValueError(f"EBML size {size} out of range")
    if not length:
        length = 1
        while size >= (1 << (7 * length)) - 1:
            length += 1
    return ((1 << (7 * length)) | size).to_bytes(length, "big")


def element(element_id: int, payload: bytes) -> bytes:
    return encode_id(element_id) + encode_size(len(payload)) + payload


def master(element_id: int, *children: bytes) -> bytes:
    return element(element_id, b"".join(children))


def uint_element(element_id: int, value: int, length: int = 0) -> bytes:
    """An unsigned integer element, in ``length`` bytes or the fewest that hold it."""
    length = length or max(1, (value.bit_length() + 7) // 8)
    return element(element_id, value.to_bytes(length, "big"))


def float_element(element_id: int, value: float) -> bytes:
    return element(element_id, struct.pack(">d", value))


def string_element(element_id: int, value: str) -> bytes:
    return element(element_id, value.encode("utf-8"))


def void_element(total: int) -> bytes:
    """A Void element (ID 0xEC) of exactly ``total`` bytes (at least 2), to reserve space."""
    if total < 2:
        raise ValueError("a Void element takes at least 2 bytes")
    if total - 2 < 127:
        return b"\xec" + encode_size(total - 2) + bytes(total - 2)
    return b"\xec" + encode_size(total - 9, 8) + bytes(total - 9)
