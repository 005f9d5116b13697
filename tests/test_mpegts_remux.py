"""Rewriting ffmpeg-made transport streams into the layouts broadcast encoders produce and
ffmpeg's muxer never does: several pictures per PES, pictures split over PES packets,
unflagged random access points, a cut before the first keyframe, a rewritten PMT.

(It holds no tests; it lives under a ``test_mpegts`` name beside the tests that use it.)
This is written from ISO/IEC 13818-1 sections 2.4.3.2 (packet header), 2.4.3.4
(adaptation field), 2.4.3.6 (PES) and 2.4.4.8 (PMT) independently of the reader.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from oracle import make
from pywebcodecs.crc import mpeg2_crc32

TS = 188
VIDEO_PID, AUDIO_PID = 256, 257  # as ffmpeg numbers the first two streams


@dataclass
class PesPacket:
    pts: int | None
    dts: int | None
    payload: bytes


def packets(data: bytes) -> list[bytes]:
    return [data[i : i + TS] for i in range(0, len(data) - TS + 1, TS)]


def pid_of(packet: bytes) -> int:
    return (packet[1] & 0x1F) << 8 | packet[2]


def payload_of(packet: bytes) -> bytes:
    control = packet[3] >> 4 & 3
    start = 5 + packet[4] if control & 2 else 4
    return packet[start:] if control & 1 else b""


def _timestamp(field: bytes) -> int:
    return (
        ((field[0] >> 1) & 7) << 30
        | field[1] << 22
        | (field[2] >> 1) << 15
        | (field[3] << 7)
        | field[4] >> 1
    )


def read_pes(data: bytes, pid: int) -> list[PesPacket]:
    """The PES packets of ``pid``, each payload complete."""
    raw: list[bytearray] = []
    for packet in packets(data):
        if pid_of(packet) != pid:
            continue
        if packet[1] & 0x40:
            raw.append(bytearray())
        if raw:
            raw[-1] += payload_of(packet)
    found = []
    for pes in raw:
        flags, header_length = pes[7], pes[8]
        pts = _timestamp(pes[9:14]) if flags & 0x80 else None
        dts = _timestamp(pes[14:19]) if flags & 0x40 else pts
        found.append(PesPacket(pts, dts, bytes(pes[9 + header_length :])))
    return found


def _timestamp_field(prefix: int, value: int) -> bytes:
    high = prefix << 4 | (value >> 29 & 0x0E) | 1
    return bytes([high, value >> 22 & 0xFF, (value >> 14 & 0xFE) | 1, value >> 7 & 0xFF,
                  (value << 1 & 0xFE) | 1])  # fmt: skip


def pes_bytes(pes: PesPacket, stream_id: int = 0xE0) -> bytes:
    """A PES packet with PES_packet_length 0 (unbounded, as video uses)."""
    fields = b""
    flags = 0
    if pes.pts is not None:
        both = pes.dts is not None and pes.dts != pes.pts
        flags = 0xC0 if both else 0x80
        fields = _timestamp_field(3 if both else 2, pes.pts)
        if both:
            assert pes.dts is not None
            fields += _timestamp_field(1, pes.dts)
    header = bytes([0, 0, 1, stream_id, 0, 0, 0x80, flags, len(fields)]) + fields
    return header + pes.payload


def ts_packets(pid: int, pes: bytes, counter: int) -> list[bytes]:
    """``pes`` cut into TS packets of ``pid``; the last one padded by adaptation stuffing."""
    out = []
    pos = 0
    while pos < len(pes):
        chunk = pes[pos : pos + 184]
        head = bytes([0x47, (0x40 if pos == 0 else 0) | pid >> 8, pid & 0xFF])
        if len(chunk) == 184:
            out.append(head + bytes([0x10 | counter]) + chunk)
        else:
            stuffing = 184 - len(chunk) - 1  # the adaptation_field_length byte itself
            field = bytes([stuffing]) + (b"\x00" + b"\xff" * (stuffing - 1) if stuffing else b"")
            out.append(head + bytes([0x30 | counter]) + field + chunk)
        counter = (counter + 1) & 0xF
        pos += 184
    return out


def rewrite_pid(data: bytes, pid: int, new_pes: list[PesPacket], stream_id: int = 0xE0) -> bytes:
    """``data`` with the PES packets of ``pid`` replaced by ``new_pes``: the other packets
    stay where they are, the new ones go in order where the old ones were (the surplus
    at the end)."""
    new_packets: list[bytes] = []
    counter = 0
    for pes in new_pes:
        made = ts_packets(pid, pes_bytes(pes, stream_id), counter)
        counter = (counter + len(made)) & 0xF
        new_packets += made
    out = []
    for packet in packets(data):
        if pid_of(packet) != pid:
            out.append(packet)
        elif new_packets:
            out.append(new_packets.pop(0))
    return b"".join(out + new_packets)


def without_leading_delimiter(payload: bytes, hevc: bool) -> bytes:
    """A video PES payload without the access unit delimiter that ffmpeg's muxer puts first
    (H.264 NAL type 9, H.265 type 35), whatever the encoder wrote."""
    aud = payload.startswith(b"\x00\x00\x00\x01") and (
        payload[4] >> 1 & 0x3F == 35 if hevc else payload[4] & 0x1F == 9
    )
    return payload[payload.index(b"\x00\x00\x01", 4) - 1 :] if aud else payload


def split_pictures(data: bytes, pid: int = VIDEO_PID) -> bytes:
    """Each PES of ``pid`` cut in two halves (mid-NAL), the second without a timestamp."""
    halves = []
    for pes in read_pes(data, pid):
        cut = len(pes.payload) // 2
        halves += [PesPacket(pes.pts, pes.dts, pes.payload[:cut]),
                   PesPacket(None, None, pes.payload[cut:])]  # fmt: skip
    return rewrite_pid(data, pid, halves)


def clear_random_access_flags(data: bytes) -> bytes:
    """Every adaptation field's random_access_indicator (and elementary stream priority)
    cleared: the IDR pictures are no longer flagged."""
    out = bytearray(data)
    for at in range(0, len(out) - TS + 1, TS):
        if out[at + 3] & 0x20 and out[at + 4] > 0:
            out[at + 5] &= ~0x60 & 0xFF
    return bytes(out)


def rewrite_pmt(data: bytes, change: Callable[[int, int, bytes], tuple[int, bytes]]) -> bytes:
    """Each PMT (single-packet sections) with every ES entry's (stream_type, descriptors)
    replaced by ``change(pid, stream_type, descriptors)`` and its CRC_32 recomputed."""
    pmt_pids = set()
    out = []
    for packet in packets(data):
        pid = pid_of(packet)
        if pid == 0 and packet[1] & 0x40:
            body = payload_of(packet)
            section = body[1 + body[0] :]
            length = (section[1] & 0x0F) << 8 | section[2]
            for at in range(8, 3 + length - 4, 4):
                if section[at : at + 2] != b"\x00\x00":
                    pmt_pids.add((section[at + 2] & 0x1F) << 8 | section[at + 3])
        if pid in pmt_pids and packet[1] & 0x40:
            packet = packet[:4] + _new_pmt(payload_of(packet), change)
            packet = packet + b"\xff" * (TS - len(packet))
            assert len(packet) == TS
        out.append(packet)
    return b"".join(out)


def _new_pmt(body: bytes, change: Callable[[int, int, bytes], tuple[int, bytes]]) -> bytes:
    assert body[0] == 0 and body[1] == 2, "a PMT starting right after the pointer field"
    section = body[1:]
    length = (section[1] & 0x0F) << 8 | section[2]
    info_length = (section[10] & 0x0F) << 8 | section[11]
    entries = b""
    pos = 12 + info_length
    while pos < 3 + length - 4:
        stream_type, pid = section[pos], (section[pos + 1] & 0x1F) << 8 | section[pos + 2]
        es_length = (section[pos + 3] & 0x0F) << 8 | section[pos + 4]
        descriptors = section[pos + 5 : pos + 5 + es_length]
        stream_type, descriptors = change(pid, stream_type, descriptors)
        entries += bytes([stream_type]) + section[pos + 1 : pos + 3]
        entries += bytes([0xF0 | len(descriptors) >> 8, len(descriptors) & 0xFF]) + descriptors
        pos += 5 + es_length
    head = section[: 12 + info_length]
    new_length = len(head) - 3 + len(entries) + 4
    head = head[:1] + bytes([head[1] & 0xF0 | new_length >> 8, new_length & 0xFF]) + head[3:]
    new = head + entries
    return b"\x00" + new + mpeg2_crc32(new).to_bytes(4, "big")


VIDEO = ["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25:duration=2"]
AUDIO = ["-f", "lavfi", "-i", "sine=duration=2:sample_rate=48000"]
#: ffmpeg inputs for :func:`without_aud`: 2 s, 50 pictures, an IDR every 12.
ENCODERS = {
    "h264": [*VIDEO, *AUDIO, "-c:v", "libx264", "-bf", "2", "-g", "12", "-c:a", "aac"],
    "hevc": [*VIDEO, *AUDIO, "-c:v", "libx265", "-x265-params",
             "log-level=error:bframes=2:keyint=12", "-c:a", "aac"],
    "h264-video-only-no-bframes": [*VIDEO, "-c:v", "libx264", "-bf", "0"],
}  # fmt: skip


@functools.cache
def without_aud(name: str) -> Path:
    """An ffmpeg file whose video PES packets lost their access unit delimiters (ffmpeg's
    muxer adds one to every PES, so they are taken out afterwards)."""
    made = make(f"mpegts-aud-{name}.ts", *ENCODERS[name])
    data = made.read_bytes()
    pes = [PesPacket(p.pts, p.dts, without_leading_delimiter(p.payload, name == "hevc"))
           for p in read_pes(data, VIDEO_PID)]  # fmt: skip
    path = made.with_name(f"mpegts-noaud-{name}.ts")
    path.write_bytes(rewrite_pid(data, VIDEO_PID, pes))
    return path
