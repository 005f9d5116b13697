"""CodecPrivate for a track being written, including when the encoder gave no description.

Browsers' WebCodecs encoders give no ``description`` for AV1, and may give none for Opus
or AAC, but Matroska's codec mappings require CodecPrivate for V_AV1 (an av1C record),
A_OPUS (an OpusHead) and A_AAC (an AudioSpecificConfig). Those three are built here from
the codec string and the audio fields; the others must come with their description.
"""

from __future__ import annotations

import struct

from ..codec_data import audio_specific_config
from ..errors import UnsupportedError
from ..track import AudioTrack, Track

#: Codecs whose CodecPrivate carries decoder setup that cannot be made up.
NEEDS_DESCRIPTION = frozenset({"h264", "hevc", "vorbis", "flac"})


def codec_private(track: Track) -> bytes | None:
    if track.description:
        return track.description
    if track.codec in NEEDS_DESCRIPTION:
        raise UnsupportedError(
            f"a {track.codec} track needs its decoder description (CodecPrivate) to be "
            "written to Matroska, and none was given"
        )
    if track.codec == "av1":
        return av1c_from_codec_string(track.codec_string)
    if isinstance(track, AudioTrack) and track.codec == "opus":
        return opus_head(track.channels, track.sample_rate)
    if isinstance(track, AudioTrack) and track.codec == "aac":
        parts = track.codec_string.split(".")
        object_type = int(parts[2]) if len(parts) == 3 and parts[2].isdigit() else 2
        return audio_specific_config(object_type, track.sample_rate, track.channels)
    return None


def opus_head(channels: int, sample_rate: int) -> bytes:
    """An OpusHead (RFC 7845 section 5.1) for mono or stereo, with no pre-skip."""
    if not 1 <= channels <= 2:
        raise UnsupportedError(
            f"an Opus track of {channels} channels needs its OpusHead (description), "
            "which holds the channel mapping"
        )
    return b"OpusHead" + struct.pack("<BBHIhB", 1, channels, 0, sample_rate, 0, 0)


def av1c_from_codec_string(codec_string: str) -> bytes:
    """The four fixed bytes of an av1C record (AV1 ISOBMFF binding section 2.3.3), from
    ``av01.P.LLT.DD[.M.CCC…]``; configOBUs stay empty (the sequence header is in-band)."""
    parts = codec_string.split(".")
    try:
        profile, level, tier = int(parts[1]), int(parts[2][:2]), parts[2][2:]
        depth = int(parts[3])
        monochrome = int(parts[4]) if len(parts) > 4 else 0
        chroma = parts[5] if len(parts) > 5 else "110"
        x, y, position = int(chroma[0]), int(chroma[1]), int(chroma[2])
    except (IndexError, ValueError):
        raise UnsupportedError(
            f"cannot make an av1C from the codec string {codec_string!r}; "
            "give the AV1 track its description"
        ) from None
    flags = (
        (tier == "H") << 7
        | (depth > 8) << 6
        | (depth == 12) << 5
        | monochrome << 4
        | x << 3
        | y << 2
        | position
    )
    return bytes([0x81, profile << 5 | level, flags, 0])
