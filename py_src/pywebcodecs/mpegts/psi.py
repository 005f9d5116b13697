"""Program-specific information: the PAT and PMT sections of ISO/IEC 13818-1 section 2.4.4.

Sections are checked with their CRC_32 (Annex A: polynomial 0x04C11DB7, MSB first, initial
value 0xFFFFFFFF, no final XOR), so a damaged table is refused instead of misread.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ..crc import mpeg2_crc32

PAT_TABLE_ID, PMT_TABLE_ID = 0x00, 0x02
_LANGUAGE_DESCRIPTOR = 0x0A


@dataclass(frozen=True)
class ElementaryStream:
    """One entry of a PMT's stream loop."""

    pid: int
    stream_type: int
    language: str | None
    #: (tag, body) of each descriptor in the entry's ES_info loop (section 2.6).
    descriptors: tuple[tuple[int, bytes], ...] = ()

    def descriptor(self, tag: int) -> bytes | None:
        """The body of the first descriptor with ``tag``, if the PMT gave one."""
        return next((body for t, body in self.descriptors if t == tag), None)


class SectionError(ValueError):
    """A PSI section that is malformed or fails its CRC (the caller adds the location)."""


def section_body(section: bytes, table_id: int) -> bytes:
    """The bytes after the 8-byte long-form header of a complete, CRC-checked section."""
    if len(section) < 12 or section[0] != table_id:
        raise SectionError(f"expected a table_id {table_id} section of at least 12 bytes")
    length = ((section[1] & 0x0F) << 8) | section[2]
    if length < 9 or 3 + length > len(section):
        raise SectionError(f"section_length {length} does not fit the {len(section)}-byte section")
    if mpeg2_crc32(section[: 3 + length]) != 0:
        raise SectionError(f"CRC_32 mismatch in the table_id {table_id} section")
    return section[8 : 3 + length - 4]


def section_length(section: bytes | bytearray) -> int | None:
    """The total size of the section that starts ``section``, once its header is in."""
    if len(section) < 3:
        return None
    return 3 + (((section[1] & 0x0F) << 8) | section[2])


def parse_pat(section: bytes) -> list[int]:
    """The PMT PIDs of a program association section (program 0, the NIT, is skipped)."""
    body = section_body(section, PAT_TABLE_ID)
    pids = []
    for program, pid in struct.iter_unpack(">HH", body[: len(body) // 4 * 4]):
        if program:
            pids.append(pid & 0x1FFF)
    return pids


def parse_pmt(section: bytes) -> list[ElementaryStream]:
    """The elementary streams of a TS program map section, in the order the PMT lists them."""
    body = section_body(section, PMT_TABLE_ID)
    if len(body) < 4:
        raise SectionError("PMT section is too short for PCR_PID and program_info_length")
    pos = 4 + (((body[2] & 0x0F) << 8) | body[3])
    streams = []
    while pos + 5 <= len(body):
        stream_type = body[pos]
        pid = ((body[pos + 1] & 0x1F) << 8) | body[pos + 2]
        info_length = ((body[pos + 3] & 0x0F) << 8) | body[pos + 4]
        info = body[pos + 5 : pos + 5 + info_length]
        found = _descriptors(info)
        streams.append(ElementaryStream(pid, stream_type, _language(found), tuple(found)))
        pos += 5 + info_length
    return streams


def _descriptors(data: bytes) -> list[tuple[int, bytes]]:
    """The (tag, body) pairs of a descriptor loop; a descriptor overrunning the loop is cut."""
    found = []
    pos = 0
    while pos + 2 <= len(data):
        tag, length = data[pos], data[pos + 1]
        found.append((tag, data[pos + 2 : pos + 2 + length]))
        pos += 2 + length
    return found


def _language(descriptors: list[tuple[int, bytes]]) -> str | None:
    """The ISO 639 code of an ISO_639_language_descriptor (section 2.6.18), if any."""
    for tag, body in descriptors:
        code = body[:3]
        if tag == _LANGUAGE_DESCRIPTOR and len(code) == 3 and code.isalpha():
            return code.decode("ascii").lower()
    return None
