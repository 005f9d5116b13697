"""The header packets an Ogg stream starts with, made from a track's decoder
``description`` (the form Matroska's CodecPrivate and WebCodecs use):

- Opus (RFC 7845 section 5): the OpusHead (made up for mono/stereo when the track has
  none, as an encoder's output may not) and an OpusTags holding the file's tags;
- Vorbis (Vorbis I section 4.2): the three headers, split out of their Xiph lacing, the
  comment header made anew with the file's tags;
- FLAC ("Ogg FLAC mapping" of the FLAC format specification): ``\\x7fFLAC``, mapping
  version 1.0, the number of header packets that follow, ``fLaC`` and STREAMINFO; then a
  VORBIS_COMMENT block holding the file's tags, flagged as the last metadata block.
"""

from __future__ import annotations

import struct

from ..errors import FormatError
from ..flac.metadata import STREAMINFO_SIZE, VORBIS_COMMENT
from ..matroska.codec_private import opus_head
from ..track import OPUS_RATE, AudioTrack
from ..vorbis_comment import write_vorbis_comment

VENDOR = b"pywebcodecs"


def header_packets(track: AudioTrack, source: str, tags: dict[str, str]) -> list[bytes]:
    """The header packets of ``track``'s stream, carrying the file's ``tags``; the first
    one alone goes on the BOS page."""
    description = track.description or b""
    comments = write_vorbis_comment(VENDOR, tags)
    if track.codec == "opus":
        head = description if description.startswith(b"OpusHead") else None
        return [head or opus_head(track.channels, track.sample_rate or OPUS_RATE),
                b"OpusTags" + comments]  # fmt: skip
    if track.codec == "vorbis":
        headers = _split_xiph(description)
        if len(headers) != 3 or [h[:1] for h in headers] != [b"\x01", b"\x03", b"\x05"]:
            raise FormatError(
                f"track {track.id} (vorbis): its description does not hold the three Vorbis "
                "headers, so it cannot be written to Ogg",
                source=source,
            )
        # The comment header: type 3, "vorbis", the comments, the framing bit (section 5.2).
        return [headers[0], b"\x03vorbis" + comments + b"\x01", headers[2]]
    return _flac_headers(track, description, source, comments)


def _flac_headers(
    track: AudioTrack, description: bytes, source: str, comments: bytes
) -> list[bytes]:
    start = 8  # after "fLaC" and the STREAMINFO block header
    if (
        description[:4] != b"fLaC"
        or len(description) < start + STREAMINFO_SIZE
        or description[4] & 0x7F  # the first block must be STREAMINFO (type 0)
    ):
        raise FormatError(
            f"track {track.id} (flac): its description lacks 'fLaC' and STREAMINFO, so it "
            "cannot be written to Ogg",
            source=source,
        )
    streaminfo = description[start : start + STREAMINFO_SIZE]
    block = b"\x00" + STREAMINFO_SIZE.to_bytes(3, "big") + streaminfo  # not the last block
    first = b"\x7fFLAC\x01\x00" + struct.pack(">H", 1) + b"fLaC" + block
    comment = bytes([0x80 | VORBIS_COMMENT]) + len(comments).to_bytes(3, "big")
    return [first, comment + comments]


def _split_xiph(data: bytes) -> list[bytes]:
    """Packets in Xiph lacing: a count minus one, the sizes of all but the last (each a
    run of 255s and a final byte below 255), then the packets."""
    if not data:
        return []
    count, pos, sizes = data[0] + 1, 1, []
    for _ in range(count - 1):
        size = 0
        while pos < len(data):
            size += data[pos]
            pos += 1
            if data[pos - 1] != 255:
                break
        sizes.append(size)
    packets = []
    for size in sizes:
        packets.append(data[pos : pos + size])
        pos += size
    packets.append(data[pos:])
    return packets
