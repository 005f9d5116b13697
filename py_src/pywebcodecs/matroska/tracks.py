"""From a parsed TrackEntry to the shared :class:`~pywebcodecs.track.Track` model.

CodecID → ffprobe codec name (RFC 9559 codec mappings), CodecPrivate → WebCodecs
``description``, and the WebCodecs codec string: AVC/HEVC/AV1/AAC from their
configuration records via :mod:`pywebcodecs.codec_data`, VP9 from the CodecPrivate
feature list (WebM codec mapping: ID 1 profile, 2 level, 3 bit depth) or, when absent,
from the first keyframe's uncompressed header (VP9 bitstream spec section 6.2).

H.264/HEVC whose frames start with start codes (Annex-B, as some writers store them, with
no CodecPrivate or with the parameter sets as Annex-B in it) get an avcC/hvcC built from
the parameter sets there and in the first keyframe; the demuxer then gives the frames
4-byte lengths, so such a track copies and decodes like any other.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from ..codec_data import (
    aac_codec_string,
    audio_specific_config,
    av1_codec_string,
    avc_codec_string,
    hevc_codec_string,
    looks_annexb,
    split_annexb,
    vp9_codec_string,
)
from ..errors import FormatError
from ..mpegts.parameter_sets import video_config
from ..track import AudioTrack, ColorInfo, Track, VideoTrack
from . import ids
from .codec_ids import CODEC_NAMES, FIXED_CODEC_STRINGS, MATRIX, PRIMARIES, TRANSFER, name_of
from .codec_ids import pcm_codec as pcm_codec_name
from .headers import TrackEntry

VIDEO = 1
AUDIO = 2
#: Legacy AAC CodecIDs name the profile instead of carrying an AudioSpecificConfig.
AAC_PROFILES = {"MAIN": 1, "LC": 2, "SSR": 3, "LTP": 4, "SBR": 5}
#: (level times 10, largest luma picture size) of the VP9 levels, smallest first.
VP9_LEVEL_PICTURE_SIZES = (
    (10, 36_864),
    (11, 73_728),
    (20, 122_880),
    (21, 245_760),
    (30, 552_960),
    (31, 983_040),
    (40, 2_228_224),
    (50, 8_912_896),
    (60, 35_651_584),
)


def codec_name(entry: TrackEntry) -> str:
    """ffprobe's codec_name for the track, or "unknown"."""
    if entry.codec_id.startswith("A_AAC"):
        return "aac"
    pcm = pcm_codec_name(entry.codec_id, entry.bit_depth or 16)
    return pcm or CODEC_NAMES.get(entry.codec_id, "unknown")


def needs_first_keyframe(entry: TrackEntry) -> bool:
    """Whether :func:`build_track` needs the track's first keyframe: VP9 without
    CodecPrivate (profile and depth are in the frame header), and H.264/HEVC, which some
    writers store Annex-B style (start codes, parameter sets in-band)."""
    codec = codec_name(entry)
    return codec in ("h264", "hevc") or (codec == "vp9" and not entry.codec_private)


def is_annexb(entry: TrackEntry, keyframe: bytes | None) -> bool:
    """Whether an H.264/HEVC track's frames start with start codes instead of NAL lengths."""
    if codec_name(entry) not in ("h264", "hevc") or not keyframe:
        return False
    private = entry.codec_private or b""
    valid_record = len(private) >= 7 and private[0] == 1
    return looks_annexb(keyframe[:4], strict=valid_record)


def build_track(entry: TrackEntry, timescale: int, keyframe: bytes | None) -> Track:
    """The model track for a video or audio TrackEntry; ``keyframe`` is the track's first
    one when :func:`needs_first_keyframe` says so."""
    codec = codec_name(entry)
    common: dict[str, Any] = {
        "id": entry.number,
        "codec": codec,
        "codec_string": codec_string(entry, codec, keyframe),
        "description": description(entry, codec),
        "timescale": timescale,
        "language": entry.language,
        "name": entry.name,
        "is_default": entry.flag_default,
    }
    if is_annexb(entry, keyframe):
        assert keyframe is not None
        _annexb_config(entry, codec, keyframe, common)
    if entry.type == VIDEO:
        return _video_track(entry, common)
    return AudioTrack(
        **common,
        sample_rate=round(entry.sampling_frequency),
        channels=entry.channels,
        bits_per_sample=entry.bit_depth if codec.startswith("pcm") else None,
    )


def _annexb_config(entry: TrackEntry, codec: str, keyframe: bytes, common: dict[str, Any]) -> None:
    """An avcC/hvcC from the parameter sets of an Annex-B CodecPrivate and first keyframe,
    the form the demuxer rewrites the frames into (4-byte lengths, as for MPEG-TS)."""
    private = entry.codec_private or b""
    nals = split_annexb(private) if looks_annexb(private[:4], strict=False) else []
    config = video_config(codec, nals + split_annexb(keyframe))
    if config is not None:
        common["codec_string"], common["description"] = config.codec_string, config.description
    elif common["description"] is None or looks_annexb(private[:4], strict=False):
        raise FormatError(
            f"{codec} stored Annex-B style with no parameter sets in its CodecPrivate or "
            "first keyframe; it cannot be decoded"
        )


def _video_track(entry: TrackEntry, common: dict[str, Any]) -> VideoTrack:
    width, height = entry.pixel_width, entry.pixel_height
    display_width = entry.display_width or width
    display_height = entry.display_height or height
    aspect = (1, 1)
    if entry.display_unit == 0 and width and height and display_width and display_height:
        ratio = Fraction(display_width * height, display_height * width)
        aspect = (ratio.numerator, ratio.denominator)
    frame_rate = None
    if entry.default_duration:
        frame_rate = round(1e9 / entry.default_duration, 3)
    return VideoTrack(
        **common,
        width=width,
        height=height,
        display_width=display_width if entry.display_unit == 0 else None,
        display_height=display_height if entry.display_unit == 0 else None,
        # ProjectionPoseRoll turns counter-clockwise; ``rotation`` is clockwise.
        rotation=round(-entry.pose_roll) % 360 if entry.pose_roll % 90 == 0 else 0,
        pixel_aspect=aspect,
        color=_color(entry.colour),
        frame_rate=frame_rate,
        alpha=entry.alpha_mode == 1,
    )


def _color(colour: dict[int, int]) -> ColorInfo | None:
    if not colour:
        return None
    full_range = {1: False, 2: True}.get(colour.get(ids.RANGE, 0))
    return ColorInfo(
        primaries=name_of(PRIMARIES, colour.get(ids.PRIMARIES, 2)),
        transfer=name_of(TRANSFER, colour.get(ids.TRANSFER_CHARACTERISTICS, 2)),
        matrix=name_of(MATRIX, colour.get(ids.MATRIX_COEFFICIENTS, 2)),
        full_range=full_range,
    )


def description(entry: TrackEntry, codec: str) -> bytes | None:
    """CodecPrivate as WebCodecs wants it, which for every codec here is CodecPrivate as
    stored (Vorbis: the three headers Xiph-laced; FLAC: ``fLaC`` and metadata blocks).
    VP8/VP9 need none (their CodecPrivate, when present, is a feature list)."""
    if codec in ("vp8", "vp9", "mjpeg") or codec.startswith("pcm"):
        return None
    if codec == "aac" and not entry.codec_private:
        return _aac_config(entry)
    return entry.codec_private or None


def _aac_config(entry: TrackEntry) -> bytes:
    """The AudioSpecificConfig of an AAC track that old muxers stored without one, the
    profile only in the CodecID (``A_AAC/MPEG4/LC``, ``A_AAC/MPEG2/MAIN``): raw AAC frames
    decode only with it (without a description WebCodecs expects ADTS headers), and MP4
    cannot hold them without it. Made as ffmpeg's reader makes it: from the profile, the
    rate and the channels; an SBR (HE-AAC) track is described by its AAC-LC core, whose
    decoders find the SBR data in the frames (implicit signalling)."""
    profile = AAC_PROFILES.get(entry.codec_id.rsplit("/", 1)[-1], 2)
    rate = round(entry.sampling_frequency)
    return audio_specific_config(2 if profile == 5 else profile, rate, entry.channels)


def codec_string(entry: TrackEntry, codec: str, vp9_header: bytes | None) -> str:
    private = entry.codec_private or b""
    if codec in ("h264", "hevc") and looks_annexb(private[:4], strict=False):
        return codec  # an Annex-B CodecPrivate: the parameter sets give it (_annexb_config)
    if codec == "h264" and private:
        return avc_codec_string(private)
    if codec == "hevc" and private:
        return hevc_codec_string(private)
    if codec == "av1" and private:
        return av1_codec_string(private)
    if codec == "aac":
        if private:
            return aac_codec_string(private)
        profile = AAC_PROFILES.get(entry.codec_id.rsplit("/", 1)[-1], 2)
        return f"mp4a.40.{profile}"
    if codec == "vp9":
        return _vp9_codec_string(private, vp9_header, entry.pixel_width * entry.pixel_height)
    if codec == "unknown":
        return _unknown_codec_label(entry)
    return FIXED_CODEC_STRINGS.get(codec, codec)


def _unknown_codec_label(entry: TrackEntry) -> str:
    """What a codec this reader does not know is called, for the warning and the refusal
    that name it: the CodecID, and for a Video for Windows track (old AVI-to-MKV remuxes)
    the BITMAPINFOHEADER's fourcc, since ``V_MS/VFW/FOURCC`` alone does not say which."""
    private = entry.codec_private or b""
    if entry.codec_id == "V_MS/VFW/FOURCC" and len(private) >= 20:
        return f"{entry.codec_id} {private[16:20].decode('latin-1')}"
    return entry.codec_id


def _vp9_codec_string(private: bytes, keyframe: bytes | None, picture_size: int) -> str:
    """VP9 profile, level and bit depth from the WebM CodecPrivate features, falling back
    to the keyframe's header for profile and bit depth, and for the level to the lowest
    whose picture size fits (VP9 levels, https://www.webmproject.org/vp9/levels/)."""
    features = {}
    pos = 0
    while pos + 2 <= len(private):
        feature_id, length = private[pos], private[pos + 1]
        features[feature_id] = int.from_bytes(private[pos + 2 : pos + 2 + length], "big")
        pos += 2 + length
    profile = features.get(1)
    bit_depth = features.get(3)
    if (profile is None or bit_depth is None) and keyframe:
        header = vp9_keyframe_info(keyframe)
        if header is not None:
            profile, bit_depth = header
    level = features.get(2) or next(
        (level for level, most in VP9_LEVEL_PICTURE_SIZES if picture_size <= most), 62
    )
    return vp9_codec_string(profile or 0, level, bit_depth or 8)


def vp9_keyframe_info(frame: bytes) -> tuple[int, int] | None:
    """``(profile, bit depth)`` from a VP9 keyframe's uncompressed header (VP9 bitstream
    spec sections 6.2 and 6.2.2), or None when the frame is not a keyframe."""
    if len(frame) < 5:
        return None
    bits = int.from_bytes(frame[:5], "big")
    width = 40

    def take(count: int) -> int:
        nonlocal width
        width -= count
        return (bits >> width) & ((1 << count) - 1)

    if take(2) != 2:  # frame_marker
        return None
    low = take(1)
    profile = (take(1) << 1) | low
    if profile == 3:
        take(1)  # reserved_zero
    if take(1) or take(1):  # show_existing_frame, then frame_type (0 = keyframe)
        return None
    take(2)  # show_frame, error_resilient_mode
    if take(24) != 0x498342:  # frame_sync_code
        return None
    bit_depth = 8
    if profile >= 2:
        bit_depth = 12 if take(1) else 10
    return profile, bit_depth
