"""Sample entries for the MP4 writer: the ``stsd`` box (ISO 14496-12 section 8.5.2).

``Track.description`` is what WebCodecs uses, and for most codecs it is already the body
of the MP4 configuration box (avcC, hvcC, av1C). The others are converted: the
AudioSpecificConfig goes into an esds descriptor chain (ISO 14496-1 section 7.2.6), the
OpusHead becomes big-endian dOps (Opus in ISOBMFF section 4.3.2), ``fLaC`` + metadata
blocks become dfLa (FLAC in ISOBMFF section 3.3.2), and VP9's vpcC is rebuilt from the
codec string (VP Codec ISOBMFF Binding section 2.2).

AC-3, E-AC-3 and DTS keep their setup in every frame and no other container stores a
record of it, so :func:`with_in_band_config` makes ``dac3``/``dec3``/``ddts`` from the
track's first packet. PCM is written the way QuickTime and ffmpeg read it: ``sowt``/``twos``
for 8/16-bit integers (version 0 sound description), ``lpcm`` with its format flags
(version 2, QuickTime File Format "Sound sample description version 2") for the rest.
"""

from __future__ import annotations

import dataclasses
import struct

from .. import ac3, dts
from ..errors import UnsupportedError
from ..matroska.codec_ids import MATRIX, PRIMARIES, TRANSFER
from ..track import AudioTrack, ColorInfo, Track, VideoTrack
from .box_writer import box, fixed_16_16, full_box

_VIDEO_FOURCC = {"h264": "avc1", "hevc": "hvc1", "vp9": "vp09", "av1": "av01"}
_CONFIG_BOX = {"h264": "avcC", "hevc": "hvcC", "av1": "av1C"}
_UNSPECIFIED = 2  # ITU-T H.273: colour primaries/transfer/matrix "unspecified"
#: objectTypeIndication (ISO 14496-1 table 5): MPEG-4 audio, MPEG-1 audio (MP3).
_OBJECT_TYPE = {"aac": 0x40, "mp3": 0x6B}
#: Codecs whose configuration box is made from the first packet, with the box's name.
IN_BAND_CONFIG = {"ac3": ("ac-3", "dac3"), "eac3": ("ec-3", "dec3"), "dts": ("dtsc", "ddts")}
#: PCM in a version 0 sound description: (fourcc, bits per sample).
_PCM_V0 = {"pcm_s16le": ("sowt", 16), "pcm_s16be": ("twos", 16), "pcm_s8": ("twos", 8),
           "pcm_u8": ("raw ", 8)}  # fmt: skip
#: PCM in an ``lpcm`` version 2 sound description.
_PCM_LPCM = frozenset(
    f"pcm_{kind}{bits}{end}"
    for kind, bits in (("s", 24), ("s", 32), ("f", 32), ("f", 64))
    for end in ("le", "be")
)
PCM_CODECS = frozenset(_PCM_V0) | _PCM_LPCM
_LPCM_FLOAT, _LPCM_BIG_ENDIAN, _LPCM_SIGNED, _LPCM_PACKED = 0x1, 0x2, 0x4, 0x8


def stsd(track: Track, bitrate: int = 0) -> bytes:
    """The sample description box with the track's one sample entry."""
    entry = _video_entry(track) if isinstance(track, VideoTrack) else _audio_entry(track, bitrate)
    return full_box("stsd", 0, 0, struct.pack(">I", 1), entry)


def _video_entry(track: VideoTrack) -> bytes:
    fourcc = _VIDEO_FOURCC[track.codec]
    # section 12.1.3.2: 72 dpi, one frame per sample, depth 0x18, pre_defined -1
    fields = struct.pack(">6xH16xHHIIIH32sHh", 1, track.width, track.height, 0x480000,
                         0x480000, 0, 1, b"", 0x18, -1)  # fmt: skip
    if track.codec == "vp9":
        config = _vpcc(track)
    else:
        if not track.description:
            raise UnsupportedError(f"{track.codec} in MP4 needs its decoder configuration")
        config = box(_CONFIG_BOX[track.codec], track.description)
    children = [config]
    if track.color is not None and track.codec != "vp9":
        children.append(_colr(track.color))
    if track.pixel_aspect[0] != track.pixel_aspect[1]:
        children.append(box("pasp", struct.pack(">II", *track.pixel_aspect)))
    return box(fourcc, fields, *children)


def _colour_codes(color: ColorInfo | None) -> tuple[int, int, int, bool]:
    if color is None:
        return _UNSPECIFIED, _UNSPECIFIED, _UNSPECIFIED, False
    return (
        PRIMARIES.get(color.primaries or "", _UNSPECIFIED),
        TRANSFER.get(color.transfer or "", _UNSPECIFIED),
        MATRIX.get(color.matrix or "", _UNSPECIFIED),
        bool(color.full_range),
    )


def _colr(color: ColorInfo) -> bytes:
    """nclx colour information (section 12.1.5)."""
    primaries, transfer, matrix, full = _colour_codes(color)
    return box("colr", b"nclx", struct.pack(">HHHB", primaries, transfer, matrix, full << 7))


def _vpcc(track: VideoTrack) -> bytes:
    """vpcC version 1 from ``vp09.PP.LL.DD[.CC.cp.tc.mc.FF]``; colour from the track."""
    fields = track.codec_string.split(".")
    try:
        profile, level, depth = (int(f) for f in fields[1:4])
    except ValueError:
        raise UnsupportedError(
            f"VP9 codec string {track.codec_string!r} is not vp09.PP.LL.DD"
        ) from None
    chroma = int(fields[4]) if len(fields) > 4 else 1  # 4:2:0 co-located with luma
    primaries, transfer, matrix, full = _colour_codes(track.color)
    packed = (depth << 4) | (chroma << 1) | int(full)
    body = struct.pack(">BBBBBBH", profile, level, packed, primaries, transfer, matrix, 0)
    return full_box("vpcC", 1, 0, body)


def _audio_entry(track: Track, bitrate: int) -> bytes:
    assert isinstance(track, AudioTrack)
    rate = 48000 if track.codec == "opus" else track.sample_rate
    # section 12.2.3.2: reserved, data_reference_index, channelcount, samplesize 16
    fields = struct.pack(">6xH8xHH4xI", 1, track.channels, 16, fixed_16_16(rate))
    if track.codec in _OBJECT_TYPE:
        return box("mp4a", fields, _esds(track, bitrate))
    if track.codec == "opus":
        return box("Opus", fields, _dops(track.description))
    if track.codec == "flac":
        description = track.description or b""
        # dfLa starts with STREAMINFO (block type 0); readers refuse anything else.
        if not description.startswith(b"fLaC") or len(description) < 8 or description[4] & 0x7F:
            raise UnsupportedError("FLAC in MP4 needs the fLaC header and STREAMINFO first")
        return box("fLaC", fields, full_box("dfLa", 0, 0, description[4:]))
    if track.codec in IN_BAND_CONFIG:
        fourcc, config = IN_BAND_CONFIG[track.codec]
        if not track.description:
            raise UnsupportedError(f"{track.codec} track {track.id} has no frame to describe")
        return box(fourcc, fields, box(config, track.description))
    if track.codec in _PCM_V0:
        fourcc, bits = _PCM_V0[track.codec]
        rate_field = fixed_16_16(rate) if rate < 1 << 16 else 0
        return box(fourcc, struct.pack(">6xH8xHH4xI", 1, track.channels, bits, rate_field))
    if track.codec in _PCM_LPCM:
        return box("lpcm", _lpcm_fields(track))
    raise UnsupportedError(f"an MP4 file cannot hold {track.codec}")


def _lpcm_fields(track: AudioTrack) -> bytes:
    """A version 2 sound description: the v0 fields set to their fixed values (3 channels,
    16 bits, compression -2, 1.0 Hz), then the real rate, channels, bits and format flags."""
    kind, bits, endian = track.codec[4], int(track.codec[5:-2]), track.codec[-2:]
    flags = _LPCM_PACKED | (_LPCM_FLOAT if kind == "f" else _LPCM_SIGNED)
    flags |= _LPCM_BIG_ENDIAN if endian == "be" else 0
    bytes_per_frame = bits // 8 * track.channels
    return struct.pack(">6xHHH4xHHhHIIdIIIIII", 1, 2, 0, 3, 16, -2, 0, 0x10000, 72,
                       float(track.sample_rate), track.channels, 0x7F000000, bits, flags,
                       bytes_per_frame, 1)  # fmt: skip


def with_in_band_config(track: Track, first_packet: bytes) -> Track:
    """``track`` with the body of its ``dac3``/``dec3``/``ddts`` box as the description, made
    from its first packet (any description given is ignored: the bitstream decides)."""
    if track.codec not in IN_BAND_CONFIG:
        return track
    where = f"{track.codec} track {track.id}"
    try:
        body = _config_box_body(track.codec, first_packet)
    except ValueError as exc:
        raise UnsupportedError(f"{where}: {exc}") from None
    return dataclasses.replace(track, description=body)


def _config_box_body(codec: str, first_packet: bytes) -> bytes:
    if codec == "dts":
        core = dts.parse_core_frame(first_packet)
        if core is None:
            raise ValueError("the first packet is not a DTS core frame")
        if core.has_extension_substream:
            raise ValueError(
                "it is DTS-HD (an extension substream follows the core); MP4 output writes "
                "DTS core only"
            )
        return dts.ddts_body(core, core.size * 8 * core.sample_rate // core.samples)
    frame = ac3.parse_syncframe(first_packet)
    if frame is None or frame.codec != codec:
        raise ValueError(f"the first packet is not an {codec} syncframe")
    return ac3.dac3_body(frame) if codec == "ac3" else ac3.dec3_body(first_packet)


def _descriptor(tag: int, *parts: bytes) -> bytes:
    """An MPEG-4 descriptor with its size in the 4-byte expandable form (section 8.3.3)."""
    body = b"".join(parts)
    size = len(body)
    length = bytes(0x80 | ((size >> shift) & 0x7F) for shift in (21, 14, 7)) + bytes([size & 0x7F])
    return bytes([tag]) + length + body


def _esds(track: Track, bitrate: int) -> bytes:
    """ES_Descriptor → DecoderConfigDescriptor (+ DecoderSpecificInfo) → SLConfig."""
    stream_type = (0x05 << 2) | 1  # audio stream, upstream 0, reserved 1
    config = struct.pack(">BB3sII", _OBJECT_TYPE[track.codec], stream_type, bytes(3),
                         bitrate, bitrate)  # fmt: skip
    specific = [_descriptor(0x05, track.description)] if track.description else []
    decoder = _descriptor(0x04, config, *specific)
    es = _descriptor(0x03, struct.pack(">HB", track.id & 0xFFFF, 0), decoder,
                     _descriptor(0x06, b"\x02"))  # fmt: skip
    return full_box("esds", 0, 0, es)


def _dops(head: bytes | None) -> bytes:
    """OpusHead (RFC 7845 section 5.1, little-endian) → dOps (big-endian, version 0)."""
    if not head or len(head) < 19 or not head.startswith(b"OpusHead"):
        raise UnsupportedError("Opus in MP4 needs the OpusHead as the track description")
    channels = head[9]
    pre_skip, rate, gain = struct.unpack_from("<HIh", head, 10)
    family = head[18]
    body = struct.pack(">BBHIhB", 0, channels, pre_skip, rate, gain, family)
    if family:
        body += head[19 : 21 + channels]
    return box("dOps", body)
