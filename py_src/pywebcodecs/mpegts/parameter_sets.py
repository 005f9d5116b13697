"""Decoder configs for H.264/H.265 carried as Annex-B byte streams (MPEG-TS, AVI).

Neither MPEG-TS (ISO 13818-1 section 2.14) nor AVI stores an avcC/hvcC record: the
parameter sets travel in-band before the first keyframe. WebCodecs takes Annex-B chunks
only when the config has no ``description``; every other reader of this engine (MP4,
Matroska) delivers length-prefixed NAL units with an avcC/hvcC. So that a track from TS or
AVI behaves exactly like one from MP4 (same muxer paths, same decoder config), the readers
build the record from the first in-band SPS/PPS (and VPS) and convert each packet to 4-byte
length prefixes (ISO 14496-15 sections 5.3.3 and 8.3.3). In-band parameter sets stay in
the packets, which ISO 14496-15 allows for ``avc1``/``hvc1`` streams with changing sets.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..codec_data import (
    avc_codec_string,
    avcc_from_parameter_sets,
    hevc_codec_string,
    hvcc_from_parameter_sets,
    parse_h264_sps,
    parse_hevc_sps,
)

H264_NON_IDR, H264_IDR, H264_SEI, H264_SPS, H264_PPS = 1, 5, 6, 7, 8
_RECOVERY_POINT = 6  # SEI payloadType recovery_point (H.264 section D.1.8)
HEVC_VPS, HEVC_SPS, HEVC_PPS = 32, 33, 34
HEVC_IRAP = range(16, 24)  # BLA, IDR and CRA pictures (ITU-T H.265 table 7-1)
HEVC_IDR = (19, 20)  # IDR_W_RADL, IDR_N_LP: no picture after them refers to one before


@dataclass(frozen=True)
class VideoConfig:
    """What a decoder needs, as found in the stream's first parameter sets."""

    codec_string: str
    description: bytes
    width: int
    height: int


def nal_type(codec: str, nal: bytes) -> int:
    """The nal_unit_type of a NAL unit (H.264 section 7.3.1, H.265 section 7.3.1.2)."""
    return nal[0] & 0x1F if codec == "h264" else (nal[0] >> 1) & 0x3F


def is_keyframe(codec: str, nals: list[bytes]) -> bool:
    """True when decoding can start at this access unit: an IDR picture or a picture with a
    recovery point SEI (H.264; open-GOP encoders mark their I pictures so, and ffmpeg's
    parser counts them as keyframes), or an IRAP picture (H.265)."""
    types = {nal_type(codec, nal) for nal in nals if nal}
    if codec != "h264":
        return any(t in HEVC_IRAP for t in types)
    if H264_IDR in types:
        return True
    return H264_NON_IDR in types and any(
        _has_recovery_point(nal) for nal in nals if nal and nal_type(codec, nal) == H264_SEI
    )


def is_idr(codec: str, nals: list[bytes]) -> bool:
    """True for an IDR picture: unlike the other keyframes (an H.264 recovery point, an
    H.265 CRA or BLA), no picture that follows it in decoding order refers to a picture
    before it, so decoding that starts there decodes everything after."""
    wanted = (H264_IDR,) if codec == "h264" else HEVC_IDR
    return any(nal_type(codec, nal) in wanted for nal in nals if nal)


def _has_recovery_point(sei: bytes) -> bool:
    """Whether an SEI NAL unit carries a recovery_point message (H.264 section 7.3.2.3)."""
    data = sei[1:].replace(b"\x00\x00\x03", b"\x00\x00")
    pos = 0
    while pos < len(data) and data[pos] != 0x80:  # 0x80: rbsp_trailing_bits
        payload_type, pos = _ff_coded(data, pos)
        size, pos = _ff_coded(data, pos)
        if payload_type == _RECOVERY_POINT and pos <= len(data):
            return True
        pos += size
    return False


def _ff_coded(data: bytes, pos: int) -> tuple[int, int]:
    """An SEI payloadType or payloadSize: 0xFF bytes adding 255 each, then a last byte;
    returns (value, position after it), the position past the end when the data ends."""
    value = 0
    while pos < len(data) and data[pos] == 0xFF:
        value += 255
        pos += 1
    if pos >= len(data):
        return value, len(data) + 1
    return value + data[pos], pos + 1


def video_config(codec: str, nals: list[bytes]) -> VideoConfig | None:
    """The config from the parameter sets among ``nals``; None until they have all come."""
    by_type: dict[int, list[bytes]] = {}
    for nal in nals:
        if nal:
            units = by_type.setdefault(nal_type(codec, nal), [])
            if nal not in units:
                units.append(nal)
    if codec == "h264":
        sps, pps = by_type.get(H264_SPS, []), by_type.get(H264_PPS, [])
        if not (sps and pps):
            return None
        info = parse_h264_sps(sps[0])
        avcc = avcc_from_parameter_sets(sps, pps)
        return VideoConfig(avc_codec_string(avcc), avcc, info.width, info.height)
    vps, sps, pps = (by_type.get(t, []) for t in (HEVC_VPS, HEVC_SPS, HEVC_PPS))
    if not (vps and sps and pps):
        return None
    hevc = parse_hevc_sps(sps[0])
    hvcc = hvcc_from_parameter_sets(vps, sps, pps)
    return VideoConfig(hevc_codec_string(hvcc), hvcc, hevc.width, hevc.height)
