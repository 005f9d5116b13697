"""Bitstream-level codec data: WebCodecs codec strings and decoder configs.

Containers store a codec's setup in a few standard records (avcC, hvcC, av1C, the AAC
AudioSpecificConfig) or only in-band (Annex-B parameter sets in MPEG-TS and AVI). This
module turns either into what WebCodecs wants: the codec string of the WebCodecs codec
registry (``avc1.PPCCLL``, ``hvc1.…``, ``av01.P.LLT.DD``, ``vp09.PP.LL.DD``,
``mp4a.40.N``) and the ``description`` bytes.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from .errors import FormatError

# --- Annex-B (ITU-T H.264 / H.265 Annex B byte streams) -----------------------------------

_START_CODE = re.compile(b"\x00\x00\x01")


def split_annexb(data: bytes) -> list[bytes]:
    """The NAL units of an Annex-B byte stream (start codes and leading zeros removed)."""
    starts = [m.end() for m in _START_CODE.finditer(data)]
    units = []
    for index, start in enumerate(starts):
        end = starts[index + 1] - 3 if index + 1 < len(starts) else len(data)
        unit = data[start:end].rstrip(b"\x00") if index + 1 < len(starts) else data[start:end]
        if unit:
            units.append(unit)
    return units


def annexb_to_length_prefixed(data: bytes, length_size: int = 4) -> bytes:
    """Annex-B → the length-prefixed form MP4 and Matroska store (ISO 14496-15)."""
    out = bytearray()
    for unit in split_annexb(data):
        out += len(unit).to_bytes(length_size, "big") + unit
    return bytes(out)


def looks_annexb(head: bytes, *, strict: bool) -> bool:
    """Whether a sample starts with a start code instead of a NAL unit length.

    ``00 00 00 01`` would be a one-byte NAL unit as a 4-byte length, which no picture data
    is; ``00 00 01`` would be a 256-511 byte one, which is common, so with ``strict`` (a
    valid avcC/hvcC says the samples are length-prefixed) only the 4-byte form counts."""
    if head.startswith(b"\x00\x00\x00\x01"):
        return True
    return not strict and head.startswith(b"\x00\x00\x01")


def length_prefixed_to_annexb(data: bytes, length_size: int = 4) -> bytes:
    """Length-prefixed NAL units → Annex-B with 4-byte start codes."""
    out = bytearray()
    pos = 0
    while pos + length_size <= len(data):
        size = int.from_bytes(data[pos : pos + length_size], "big")
        pos += length_size
        if size > len(data) - pos:
            raise FormatError(f"NAL unit of {size} bytes overruns its {len(data)}-byte sample")
        out += b"\x00\x00\x00\x01" + data[pos : pos + size]
        pos += size
    return bytes(out)


def _unescape(nal: bytes) -> bytes:
    """Remove emulation prevention bytes (00 00 03 → 00 00)."""
    return nal.replace(b"\x00\x00\x03", b"\x00\x00")


class _Bits:
    """An MSB-first bit reader with Exp-Golomb codes (H.264 section 9.1)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def bits(self, count: int) -> int:
        value = 0
        for _ in range(count):
            byte = self.pos >> 3
            if byte >= len(self.data):
                raise FormatError("parameter set ends early")
            value = (value << 1) | ((self.data[byte] >> (7 - (self.pos & 7))) & 1)
            self.pos += 1
        return value

    def ue(self) -> int:
        zeros = 0
        while self.bits(1) == 0:
            zeros += 1
            if zeros > 31:
                raise FormatError("invalid Exp-Golomb code in parameter set")
        return (1 << zeros) - 1 + self.bits(zeros)

    def se(self) -> int:
        code = self.ue()
        return (code + 1) // 2 if code & 1 else -(code // 2)


# --- H.264 ------------------------------------------------------------------------------


@dataclass(frozen=True)
class H264Sps:
    profile: int
    constraints: int
    level: int
    width: int
    height: int
    chroma_format: int
    bit_depth_luma: int
    bit_depth_chroma: int
    # What a slice header needs to be read up to its picture order count (section 7.3.3).
    separate_colour_plane: bool = False
    frame_num_bits: int = 4
    poc_type: int = 0
    poc_lsb_bits: int = 4
    frame_mbs_only: bool = True
    max_num_reorder_frames: int | None = None  # from the VUI, when it says


_HIGH_PROFILES = {100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135}


def parse_h264_sps(sps: bytes) -> H264Sps:
    """The fields of an H.264 sequence parameter set (ITU-T H.264 section 7.3.2.1.1).

    ``sps`` is the NAL unit including its one-byte header.
    """
    r = _Bits(_unescape(sps[1:]))
    profile, constraints, level = r.bits(8), r.bits(8), r.bits(8)
    r.ue()  # seq_parameter_set_id
    chroma_format, depth_luma, depth_chroma, separate_planes = 1, 8, 8, False
    if profile in _HIGH_PROFILES:
        chroma_format = r.ue()
        if chroma_format == 3:
            separate_planes = bool(r.bits(1))
        depth_luma, depth_chroma = r.ue() + 8, r.ue() + 8
        r.bits(1)  # qpprime_y_zero_transform_bypass_flag
        if r.bits(1):  # seq_scaling_matrix_present_flag
            for index in range(8 if chroma_format != 3 else 12):
                if r.bits(1):
                    _skip_scaling_list(r, 16 if index < 6 else 64)
    frame_num_bits = r.ue() + 4
    poc_type, poc_lsb_bits = r.ue(), 0
    if poc_type == 0:
        poc_lsb_bits = r.ue() + 4
    elif poc_type == 1:
        r.bits(1)
        r.se()
        r.se()
        for _ in range(min(r.ue(), 255)):
            r.se()
    r.ue()  # max_num_ref_frames
    r.bits(1)  # gaps_in_frame_num_value_allowed_flag
    width_mbs = r.ue() + 1
    height_units = r.ue() + 1
    frame_mbs_only = r.bits(1)
    if not frame_mbs_only:
        r.bits(1)  # mb_adaptive_frame_field_flag
    r.bits(1)  # direct_8x8_inference_flag
    width = width_mbs * 16
    height = height_units * 16 * (2 - frame_mbs_only)
    if r.bits(1):  # frame_cropping_flag
        left, right, top, bottom = r.ue(), r.ue(), r.ue(), r.ue()
        crop_x = 1 if chroma_format in (0, 3) else 2
        crop_y = (1 if chroma_format in (0, 2, 3) else 2) * (2 - frame_mbs_only)
        width -= crop_x * (left + right)
        height -= crop_y * (top + bottom)
    _check_picture(width, height)
    reorder = _vui_reorder_frames(r)
    return H264Sps(profile, constraints, level, width, height, chroma_format, depth_luma,
                   depth_chroma, separate_planes, frame_num_bits, poc_type, poc_lsb_bits,
                   bool(frame_mbs_only), reorder)  # fmt: skip


def _check_picture(width: int, height: int) -> None:
    """A damaged SPS can crop more than the picture holds (the copy fuzz found one)."""
    if width <= 0 or height <= 0:
        raise FormatError(f"SPS describes a {width}x{height} picture (its cropping is too large)")


def _vui_reorder_frames(r: _Bits) -> int | None:
    """max_num_reorder_frames from an SPS's VUI (H.264 section E.1.1): how many pictures a
    decoder holds back to show them in order. None when absent, or when the VUI is cut
    short, which older readers of the SPS never noticed and must still accept."""
    try:
        if not r.bits(1):  # vui_parameters_present_flag
            return None
        if r.bits(1) and r.bits(8) == 255:  # aspect_ratio_info_present_flag, Extended_SAR
            r.bits(32)
        if r.bits(1):  # overscan_info_present_flag
            r.bits(1)
        if r.bits(1):  # video_signal_type_present_flag
            r.bits(4)
            if r.bits(1):  # colour_description_present_flag
                r.bits(24)
        if r.bits(1):  # chroma_loc_info_present_flag
            r.ue()
            r.ue()
        if r.bits(1):  # timing_info_present_flag
            r.bits(65)
        hrd = False
        for _ in range(2):  # nal_ and vcl_hrd_parameters_present_flag
            if r.bits(1):
                _skip_hrd_parameters(r)
                hrd = True
        r.bits(2 if hrd else 1)  # low_delay_hrd_flag, pic_struct_present_flag
        if not r.bits(1):  # bitstream_restriction_flag
            return None
        r.bits(1)  # motion_vectors_over_pic_boundaries_flag
        for _ in range(4):  # max bytes per picture and bits per MB, max MV lengths
            r.ue()
        return r.ue()
    except FormatError:
        return None


def _skip_hrd_parameters(r: _Bits) -> None:
    """hrd_parameters() (H.264 section E.1.2)."""
    count = r.ue() + 1
    r.bits(8)  # bit_rate_scale, cpb_size_scale
    for _ in range(min(count, 32)):
        r.ue()
        r.ue()
        r.bits(1)
    r.bits(20)  # four delay and offset lengths


def h264_poc_lsb(nal: bytes, sps: H264Sps) -> int:
    """pic_order_cnt_lsb of a slice NAL unit (with its header) of a stream whose SPS has
    ``poc_type`` 0: the slice header read up to that field (H.264 section 7.3.3)."""
    r = _Bits(_unescape(nal[1:32]))  # the field lies within the header's first bytes
    r.ue()  # first_mb_in_slice
    r.ue()  # slice_type
    r.ue()  # pic_parameter_set_id
    r.bits(2 if sps.separate_colour_plane else 0)  # colour_plane_id
    r.bits(sps.frame_num_bits)  # frame_num
    if not sps.frame_mbs_only and r.bits(1):  # field_pic_flag
        r.bits(1)  # bottom_field_flag
    if nal[0] & 0x1F == 5:
        r.ue()  # idr_pic_id
    return r.bits(sps.poc_lsb_bits)


def _skip_scaling_list(r: _Bits, size: int) -> None:
    last, next_scale = 8, 8
    for _ in range(size):
        if next_scale:
            next_scale = (last + r.se() + 256) % 256
        last = next_scale or last


def avc_codec_string(avcc: bytes) -> str:
    """``avc1.PPCCLL`` from an avcC record (ISO 14496-15 section 5.3.3.1)."""
    if len(avcc) < 4 or avcc[0] != 1:
        raise FormatError("avcC record is too short or not version 1")
    return f"avc1.{avcc[1]:02x}{avcc[2]:02x}{avcc[3]:02x}"


def avcc_from_parameter_sets(sps_list: list[bytes], pps_list: list[bytes]) -> bytes:
    """An avcC record (4-byte NAL lengths) from in-band SPS and PPS NAL units."""
    if not sps_list or not pps_list:
        raise FormatError("H.264 stream has no SPS/PPS before its first frame")
    sps = parse_h264_sps(sps_list[0])
    out = bytearray([1, sps.profile, sps.constraints, sps.level, 0xFF, 0xE0 | len(sps_list)])
    for unit in sps_list:
        out += struct.pack(">H", len(unit)) + unit
    out.append(len(pps_list))
    for unit in pps_list:
        out += struct.pack(">H", len(unit)) + unit
    if sps.profile in (100, 110, 122, 144):
        out += bytes([0xFC | sps.chroma_format, 0xF8 | (sps.bit_depth_luma - 8),
                      0xF8 | (sps.bit_depth_chroma - 8), 0])  # fmt: skip
    return bytes(out)


# --- H.265 ------------------------------------------------------------------------------


@dataclass(frozen=True)
class HevcSps:
    profile_space: int
    tier: int
    profile: int
    compatibility: int  # 32 flags
    constraints: bytes  # 6 bytes
    level: int
    max_sub_layers: int
    temporal_id_nested: int
    chroma_format: int
    bit_depth_luma: int
    bit_depth_chroma: int
    width: int
    height: int


def parse_hevc_sps(sps: bytes) -> HevcSps:
    """The fields of an H.265 sequence parameter set (ITU-T H.265 section 7.3.2.2)."""
    data = _unescape(sps[2:])
    r = _Bits(data)
    r.bits(4)  # sps_video_parameter_set_id
    max_sub_layers = r.bits(3) + 1
    nested = r.bits(1)
    profile_space, tier, profile = r.bits(2), r.bits(1), r.bits(5)
    compatibility = r.bits(32)
    constraints = bytes(r.bits(8) for _ in range(6))
    level = r.bits(8)
    present = [(r.bits(1), r.bits(1)) for _ in range(max_sub_layers - 1)]
    if max_sub_layers > 1:
        r.bits(2 * (9 - max_sub_layers))
    for profile_present, level_present in present:
        r.bits(88 if profile_present else 0)
        r.bits(8 if level_present else 0)
    r.ue()  # sps_seq_parameter_set_id
    chroma_format = r.ue()
    if chroma_format == 3:
        r.bits(1)
    width, height = r.ue(), r.ue()
    if r.bits(1):  # conformance_window_flag
        left, right, top, bottom = r.ue(), r.ue(), r.ue(), r.ue()
        sub_w = 2 if chroma_format in (1, 2) else 1
        sub_h = 2 if chroma_format == 1 else 1
        width -= sub_w * (left + right)
        height -= sub_h * (top + bottom)
    _check_picture(width, height)
    depth_luma, depth_chroma = r.ue() + 8, r.ue() + 8
    return HevcSps(profile_space, tier, profile, compatibility, constraints, level,
                   max_sub_layers, nested, chroma_format, depth_luma, depth_chroma,
                   width, height)  # fmt: skip


def hevc_codec_string(hvcc: bytes) -> str:
    """``hvc1.…`` from an hvcC record (ISO 14496-15 Annex E.3)."""
    if len(hvcc) < 13:
        raise FormatError("hvcC record is too short")
    profile_space = hvcc[1] >> 6
    tier = (hvcc[1] >> 5) & 1
    profile = hvcc[1] & 0x1F
    compatibility = int.from_bytes(hvcc[2:6], "big")
    return _hevc_string(profile_space, tier, profile, compatibility, hvcc[6:12], hvcc[12])


def _hevc_string(space: int, tier: int, profile: int, compat: int, constraints: bytes,
                 level: int) -> str:  # fmt: skip
    reversed_compat = int(f"{compat:032b}"[::-1], 2)
    parts = [
        "hvc1",
        ("", "A", "B", "C")[space] + str(profile),
        f"{reversed_compat:x}",
        ("L", "H")[tier] + str(level),
    ]
    trimmed = constraints.rstrip(b"\x00")
    parts += [f"{byte:x}" for byte in trimmed]
    return ".".join(parts)


def hvcc_from_parameter_sets(vps: list[bytes], sps: list[bytes], pps: list[bytes]) -> bytes:
    """An hvcC record (4-byte NAL lengths) from in-band VPS, SPS and PPS NAL units."""
    if not (vps and sps and pps):
        raise FormatError("H.265 stream has no VPS/SPS/PPS before its first frame")
    info = parse_hevc_sps(sps[0])
    out = bytearray([1, info.profile_space << 6 | info.tier << 5 | info.profile])
    out += info.compatibility.to_bytes(4, "big") + info.constraints
    out += bytes([info.level, 0xF0, 0x00, 0xFC, 0xFC | info.chroma_format,
                  0xF8 | (info.bit_depth_luma - 8), 0xF8 | (info.bit_depth_chroma - 8), 0, 0,
                  (info.max_sub_layers << 3) | (info.temporal_id_nested << 2) | 3, 3])  # fmt: skip
    for nal_type, units in ((32, vps), (33, sps), (34, pps)):
        out += bytes([0x80 | nal_type]) + struct.pack(">H", len(units))
        for unit in units:
            out += struct.pack(">H", len(unit)) + unit
    return bytes(out)


# --- AV1, VP9 ---------------------------------------------------------------------------


def av1_codec_string(av1c: bytes) -> str:
    """``av01.P.LLT.DD`` from an av1C record (AV1 ISOBMFF binding section 2.3)."""
    if len(av1c) < 4 or av1c[0] & 0x7F != 1:
        raise FormatError("av1C record is too short or not version 1")
    profile, level = av1c[1] >> 5, av1c[1] & 0x1F
    tier = "H" if av1c[2] & 0x80 else "M"
    high_bitdepth, twelve_bit = (av1c[2] >> 6) & 1, (av1c[2] >> 5) & 1
    depth = 12 if profile == 2 and high_bitdepth and twelve_bit else 10 if high_bitdepth else 8
    return f"av01.{profile}.{level:02d}{tier}.{depth:02d}"


def vp9_codec_string(profile: int, level: int, bit_depth: int) -> str:
    """``vp09.PP.LL.DD`` (VP9 codec ISOBMFF binding, codecs parameter string)."""
    return f"vp09.{profile:02d}.{level:02d}.{bit_depth:02d}"


# --- AAC --------------------------------------------------------------------------------

AAC_SAMPLE_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000,
                    11025, 8000, 7350)  # fmt: skip
_AAC_CHANNELS = (0, 1, 2, 3, 4, 5, 6, 8)


def parse_audio_specific_config(asc: bytes) -> tuple[int, int, int]:
    """(audio object type, sample rate, channels) of an AudioSpecificConfig
    (ISO 14496-3 section 1.6.2.1). Channels is 0 when given by a program config element."""
    r = _Bits(asc)
    try:
        object_type = r.bits(5)
        if object_type == 31:
            object_type = 32 + r.bits(6)
        index = r.bits(4)
        rate = r.bits(24) if index == 15 else _table(AAC_SAMPLE_RATES, index, "sample rate")
        config = r.bits(4)
    except FormatError:
        raise FormatError("AudioSpecificConfig is too short") from None
    channels = _AAC_CHANNELS[config] if config < len(_AAC_CHANNELS) else 0
    return object_type, rate, channels


def _table(table: tuple[int, ...], index: int, what: str) -> int:
    if index >= len(table):
        raise FormatError(f"AudioSpecificConfig has reserved {what} index {index}")
    return table[index]


def aac_codec_string(asc: bytes) -> str:
    """``mp4a.40.N`` where N is the audio object type (2 = AAC-LC, 5 = HE-AAC…)."""
    return f"mp4a.40.{parse_audio_specific_config(asc)[0]}"


def audio_specific_config(object_type: int, sample_rate: int, channels: int) -> bytes:
    """A two-byte (or five-byte, for unlisted rates) AudioSpecificConfig."""
    if sample_rate in AAC_SAMPLE_RATES:
        bits = object_type << 11 | AAC_SAMPLE_RATES.index(sample_rate) << 7 | channels << 3
        return bits.to_bytes(2, "big")
    bits = object_type << 35 | 15 << 31 | sample_rate << 7 | channels << 3
    return bits.to_bytes(5, "big")


# --- Picture boundaries (for Annex-B streams cut into access units) ----------------------


def first_slice_of_picture(nal_start: bytes, hevc: bool) -> bool:
    """Whether a slice NAL unit, given by its first bytes, starts a picture: H.264
    first_mb_in_slice == 0 (section 7.3.3; ue(v) 0 is the single bit 1), H.265
    first_slice_segment_in_pic_flag (section 7.3.6.1, the first bit after the 2-byte
    header). False when the bytes are not there."""
    at = 2 if hevc else 1
    return len(nal_start) > at and bool(nal_start[at] & 0x80)
