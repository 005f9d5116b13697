"""Sample entries (the ``stsd`` box): which codec a track holds and how to set it up.

Video entries follow ISO 14496-12 section 12.1.3, audio entries section 12.2.3 including
the QuickTime version 1 and 2 layouts (MOV files). The codec-specific boxes inside them
(avcC, hvcC, vpcC, av1C, esds, dOps, dfLa, colr, pasp) become ``codec``, ``codec_string``
and ``description`` as WebCodecs wants them.

An ``mp4a`` entry is only a wrapper: its esds objectTypeIndication names the codec (DTS
and AC-3 are stored so too), and a type we cannot name keeps it as its name (``mp4a.c0``)
so that nothing decodes or copies it as AAC. AC-3, E-AC-3 and DTS get no ``description``:
their setup is in every frame, and the writers rebuild their boxes from the first one.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from .. import codec_data
from ..ac3 import ACMOD_CHANNELS
from ..errors import FormatError
from ..track import ColorInfo
from .boxes import BoxView

_VIDEO_ENTRY = struct.Struct(">6xH16xHH50x")  # data_reference_index, width, height (78 bytes)
_AUDIO_ENTRY = struct.Struct(">6xHHH4xHHHHI")  # dref, version, revision, channels, bits, ..rate

VIDEO_CODECS = {"avc1": "h264", "avc3": "h264", "hvc1": "hevc", "hev1": "hevc",
                "vp08": "vp8", "vp09": "vp9", "av01": "av1", "mp4v": "mpeg4",
                "jpeg": "mjpeg", "mjpa": "mjpeg"}  # fmt: skip
PCM_CODECS = {"sowt": ("pcm_s16le", "pcm-s16"), "twos": ("pcm_s16be", "pcm-s16be"),
              "in24": ("pcm_s24be", "pcm-s24be"), "in32": ("pcm_s32be", "pcm-s32be"),
              "fl32": ("pcm_f32be", "pcm-f32be"), "raw ": ("pcm_u8", "pcm-u8")}  # fmt: skip
#: objectTypeIndication of an esds (MP4RA "Object Types" registry, after ISO 14496-1 table
#: 5) → ffprobe's codec name, for the audio codecs other than MPEG-4 audio (0x40). MPEG-2
#: AAC (0x66-0x68) carries an AudioSpecificConfig like 0x40 does; DTS's four types are the
#: core, DTS-HD high resolution, DTS-HD master audio and DTS Express.
OBJECT_TYPES = {0x40: "aac", 0x66: "aac", 0x67: "aac", 0x68: "aac", 0x69: "mp3",
                0x6B: "mp3", 0xA5: "ac3", 0xA6: "eac3", 0xA9: "dts", 0xAA: "dts",
                0xAB: "dts", 0xAC: "dts", 0xAD: "opus", 0xDD: "vorbis"}  # fmt: skip
#: WebCodecs codec strings of the codecs in that table whose string is fixed.
_FIXED_CODEC_STRINGS = {"mp3": "mp3", "opus": "opus", "ac3": "ac-3", "eac3": "ec-3",
                        "vorbis": "vorbis"}  # fmt: skip
#: DTS sample entries (ETSI TS 102 114 Annex E): core, DTS-HD with and without lossless,
#: DTS Express.
DTS_ENTRIES = frozenset({"dtsc", "dtsh", "dtsl", "dtse"})
_PRIMARIES = {1: "bt709", 5: "bt470bg", 6: "smpte170m", 9: "bt2020", 12: "smpte432"}
_TRANSFER = {1: "bt709", 6: "smpte170m", 8: "linear", 13: "iec61966-2-1", 16: "pq", 18: "hlg"}
_MATRIX = {0: "rgb", 1: "bt709", 5: "bt470bg", 6: "smpte170m", 9: "bt2020-ncl"}


@dataclass
class SampleEntry:
    fourcc: str
    codec: str
    codec_string: str
    description: bytes | None = None
    # video
    width: int = 0
    height: int = 0
    pixel_aspect: tuple[int, int] = (1, 1)
    color: ColorInfo | None = None
    # audio
    sample_rate: int = 0
    channels: int = 0
    bits_per_sample: int | None = None
    nal_length_size: int = 4  # H.264/HEVC: bytes of each NAL unit's length in a sample
    notes: list[str] = field(default_factory=list)


def parse_sample_entry(stsd: BoxView, handler: str) -> SampleEntry:
    """The first sample entry of an ``stsd`` box of a ``vide`` or ``soun`` track."""
    entries = list(stsd.children(skip=8))
    if not entries:
        raise FormatError("stsd box holds no sample entry", offset=stsd.body_offset)
    entry = entries[0]
    if handler == "vide":
        return _video_entry(entry)
    return _audio_entry(entry)


def _video_entry(box: BoxView) -> SampleEntry:
    _, width, height = box.unpack(_VIDEO_ENTRY, 0)
    fourcc = box.type
    codec = VIDEO_CODECS.get(fourcc, fourcc.strip())
    entry = SampleEntry(fourcc, codec, fourcc, width=width, height=height)
    children = {child.type: child for child in box.children(skip=_VIDEO_ENTRY.size)}
    config = _config_record(fourcc, children) if codec in ("h264", "hevc") else None
    if codec in ("h264", "hevc") and config is None:
        # Annex-B samples or in-band parameter sets only: the demuxer reads them from the
        # first samples (IsobmffDemuxer._in_band_config).
        entry.codec_string = fourcc
    elif fourcc in ("avc1", "avc3") and config is not None:
        # avc3/hev1 may carry their parameter sets only in-band; the registry has their
        # own codec string prefix for that (WebCodecs AVC registration section 3).
        entry.codec_string = fourcc + codec_data.avc_codec_string(config)[4:]
        entry.description = config
        entry.nal_length_size = (config[4] & 3) + 1
        if fourcc == "avc3" and not config[5] & 0x1F:
            entry.description = None  # no SPS in the avcC: they are in-band only
    elif fourcc in ("hvc1", "hev1") and config is not None:
        entry.codec_string = fourcc + codec_data.hevc_codec_string(config)[4:]
        entry.description = config
        entry.nal_length_size = (config[21] & 3) + 1
    elif fourcc == "av01" and "av1C" in children:
        av1c = bytes(children["av1C"].body)
        entry.codec_string = codec_data.av1_codec_string(av1c)
        entry.description = av1c
    elif fourcc == "vp09" and "vpcC" in children:
        vpcc = children["vpcC"]
        vpcc.need(8)
        profile, level, depth = vpcc.body[4], vpcc.body[5], vpcc.body[6] >> 4
        entry.codec_string = codec_data.vp9_codec_string(profile, level, depth)
    elif fourcc == "vp08":
        entry.codec_string = "vp8"
    if "pasp" in children:
        h_spacing, v_spacing = children["pasp"].unpack(struct.Struct(">II"), 0)
        if h_spacing and v_spacing:
            entry.pixel_aspect = (h_spacing, v_spacing)
    if "colr" in children:
        entry.color = _colour(children["colr"])
    return entry


def _config_record(fourcc: str, children: dict[str, BoxView]) -> bytes | None:
    """The avcC/hvcC body of an H.264/HEVC entry; None when it is missing or too short to
    be one (some writers of Annex-B samples leave an empty box: ISO 14496-15 section 5.3.3
    needs 7 bytes of avcC, Annex E 23 bytes of hvcC)."""
    name, least = ("avcC", 7) if fourcc in ("avc1", "avc3") else ("hvcC", 23)
    record = children.get(name)
    if record is None or len(record.body) < least:
        return None
    return bytes(record.body)


def _colour(box: BoxView) -> ColorInfo | None:
    box.need(10)
    kind = bytes(box.body[:4])
    if kind not in (b"nclx", b"nclc"):
        return None
    primaries, transfer, matrix = struct.unpack_from(">HHH", box.body, 4)
    full = bool(box.body[10] >> 7) if kind == b"nclx" and len(box.body) > 10 else None
    return ColorInfo(_PRIMARIES.get(primaries), _TRANSFER.get(transfer), _MATRIX.get(matrix), full)


def _audio_entry(box: BoxView) -> SampleEntry:
    _, version, _, channels, bits, _, _, rate_fixed = box.unpack(_AUDIO_ENTRY, 0)
    sample_rate = rate_fixed >> 16
    lpcm_flags = 0
    skip = _AUDIO_ENTRY.size
    if version == 1:
        skip += 16
    elif version == 2:
        v2 = box.unpack(struct.Struct(">I d I I I I"), skip)
        if not 0 < v2[1] < 1e7:  # also refuses NaN
            raise FormatError(f"sound description claims a {v2[1]} Hz sample rate",
                              offset=box.body_offset + skip + 4)  # fmt: skip
        sample_rate, channels, bits, lpcm_flags = round(v2[1]), v2[2], v2[4], v2[5]
        skip += 36
    fourcc = box.type
    entry = SampleEntry(fourcc, fourcc.strip(), fourcc.strip(), sample_rate=sample_rate,
                        channels=channels)  # fmt: skip
    children = {child.type: child for child in box.children(skip=skip)}
    if fourcc == "mp4a":
        _mp4a(entry, children)
    elif fourcc == "Opus" and "dOps" in children:
        entry.codec = entry.codec_string = "opus"
        entry.description = _opus_head(children["dOps"])
        entry.sample_rate = 48000
    elif fourcc == "fLaC" and "dfLa" in children:
        entry.codec = entry.codec_string = "flac"
        entry.description = b"fLaC" + bytes(children["dfLa"].body[4:])
    elif fourcc in (".mp3", "mp3 "):
        entry.codec = entry.codec_string = "mp3"
    elif fourcc == "ac-3":
        entry.codec, entry.codec_string = "ac3", "ac-3"
        if "dac3" in children:
            entry.channels = _ac3_channels(children["dac3"])
    elif fourcc == "ec-3":
        entry.codec, entry.codec_string = "eac3", "ec-3"
        if "dec3" in children:
            entry.channels = _eac3_channels(children["dec3"])
    elif fourcc in DTS_ENTRIES:
        entry.codec = "dts"
    elif fourcc == "ulaw":
        entry.codec, entry.codec_string = "pcm_mulaw", "ulaw"
    elif fourcc == "alaw":
        entry.codec, entry.codec_string = "pcm_alaw", "alaw"
    elif fourcc in PCM_CODECS:
        entry.codec, entry.codec_string = _quicktime_pcm(fourcc, children, bits)
        entry.bits_per_sample = bits
    elif fourcc in ("lpcm", "ipcm", "fpcm"):
        entry.codec, entry.codec_string = _lpcm(box, children, bits, lpcm_flags)
        entry.bits_per_sample = bits
    else:
        entry.notes.append(f"unknown audio sample entry {fourcc!r}")
    return entry


def _mp4a(entry: SampleEntry, children: dict[str, BoxView]) -> None:
    """esds → ES_Descriptor → DecoderConfigDescriptor (ISO 14496-1 section 7.2.6.6).

    MOV files keep the esds inside a ``wave`` box (QuickTime sound description v1)."""
    esds = children.get("esds")
    wave = children.get("wave")
    if esds is None and wave is not None:
        esds = wave.child("esds")
    if esds is None:
        entry.codec, entry.codec_string = "aac", "mp4a.40.2"
        return
    body = bytes(esds.body[4:])
    object_type, specific = _decoder_config(body)
    codec = OBJECT_TYPES.get(object_type)
    entry.codec_string = f"mp4a.{object_type:02x}"  # RFC 6381 section 3.3
    if codec is None:
        # Never guess: a track of an unnamed type is listed under its own name, and
        # nothing will decode or copy it under another codec's.
        entry.codec = entry.codec_string
        entry.notes.append(f"mp4a track of unknown object type 0x{object_type:02X}")
        return
    entry.codec = codec
    entry.codec_string = _FIXED_CODEC_STRINGS.get(codec, entry.codec_string)
    if codec == "vorbis":
        entry.description = specific  # the three headers, Xiph-laced (as ffmpeg stores them)
    elif codec == "aac" and specific:
        entry.description = specific
        entry.codec_string = codec_data.aac_codec_string(specific)
        _, rate, channels = codec_data.parse_audio_specific_config(specific)
        entry.sample_rate = entry.sample_rate or rate
        entry.channels = channels or entry.channels
    elif codec == "aac":
        entry.codec_string = "mp4a.40.2"


def _decoder_config(body: bytes) -> tuple[int, bytes | None]:
    """(objectTypeIndication, DecoderSpecificInfo) from the descriptors of an esds box."""
    pos, object_type, specific = 0, 0, None
    while pos < len(body):
        tag = body[pos]
        pos += 1
        length = 0
        for _ in range(4):
            if pos >= len(body):
                raise FormatError("esds descriptor cut off")
            byte = body[pos]
            pos += 1
            length = (length << 7) | (byte & 0x7F)
            if not byte & 0x80:
                break
        if tag == 0x03:  # ES_Descriptor: ES_ID, flags, optional fields, then children
            flags = body[pos + 2] if pos + 2 < len(body) else 0
            pos += 3
            if flags & 0x80:
                pos += 2
            if flags & 0x40 and pos < len(body):
                pos += 1 + body[pos]
            if flags & 0x20:
                pos += 2
            continue
        if tag == 0x04:  # DecoderConfigDescriptor
            object_type = body[pos] if pos < len(body) else 0
            pos += 13
            continue
        if tag == 0x05:  # DecoderSpecificInfo
            specific = body[pos : pos + length]
        pos += length
    return object_type, specific


def _opus_head(dops: BoxView) -> bytes:
    """dOps (big-endian, Opus-in-ISOBMFF section 4.3.2) → OpusHead (RFC 7845 section 5.1)."""
    dops.need(11)
    body = bytes(dops.body)
    channels = body[1]
    pre_skip, rate, gain = struct.unpack_from(">HIh", body, 2)
    mapping = body[10]
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, channels, pre_skip, rate, gain, mapping)
    if mapping:
        head += body[11 : 13 + channels]
    return head


def _ac3_channels(dac3: BoxView) -> int:
    """Channels from the AC3SpecificBox (ETSI TS 102 366 Annex F.4): acmod plus LFE."""
    dac3.need(3)
    bits = int.from_bytes(dac3.body[:3], "big")
    acmod, lfe = (bits >> 11) & 0x7, (bits >> 10) & 0x1
    return ACMOD_CHANNELS[acmod] + lfe


def _eac3_channels(dec3: BoxView) -> int:
    """Channels of the first independent substream of an EC3SpecificBox (ETSI TS 102 366
    Annex F.6): data_rate(13) num_ind_sub(3), then fscod(2) bsid(5) reserved(1) asvc(1)
    bsmod(3) acmod(3) lfeon(1)."""
    dec3.need(4)
    bits = int.from_bytes(dec3.body[:4], "big")
    return ACMOD_CHANNELS[(bits >> 1) & 0x7] + (bits & 1)


def _quicktime_pcm(fourcc: str, children: dict[str, BoxView], bits: int) -> tuple[str, str]:
    """A QuickTime PCM fourcc names big-endian samples unless the ``wave`` box holds an
    ``enda`` atom set to 1 (QuickTime File Format, "Sound sample description extensions").
    ``twos``/``sowt`` name signed integers of the entry's sample size, 16 bits or not
    (ffmpeg writes 8-bit signed PCM as ``sowt`` with size 8)."""
    codec, codec_string = PCM_CODECS[fourcc]
    if fourcc in ("twos", "sowt") and bits in (8, 24, 32):
        end = "" if bits == 8 else codec[-2:]
        codec = f"pcm_s{bits}{end}"
        codec_string = f"pcm-s{bits}{'be' if end == 'be' else ''}"
    wave = children.get("wave")
    enda = wave.child("enda") if wave is not None else None
    if enda is not None and len(enda.body) >= 2 and enda.body[1] and codec.endswith("be"):
        return codec[:-2] + "le", codec_string.removesuffix("be")
    return codec, codec_string


_LPCM_FLOAT, _LPCM_BIG_ENDIAN = 0x1, 0x2


def _lpcm(box: BoxView, children: dict[str, BoxView], bits: int,
          lpcm_flags: int) -> tuple[str, str]:  # fmt: skip
    """QuickTime lpcm (version 2 formatSpecificFlags: float, big-endian) and ISO ipcm and
    fpcm (pcmC box, ISO 23003-5 section 5.1): bits and endianness pick the codec."""
    little = not lpcm_flags & _LPCM_BIG_ENDIAN
    is_float = box.type == "fpcm" or (box.type == "lpcm" and bool(lpcm_flags & _LPCM_FLOAT))
    pcmc = children.get("pcmC")
    if pcmc is not None and len(pcmc.body) >= 6:
        little = bool(pcmc.body[4] & 1)
        bits = pcmc.body[5]
    suffix = "le" if little else "be"
    kind = "f" if is_float else "s"
    # WebCodecs' PCM formats are little-endian; a big-endian one keeps its suffix.
    return f"pcm_{kind}{bits}{suffix}", f"pcm-{kind}{bits}{'' if little else 'be'}"
