"""Audio frames inside PES packets: ADTS (ISO/IEC 14496-3 section 1.A.2), MPEG-1/2 audio
(ISO/IEC 11172-3 section 2.4.2.3, 13818-3) and AC-3/E-AC-3 (:mod:`pywebcodecs.ac3`) headers.

A PES holds several audio frames; ffmpeg's parsers split them, so ffprobe lists one packet
per frame, the first with the PES timestamp and the others interpolated from the frame
durations. This module finds the frames; the demuxer assigns the times.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..ac3 import parse_syncframe
from ..codec_data import AAC_SAMPLE_RATES

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


@dataclass(frozen=True)
class AudioFrame:
    """One frame's place in its buffer and what its header says."""

    start: int  # where the payload starts (after an ADTS header; at the MPEG audio header)
    end: int
    samples: int
    sample_rate: int
    channels: int
    profile: int  # AAC audio object type; MPEG audio layer; AC-3/E-AC-3 bsid


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


def ac3_frame(data: bytes, pos: int) -> AudioFrame | None:
    """The AC-3 or E-AC-3 syncframe at ``pos`` (kept whole, as MP4 and Matroska store it)."""
    frame = parse_syncframe(data, pos)
    if frame is None:
        return None
    return AudioFrame(pos, pos + frame.size, frame.samples, frame.sample_rate, frame.channels,
                      frame.bsid)  # fmt: skip
