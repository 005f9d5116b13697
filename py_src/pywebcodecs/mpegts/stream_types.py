"""What a PMT entry holds: its stream_type (ISO/IEC 13818-1 table 2-34) and, for the types
that only say "private data" or "user private", its descriptors.

Broadcasters label the same codec several ways. AC-3 and E-AC-3 come in the DVB layout
(stream_type 0x06 with the AC-3 descriptor 0x6A or the enhanced AC-3 descriptor 0x7A, ETSI
EN 300 468 annex D) and in the ATSC "System B" layout (stream_type 0x81 / 0x87 with a
registration descriptor 'AC-3' / 'EAC3' and the ATSC audio descriptors 0x81 / 0xCC, ATSC
A/52 annex A); DTS as stream_type 0x82 or 0x06 with the DVB DTS descriptor 0x7B. The
label only names the family: whether an AC-3 family stream is AC-3 or E-AC-3 is told by
the bsid of its first syncframe, as decoders do.
"""

from __future__ import annotations

from .psi import ElementaryStream

_BY_TYPE = {
    0x1B: "h264",
    0x24: "hevc",
    0x0F: "aac",
    0x11: "aac_latm",  # AAC in LATM/LOAS (DVB-T2 and ISDB broadcasts)
    0x03: "mpeg_audio",
    0x04: "mpeg_audio",
    0x81: "ac3",  # ATSC A/53 part 3: AC-3 audio
    0x87: "ac3",  # ATSC A/53 part 3: E-AC-3 audio
    0x82: "dts",
}
PRIVATE_TYPE = 0x06  # PES private data: ffmpeg's M2TS mode puts AAC there, DVB its AC-3
_REGISTRATION = 0x05
_BY_REGISTRATION = {b"AC-3": "ac3", b"EAC3": "ac3", b"DTS1": "dts", b"DTS2": "dts",
                    b"DTS3": "dts"}  # fmt: skip
#: DVB AC-3 (0x6A), enhanced AC-3 (0x7A), DTS (0x7B); ATSC AC-3 (0x81), E-AC-3 (0xCC).
_BY_DESCRIPTOR = {0x6A: "ac3", 0x7A: "ac3", 0x7B: "dts", 0x81: "ac3", 0xCC: "ac3"}


def stream_codec(stream: ElementaryStream) -> str | None:
    """The codec family the PMT entry declares: "h264", "hevc", "aac", "aac_latm",
    "mpeg_audio", "ac3" (AC-3 or E-AC-3), "dts", "private" (to be told by content) or None
    (not read)."""
    registration = stream.descriptor(_REGISTRATION)
    if registration is not None and registration[:4] in _BY_REGISTRATION:
        return _BY_REGISTRATION[registration[:4]]
    if stream.stream_type in _BY_TYPE:
        return _BY_TYPE[stream.stream_type]
    if stream.stream_type == PRIVATE_TYPE:
        for tag, _ in stream.descriptors:
            if tag in _BY_DESCRIPTOR:
                return _BY_DESCRIPTOR[tag]
        return "private"
    return None
