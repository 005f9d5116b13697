"""The header frame encoders put before the audio of a VBR MP3: Xing/Info (Xing's
"VBR header", written by LAME also for CBR as ``Info``) or Fraunhofer's VBRI. It is a
valid but silent frame; its frame count gives the duration without scanning, and ffmpeg
does not deliver it as a packet."""

from __future__ import annotations

_XING_FRAMES = 0x1


def vbr_frame_count(frame: bytes, mpeg1: bool, mono: bool) -> int | None:
    """The number of audio frames the header frame announces, or None if ``frame`` is an
    ordinary audio frame. A header without the count gives 0."""
    side_info = (17 if mono else 32) if mpeg1 else (9 if mono else 17)
    xing = 4 + side_info
    if frame[xing : xing + 4] in (b"Xing", b"Info"):
        flags = int.from_bytes(frame[xing + 4 : xing + 8], "big")
        if flags & _XING_FRAMES and len(frame) >= xing + 12:
            return int.from_bytes(frame[xing + 8 : xing + 12], "big")
        return 0
    if frame[36:40] == b"VBRI" and len(frame) >= 54:
        return int.from_bytes(frame[50:54], "big")
    return None
