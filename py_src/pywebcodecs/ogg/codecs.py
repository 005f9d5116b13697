"""The codecs an Ogg stream can carry, each recognised by its first packet: Opus (RFC 7845),
Vorbis (Vorbis I specification section 4.2) and FLAC ("Ogg FLAC mapping", FLAC format
specification appendix).

A codec knows its header packets (which become the decoder ``description`` and the tags),
how many samples an audio packet holds, and how a granule position maps to a timestamp.
"""

from __future__ import annotations

import struct
from abc import ABC, abstractmethod

from ..errors import FormatError
from ..flac.frame_header import parse_frame_header
from ..flac.metadata import (
    PICTURE,
    VORBIS_COMMENT,
    flac_description,
    parse_picture,
    parse_streaminfo,
)
from ..track import AudioTrack, VideoTrack
from .comments import Comments, parse_comments
from .vorbis_setup import VorbisDurations, parse_identification, parse_setup

OPUS_RATE = 48000
#: Samples at 48 kHz of one Opus frame, by TOC configuration number (RFC 6716 section 3.1).
_OPUS_FRAME = (480, 960, 1920, 2880) * 3 + (480, 960) * 2 + (120, 240, 480, 960) * 4
_OPUS_MAX_PACKET = 5760  # 120 ms


class OggCodec(ABC):
    """One logical stream's codec, built from the stream's first packet."""

    codec: str
    #: Opus and Vorbis date their first page back from its granule by the durations of its
    #: packets, as ffmpeg does; FLAC starts at 0.
    dates_first_page_back = True

    def __init__(self, first: bytes) -> None:
        self.comments = Comments()
        self.headers = [first]

    @property
    @abstractmethod
    def header_count(self) -> int:
        """How many header packets the stream starts with (the first included)."""

    def add_header(self, packet: bytes) -> None:
        """Keep the next header packet (and read the comments in it)."""
        self.headers.append(packet)

    @abstractmethod
    def track(self, serial: int) -> AudioTrack:
        """The track, once every header is in."""

    @abstractmethod
    def duration(self, packet: bytes) -> int:
        """Samples (in the track's timescale) that an audio packet holds."""

    def granule_to_pts(self, granule: int) -> int:
        return granule

    def reset(self) -> None:  # noqa: B027 - only Vorbis carries state between packets
        """Forget state carried between packets."""


class OpusCodec(OggCodec):
    """``OpusHead`` then ``OpusTags`` (RFC 7845 sections 5.1, 5.2); granules count 48 kHz
    samples including the pre-skip, which timestamps subtract (section 4)."""

    codec = "opus"

    def __init__(self, first: bytes) -> None:
        super().__init__(first)
        if len(first) < 19 or first[8] >> 4:
            raise FormatError(f"OpusHead of {len(first)} bytes, version {first[8:9].hex()}")
        self.channels = first[9]
        (self.pre_skip,) = struct.unpack_from("<H", first, 10)
        if self.channels == 0:
            raise FormatError("OpusHead gives 0 channels")

    header_count = 2

    def add_header(self, packet: bytes) -> None:
        if packet[:8] != b"OpusTags":
            raise FormatError("the packet after OpusHead is not OpusTags")
        self.comments = parse_comments(packet[8:])
        super().add_header(packet)

    def track(self, serial: int) -> AudioTrack:
        return AudioTrack(id=serial, codec="opus", codec_string="opus",
                          description=self.headers[0], timescale=OPUS_RATE,
                          sample_rate=OPUS_RATE, channels=self.channels)  # fmt: skip

    def duration(self, packet: bytes) -> int:
        if not packet:
            return 0
        toc = packet[0]
        count = (1, 2, 2, -1)[toc & 3]
        if count < 0:
            count = packet[1] & 0x3F if len(packet) > 1 else 0
        samples = count * _OPUS_FRAME[toc >> 3]
        return samples if samples <= _OPUS_MAX_PACKET else 0

    def granule_to_pts(self, granule: int) -> int:
        return granule - self.pre_skip


class VorbisCodec(OggCodec):
    """Identification, comment and setup headers (packet types 1, 3, 5); the decoder
    ``description`` is the three in Xiph lacing, as in Matroska's CodecPrivate."""

    codec = "vorbis"

    def __init__(self, first: bytes) -> None:
        super().__init__(first)
        self.channels, self.sample_rate, _sizes = parse_identification(first)
        self.durations: VorbisDurations | None = None

    header_count = 3

    def add_header(self, packet: bytes) -> None:
        kind = len(self.headers) * 2 + 1
        if packet[:7] != bytes([kind]) + b"vorbis":
            raise FormatError(f"Vorbis header packet {len(self.headers) + 1} is not type {kind}")
        if kind == 3:
            self.comments = parse_comments(packet[7:])
        else:
            self.durations = VorbisDurations(parse_setup(self.headers[0], packet))
        super().add_header(packet)

    def track(self, serial: int) -> AudioTrack:
        lacing = b"".join(
            b"\xff" * (len(h) // 255) + bytes([len(h) % 255]) for h in self.headers[:2]
        )
        return AudioTrack(id=serial, codec="vorbis", codec_string="vorbis",
                          description=b"\x02" + lacing + b"".join(self.headers),
                          timescale=self.sample_rate, sample_rate=self.sample_rate,
                          channels=self.channels)  # fmt: skip

    def duration(self, packet: bytes) -> int:
        assert self.durations is not None, "setup header first"
        return self.durations.duration(packet)

    def reset(self) -> None:
        assert self.durations is not None, "setup header first"
        self.durations.reset()


class FlacCodec(OggCodec):
    """``\\x7fFLAC``, version, header count, ``fLaC`` and STREAMINFO, then the other
    metadata blocks one per packet; the ``description`` is ``fLaC`` + STREAMINFO block as
    WebCodecs' FLAC registration asks."""

    codec = "flac"
    dates_first_page_back = False

    def __init__(self, first: bytes) -> None:
        super().__init__(first)
        if len(first) < 51 or first[9:13] != b"fLaC":
            raise FormatError("Ogg FLAC first packet lacks 'fLaC' and a STREAMINFO block")
        self.info = parse_streaminfo(first[17:51])
        self._header_count = 1 + int.from_bytes(first[7:9], "big")

    @property
    def header_count(self) -> int:
        return self._header_count

    def add_header(self, packet: bytes) -> None:
        """A metadata block: VORBIS_COMMENT (type 4) gives tags, PICTURE (6) images."""
        kind = packet[0] & 0x7F if packet else -1
        if kind == VORBIS_COMMENT:
            self.comments.tags.update(parse_comments(packet[4:]).tags)
        elif kind == PICTURE:
            self.comments.images.append(parse_picture(packet[4:]))
        super().add_header(packet)

    def track(self, serial: int) -> AudioTrack:
        info = self.info
        description = flac_description(self.headers[0][17:51])
        return AudioTrack(id=serial, codec="flac", codec_string="flac",
                          description=description, timescale=info.sample_rate,
                          duration=info.total_samples or None, sample_rate=info.sample_rate,
                          channels=info.channels, bits_per_sample=info.bits_per_sample)  # fmt: skip

    def duration(self, packet: bytes) -> int:
        header = parse_frame_header(packet, 0)
        return 0 if header is None else header.block_size


def codec_for(first: bytes) -> OggCodec | None:
    """The codec whose identification packet ``first`` is, or None for other codecs."""
    if first[:8] == b"OpusHead":
        return OpusCodec(first)
    if first[:7] == b"\x01vorbis":
        return VorbisCodec(first)
    if first[:5] == b"\x7fFLAC":
        return FlacCodec(first)
    return None


def theora_track(first: bytes, serial: int) -> VideoTrack | None:
    """The track a Theora identification header (``\\x80theora``, Theora specification
    section 6.2) describes, or None for other packets. Theora is listed, not read: no
    browser's WebCodecs decodes it, so the conversion refuses the track by name (or drops it
    when asked) instead of skipping a video track unsaid."""
    if first[:7] != b"\x80theora" or len(first) < 42:
        return None
    width = int.from_bytes(first[14:17], "big")
    height = int.from_bytes(first[17:20], "big")
    numerator, denominator = struct.unpack_from(">II", first, 22)
    return VideoTrack(id=serial, codec="theora", codec_string="theora", description=None,
                      timescale=numerator or 1, duration=None, width=width, height=height,
                      frame_rate=numerator / denominator if denominator else None)  # fmt: skip
