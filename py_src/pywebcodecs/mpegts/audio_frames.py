"""Audio frames inside PES packets: ADTS (ISO/IEC 14496-3 section 1.A.2), MPEG-1/2 audio
(ISO/IEC 11172-3 section 2.4.2.3, 13818-3), AC-3/E-AC-3 (:mod:`pywebcodecs.ac3`) and DTS
(:mod:`pywebcodecs.dts`) headers.

A PES holds several audio frames; ffmpeg's parsers split them, so ffprobe lists one packet
per frame, the first with the PES timestamp and the others interpolated from the frame
durations. This module finds the frames; the demuxer assigns the times.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..ac3 import parse_syncframe
from ..codec_data import AAC_SAMPLE_RATES, parse_audio_specific_config
from ..dts import SUBSTREAM_SYNC, parse_core_frame
from ..errors import FormatError

_AAC_CHANNELS = (0, 1, 2, 3, 4, 5, 6, 8)
_MPEG_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
_BITRATES = {  # kbit/s by (MPEG-1?, layer), index 1..14
    (True, 1): (32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_BITRATES[(False, 3)] = _BITRATES[(False, 2)]
#: MPEG-1 Layer II bitrates (kbit/s) that one mode may not use (ISO/IEC 11172-3 section
#: 2.4.2.3, the table of allowed bitrate and mode combinations): the lowest are for mono
#: only, the highest for two channels only. MPEG-2's low-rate Layer II has no such rule.
_LAYER2_MONO_ONLY = (32, 48, 56, 80)
_LAYER2_TWO_CHANNELS_ONLY = (224, 256, 320, 384)


@dataclass(frozen=True)
class AudioFrame:
    """One frame's place in its buffer and what its header says."""

    start: int  # where the payload starts (after an ADTS header; at the MPEG audio header)
    end: int
    samples: int
    sample_rate: int
    channels: int
    profile: int  # AAC audio object type; MPEG audio layer; AC-3/E-AC-3 bsid; 0 for DTS


def adts_frame(data: bytes, pos: int) -> AudioFrame | None:
    """The ADTS frame at ``pos``, or None when no valid header is there."""
    if pos + 7 > len(data) or data[pos] != 0xFF or data[pos + 1] & 0xF6 != 0xF0:
        return None
    h = data[pos : pos + 7]
    rate_index = (h[2] >> 2) & 0xF
    length = (h[3] & 3) << 11 | h[4] << 3 | h[5] >> 5
    header = 7 if h[1] & 1 else 9
    if rate_index >= len(AAC_SAMPLE_RATES) or length < header:
        return None
    blocks = (h[6] & 3) + 1
    channels = _AAC_CHANNELS[(h[2] & 1) << 2 | h[3] >> 6]
    return AudioFrame(pos + header, pos + length, 1024 * blocks, AAC_SAMPLE_RATES[rate_index],
                      channels, (h[2] >> 6) + 1)  # fmt: skip


def latm_frame(data: bytes, pos: int) -> AudioFrame | None:
    """The LOAS frame at ``pos`` (AudioSyncStream, ISO/IEC 14496-3 section 1.7.2) when its
    AudioMuxElement carries a StreamMuxConfig (audioMuxVersion 0, section 1.7.3), which
    says the AAC object type, rate and channels; None for other frames. Only the track's
    description is read from LATM: no browser decodes it and no output container holds it,
    so the track is listed (and refused unless dropped) rather than lost unsaid."""
    if pos + 3 > len(data) or data[pos] != 0x56 or data[pos + 1] & 0xE0 != 0xE0:
        return None
    length = (data[pos + 1] & 0x1F) << 8 | data[pos + 2]
    head = int.from_bytes(data[pos + 3 : pos + 11].ljust(8, b"\0"), "big")
    if head >> 62:  # useSameStreamMux, or an audioMuxVersion 1 config
        return None
    # allStreamsSameTimeFraming (1), numSubFrames (6), numProgram (4), numLayer (3), then
    # the first layer's AudioSpecificConfig.
    config = (head << 16 & (1 << 64) - 1).to_bytes(8, "big")
    try:
        object_type, rate, channels = parse_audio_specific_config(config)
    except FormatError:
        return None
    return AudioFrame(pos + 3, pos + 3 + length, 1024, rate, channels, object_type)


def mpeg_audio_frame(data: bytes, pos: int) -> AudioFrame | None:
    """The MPEG-1/2/2.5 Layer I/II/III frame at ``pos``, or None without a valid header."""
    if pos + 4 > len(data) or data[pos] != 0xFF or data[pos + 1] & 0xE0 != 0xE0:
        return None
    version = (data[pos + 1] >> 3) & 3  # 3 = MPEG-1, 2 = MPEG-2, 0 = MPEG-2.5
    layer = 4 - ((data[pos + 1] >> 1) & 3)
    bitrate_index = data[pos + 2] >> 4
    rate_index = (data[pos + 2] >> 2) & 3
    if version == 1 or layer == 4 or rate_index == 3 or bitrate_index in (0, 15):
        return None
    mpeg1 = version == 3
    bitrate = _BITRATES[(mpeg1, layer)][bitrate_index - 1] * 1000
    rate = _MPEG_RATES[version][rate_index]
    padding = (data[pos + 2] >> 1) & 1
    if layer == 1:
        samples, length = 384, (12 * bitrate // rate + padding) * 4
    else:
        samples = 1152 if layer == 2 or mpeg1 else 576
        length = samples // 8 * bitrate // rate + padding
    channels = 1 if data[pos + 3] >> 6 == 3 else 2
    return AudioFrame(pos, pos + length, samples, rate, channels, layer)


def forbidden_layer2_mode(data: bytes) -> str | None:
    """Why the MPEG audio frame at the start of ``data`` breaks the standard's rule on
    MPEG-1 Layer II bitrates and modes, or None. Such frames parse, and ffmpeg writes and
    plays them (mono at 384 kbit/s), but decoders that keep the rule refuse them
    (Chromium: "invalid Layer 2 bitrate for mono"); telling it beforehand names the
    cause instead of a bare decoding error."""
    frame = mpeg_audio_frame(data, 0)
    if frame is None or frame.profile != 2 or (data[1] >> 3) & 3 != 3:
        return None
    kbits = _BITRATES[(True, 2)][(data[2] >> 4) - 1]
    mono = frame.channels == 1
    if kbits not in (_LAYER2_TWO_CHANNELS_ONLY if mono else _LAYER2_MONO_ONLY):
        return None
    modes = ("mono", "two channels") if mono else ("two channels", "mono")
    return (
        f"MPEG-1 Layer II at {kbits} kbit/s in {modes[0]}, which the standard does not allow "
        f"(ISO/IEC 11172-3 section 2.4.2.3: {kbits} kbit/s is for {modes[1]} only)"
    )


def ac3_frame(data: bytes, pos: int) -> AudioFrame | None:
    """The AC-3 or E-AC-3 syncframe at ``pos`` (kept whole, as MP4 and Matroska store it)."""
    frame = parse_syncframe(data, pos)
    if frame is None:
        return None
    return AudioFrame(pos, pos + frame.size, frame.samples, frame.sample_rate, frame.channels,
                      frame.bsid)  # fmt: skip


_DTS_MAX_CORE = 16384 + 4  # FSIZE is 14 bits; then maybe the sync of an extension substream


def dts_frame(data: bytes, pos: int) -> AudioFrame | None:
    """The DTS core frame at ``pos`` with the DTS-HD extension substream that follows it in
    the same access unit, if any (ETSI TS 102 114 section 7.4: the substream header's
    nuExtSSFsize gives its size), so that no part of a DTS-HD stream is lost."""
    core = parse_core_frame(data[pos : pos + _DTS_MAX_CORE])
    if core is None:
        return None
    end = pos + core.size
    if core.has_extension_substream:
        end += _substream_size(data, end)
    return AudioFrame(pos, end, core.samples, core.sample_rate, core.channels, 0)


def _substream_size(data: bytes, pos: int) -> int:
    """nuExtSSFsize of the extension substream header at ``pos`` (section 7.5.2: sync,
    UserDefinedBits(8), nExtSSIndex(2), bHeaderSizeType(1), nuExtSSHeaderSize(8 or 12),
    nuExtSSFsize(16 or 20), each minus one); a header not all there counts as the 10
    bytes it needs at least, so that the caller waits for more data."""
    if len(data) < pos + 10 or data[pos : pos + 4] != SUBSTREAM_SYNC:
        return 10
    bits = int.from_bytes(data[pos + 4 : pos + 10], "big")  # 48 bits after the sync
    long_header = bits >> 37 & 1
    size_bits = 20 if long_header else 16
    skip = 8 + 2 + 1 + (12 if long_header else 8)
    return (bits >> (48 - skip - size_bits) & ((1 << size_bits) - 1)) + 1
