"""Packet-by-packet comparison with ffprobe for the MPEG-TS, AVI and HLS reader tests.

(It lives under a ``test_mpegts`` name because those are the test paths of these readers;
it holds no tests.) The shared ``demux_check`` goes through format detection; these readers
are opened by class so their tests do not depend on the format registry.

Two things differ from ``demux_check`` on purpose: H.264/H.265 packets from Annex-B
containers are delivered length-prefixed and AAC from ADTS without its headers, so each
packet's data is compared with ffmpeg's packet (read with PyAV) as NAL units or without
the ADTS header, split here independently of the readers; and a time_base with a
numerator other than 1 (AVI's 32/1225 for MP3) is compared as ``ffprobe_ts * numerator``.
"""

from __future__ import annotations

import os
import re

import av
from hypothesis import strategies as st

from oracle import ProbePacket, ffprobe_packets, ffprobe_streams
from pywebcodecs.demuxer import Demuxer
from pywebcodecs.reader import Reader
from pywebcodecs.source import FileSource, Source
from pywebcodecs.track import Packet

ANNEX_B = ("h264", "hevc")


async def demux(
    demuxer_class: type[Demuxer], source: Source, window: int = 1 << 20
) -> tuple[Demuxer, list[Packet]]:
    demuxer = demuxer_class(await Reader.open(source, window=window))
    await demuxer.open()
    return demuxer, [packet async for packet in demuxer.packets()]


def annexb_nal_units(data: bytes) -> tuple[bytes, ...]:
    """The NAL units of an Annex-B packet: what lies between start codes, without the
    zero bytes before the next start code (ITU-T H.264 Annex B.2)."""
    return tuple(unit.rstrip(b"\x00") for unit in re.split(b"\x00\x00\x01", data)[1:])


def length_prefixed_nal_units(data: bytes) -> tuple[bytes, ...]:
    """The NAL units of a packet with 4-byte big-endian lengths (ISO 14496-15)."""
    units, pos = [], 0
    while pos < len(data):
        size = int.from_bytes(data[pos : pos + 4], "big")
        units.append(data[pos + 4 : pos + 4 + size])
        pos += 4 + size
    return tuple(units)


def ffmpeg_payloads(
    path: str | os.PathLike[str], count: int, annexb: bool
) -> list[tuple[str, object]]:
    """Each packet ffmpeg demuxes (with PyAV), in the form our readers deliver it: Annex-B
    video (``annexb``) as its NAL units, ADTS AAC without the header, the rest as it is."""
    found: list[tuple[str, object]] = []
    with av.open(str(path)) as container:
        packets = [p for p in container.demux() if p.size or p.pts is not None]
        assert len(packets) == count
        for packet in packets:
            raw = bytes(packet)
            codec = packet.stream.codec_context.name
            if annexb and codec in ANNEX_B:
                found.append(("nals", annexb_nal_units(raw)))
            elif codec == "aac" and raw[:1] == b"\xff" and raw[1] & 0xF6 == 0xF0:
                found.append(("bytes", raw[7 if raw[1] & 1 else 9 :]))
            else:
                found.append(("bytes", raw))
    return found


def delivered(packet: Packet, form: str) -> tuple[str, object]:
    if form == "nals":
        return form, length_prefixed_nal_units(packet.data)
    return form, packet.data


_IDR_TYPES = {"h264": (5,), "hevc": (19, 20)}


def decodable_from_start(
    probe: list[ProbePacket], payloads: list[tuple[str, object]], video: dict[int, str]
) -> list[int]:
    """The indexes of the packets a decoder can use when the file starts where it does: of
    the ``video`` streams (index: codec), none before the first keyframe, and when that is
    not an IDR picture (H.264 section 7.4.1.2.4, H.265 section 3.69) none that follows it
    but is shown before it until the next keyframe (its leading pictures)."""
    first_key: dict[int, tuple[int, bool]] = {}  # stream: (pts, leading pictures to drop)
    keep = []
    for index, p in enumerate(probe):
        if p.stream_index not in video:
            keep.append(index)
            continue
        codec = video[p.stream_index]
        if p.is_key:
            form, nals = payloads[index]
            assert form == "nals" and isinstance(nals, tuple)
            types = {n[0] & 0x1F if codec == "h264" else n[0] >> 1 & 0x3F for n in nals}
            idr = bool(types & set(_IDR_TYPES[codec]))
            started = p.stream_index in first_key
            first_key[p.stream_index] = (p.pts or 0, not started and not idr)
        if p.stream_index not in first_key:
            continue
        key_pts, drop_leading = first_key[p.stream_index]
        if not (drop_leading and (p.pts or 0) < key_pts):
            keep.append(index)
    return keep


async def assert_matches_ffprobe(
    demuxer_class: type[Demuxer],
    path: str | os.PathLike[str],
    source: Source | None = None,
    *,
    annexb: bool = True,
    untimed_pts: bool = True,
    from_first_keyframe: bool = False,
) -> tuple[Demuxer, list[Packet]]:
    """Same packets as ffprobe in the same order (stream, pts, dts, data, key flag) and the
    same codecs, time bases and picture/sample formats. ``annexb=False`` for containers
    that store H.264/H.265 length-prefixed already (fMP4 HLS segments). ``untimed_pts=False``
    also wants ffprobe to know every pts (where it lists none, ours is not checked).
    ``from_first_keyframe``: the reader drops the video packets ffprobe lists before each
    video stream's first keyframe."""
    demuxer, packets = await demux(demuxer_class, source or FileSource(path))
    streams = ffprobe_streams(path)
    assert [t.codec for t in demuxer.tracks] == [s["codec_name"] for s in streams]
    numerators = []
    for track, stream in zip(demuxer.tracks, streams, strict=True):
        numerator, denominator = map(int, stream["time_base"].split("/"))
        assert denominator == track.timescale
        numerators.append(numerator)
        if track.kind == "video":
            assert (track.width, track.height) == (stream["width"], stream["height"])
        else:
            assert track.sample_rate == int(stream["sample_rate"])
            assert track.channels == stream["channels"]
    ids = [track.id for track in demuxer.tracks]
    probe = ffprobe_packets(path)
    payloads = ffmpeg_payloads(path, len(probe), annexb)
    if from_first_keyframe:
        codecs = {i: s["codec_name"] for i, s in enumerate(streams) if s["codec_type"] == "video"}
        keep = decodable_from_start(probe, payloads, codecs)
        probe = [probe[i] for i in keep]
        payloads = [payloads[i] for i in keep]
    if not untimed_pts:
        assert all(p.pts is not None for p in probe)
    theirs = [
        (
            p.stream_index,
            None if p.pts is None else p.pts * numerators[p.stream_index],
            None if p.dts is None else p.dts * numerators[p.stream_index],
            payload,
            p.is_key,
        )
        for p, payload in zip(probe, payloads, strict=True)
    ]
    ours = [
        (ids.index(p.track_id), p.pts if want[1] is not None else None, p.dts,
         delivered(p, want[3][0]), p.is_key)
        for p, want in zip(packets, theirs, strict=False)
    ]  # fmt: skip
    assert len(packets) == len(theirs)
    mismatches = [(i, a, b) for i, (a, b) in enumerate(zip(ours, theirs, strict=True)) if a != b]
    assert mismatches[:1] == [], (len(mismatches), mismatches[:1])
    return demuxer, packets


def damaged_copies(sample: bytes, positions: st.SearchStrategy[int]) -> st.SearchStrategy[bytes]:
    """``sample`` with up to 8 bytes overwritten at ``positions``, then cut anywhere."""

    def damage(cut: int, edits: list[tuple[int, int]]) -> bytes:
        data = bytearray(sample)
        for position, value in edits:
            data[position] = value
        return bytes(data[:cut])

    edits = st.lists(st.tuples(positions, st.integers(0, 255)), max_size=8)
    return st.builds(damage, st.integers(0, len(sample)), edits)
