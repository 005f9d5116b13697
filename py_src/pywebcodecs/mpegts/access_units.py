"""H.264/H.265 access units cut out of the byte stream that a PID's PES packets carry.

A PES packet is not an access unit: broadcast encoders put several pictures in one PES,
split a picture over several, and many leave out the optional access unit delimiters. So
the PES payloads of a PID are joined into one Annex-B byte stream and cut where a new
access unit begins (H.264 section 7.4.1.2.3, H.265 section 7.4.2.4.4): at the first VCL
NAL unit of a picture (first_mb_in_slice == 0, first_slice_segment_in_pic_flag == 1), or
at a delimiter, parameter set, prefix SEI or other NAL unit that may only come before a
picture's slices, when it follows the previous picture's slices. ffmpeg's H.264/H.265
parsers cut at the same places, so the units equal ffprobe's packets.

A PES timestamp belongs to the first access unit that starts in that PES (ISO/IEC
13818-1 section 2.4.3.7); units that start in no timestamped PES get none, and the
demuxer interpolates them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..codec_data import first_slice_of_picture

_START_CODE = b"\x00\x00\x01"
#: H.264 NAL types that end the previous access unit when they follow its slices (section
#: 7.4.1.2.3): SEI, SPS, PPS, AUD, and 14..18 (prefix NAL, subset SPS, DPS, reserved).
_H264_BEFORE_SLICES = {6, 7, 8, 9, 14, 15, 16, 17, 18}
_H264_SLICES = {1, 2, 5}  # the slice types whose header starts with first_mb_in_slice
_H264_VCL = range(1, 6)
#: H.265 NAL types that may only precede a picture's first slice (section 7.4.2.4.4): VPS,
#: SPS, PPS, AUD, prefix SEI, and the reserved 41..44 and unspecified 48..55.
_HEVC_BEFORE_SLICES = {32, 33, 34, 35, 39, 41, 42, 43, 44, *range(48, 56)}
_HEVC_VCL = range(32)


@dataclass
class AccessUnit:
    """One picture's NAL units (without start codes) and the timestamps of its PES."""

    nals: list[bytes] = field(default_factory=list)
    pts: int | None = None
    dts: int | None = None


class AccessUnitSplitter:
    """Fed the PES payloads of one H.264 or H.265 PID in order; hands back each access
    unit once the next one has begun (or at :meth:`flush`)."""

    def __init__(self, codec: str) -> None:
        self._hevc = codec == "hevc"
        self._data = bytearray()
        self._base = 0  # stream offset of _data[0]
        self._nal: int | None = None  # offset in _data of the current NAL's start code
        self._scan = 0  # offset in _data from which to look for the next start code
        self._pes_starts: list[tuple[int, int | None, int | None]] = []  # (offset, pts, dts)
        self._unit: AccessUnit | None = None
        self._has_slice = False

    def feed(self, payload: bytes, pts: int | None, dts: int | None) -> list[AccessUnit]:
        self._pes_starts.append((self._base + len(self._data), pts, dts))
        self._data += payload
        done: list[AccessUnit] = []
        while True:
            found = self._data.find(_START_CODE, self._scan)
            if found < 0 or found + 6 > len(self._data):  # its NAL header is not in yet
                self._scan = max(self._scan, len(self._data) - 2) if found < 0 else found
                break
            self._end_nal(found)
            self._begin_nal(found, done)
            self._scan = found + 3
        self._trim()
        return done

    def flush(self) -> list[AccessUnit]:
        """The last access unit, ended by the end of the stream."""
        done: list[AccessUnit] = []
        found = self._data.find(_START_CODE, self._scan)
        while found >= 0:  # start codes whose NAL header was still to come
            self._end_nal(found)
            if found + 3 < len(self._data):
                self._begin_nal(found, done)
            found = self._data.find(_START_CODE, found + 3)
        self._end_nal(len(self._data))
        if self._unit is not None and self._unit.nals:
            done.append(self._unit)
        self._unit = None
        return done

    def _end_nal(self, end: int) -> None:
        """Adds the NAL unit that runs to ``end`` (trailing zero bytes dropped) to the unit."""
        if self._nal is not None and self._unit is not None:
            nal = bytes(self._data[self._nal + 3 : end]).rstrip(b"\x00")
            if nal:
                self._unit.nals.append(nal)
        self._nal = None

    def _begin_nal(self, start: int, done: list[AccessUnit]) -> None:
        header = self._data[start + 3 : start + 6]
        nal_type = (header[0] >> 1) & 0x3F if self._hevc else header[0] & 0x1F
        vcl = nal_type in (_HEVC_VCL if self._hevc else _H264_VCL)
        if vcl:
            first = (nal_type in _H264_SLICES or self._hevc) and first_slice_of_picture(
                bytes(header), self._hevc
            )
        else:
            first = nal_type in (_HEVC_BEFORE_SLICES if self._hevc else _H264_BEFORE_SLICES)
        if self._unit is None or (first and self._has_slice):
            if self._unit is not None:
                done.append(self._unit)
            self._unit = AccessUnit()
            self._has_slice = False
            self._stamp(self._unit, self._base + start + 3)
        self._has_slice = self._has_slice or vcl
        self._nal = start

    def _stamp(self, unit: AccessUnit, offset: int) -> None:
        """Gives ``unit`` the timestamps of the last PES that started at or before its
        first NAL unit's header (``offset``): a PES may start inside that unit's start
        code, which a muxer splitting bytes blindly does."""
        while self._pes_starts and self._pes_starts[0][0] <= offset:
            _, pts, dts = self._pes_starts.pop(0)
            unit.pts, unit.dts = pts, dts

    def _trim(self) -> None:
        """Drops the bytes before the current NAL unit, which nothing reads again."""
        keep = self._nal if self._nal is not None else self._scan
        if keep > 1 << 16:
            del self._data[:keep]
            self._base += keep
            self._scan -= keep
            if self._nal is not None:
                self._nal -= keep
