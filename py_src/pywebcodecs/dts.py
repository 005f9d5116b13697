"""DTS Coherent Acoustics core frame headers (ETSI TS 102 114 section 5.3.1) and the MP4
``ddts`` box made from them (ETSI TS 102 114 Annex E, DTSSpecificBox).

Matroska (A_DTS) and MPEG-TS carry DTS with no description at all, and MP4 writers that
store it as ``mp4a`` leave only an esds; so the ``dtsc`` sample entry's ``ddts`` is built
from the first core frame header, as it holds everything the box states.
"""

from __future__ import annotations

from dataclasses import dataclass

CORE_SYNC = b"\x7f\xfe\x80\x01"  # 14-bit-word and little-endian variants are not handled
SUBSTREAM_SYNC = b"\x64\x58\x20\x25"  # DTS-HD extension substream (section 7.4)
_RATES = {1: 8000, 2: 16000, 3: 32000, 6: 11025, 7: 22050, 8: 44100, 11: 12000, 12: 24000,
          13: 48000}  # fmt: skip
_PCM_BITS = {0: 16, 1: 16, 2: 20, 3: 20, 5: 24, 6: 24}
#: Channels per AMODE (table 5-4) and the ddts ChannelLayout bits they occupy
#: (Annex E: 0x1 C, 0x2 L/R, 0x4 Ls/Rs, 0x8 LFE1, 0x10 Cs).
_AMODES = {0: (1, 0x1), 1: (2, 0x2), 2: (2, 0x2), 3: (2, 0x2), 4: (2, 0x2), 5: (3, 0x3),
           6: (3, 0x12), 7: (4, 0x13), 8: (4, 0x6), 9: (5, 0x7)}  # fmt: skip
_LFE1 = 0x8


@dataclass(frozen=True)
class CoreFrame:
    """What a core frame header says."""

    size: int  # bytes
    samples: int  # per channel
    sample_rate: int
    channels: int  # with the LFE channel
    amode: int
    lfe: bool
    bits_per_sample: int
    has_extension_substream: bool  # DTS-HD data follows the core in the same packet


def parse_core_frame(data: bytes) -> CoreFrame | None:
    """The core header at the start of ``data`` (section 5.3.1: SYNC, FTYPE, SHORT, CPF,
    NBLKS, FSIZE, AMODE, SFREQ, RATE … LFF … PCMR); None when it is not a valid one."""
    if len(data) < 15 or not data.startswith(CORE_SYNC):
        return None
    bits = int.from_bytes(data[4:15], "big")
    width = 88

    def take(count: int) -> int:
        nonlocal width
        width -= count
        return bits >> width & ((1 << count) - 1)

    take(7)  # FTYPE, SHORT, CPF
    blocks, size = take(7) + 1, take(14) + 1
    amode, sfreq = take(6), take(4)
    take(15)  # RATE, FixedBit, DYNF, TIMEF, AUXF, HDCD, EXT_AUDIO_ID, EXT_AUDIO, ASPF
    lff = take(2)
    cpf = data[4] >> 1 & 1
    take(1 + 16 * cpf)  # HFLAG, HCRC
    take(1 + 4 + 2)  # FILTS, VERNUM, CHIST
    pcmr = take(3)
    if amode not in _AMODES or sfreq not in _RATES or pcmr not in _PCM_BITS or size < 96:
        return None
    lfe = lff in (1, 2)
    return CoreFrame(size, blocks * 32, _RATES[sfreq], _AMODES[amode][0] + lfe, amode, lfe,
                     _PCM_BITS[pcmr], data[size : size + 4] == SUBSTREAM_SYNC)  # fmt: skip


def ddts_body(frame: CoreFrame, bitrate: int) -> bytes:
    """The DTSSpecificBox payload for a core-only stream: DTSSamplingFrequency(32)
    maxBitrate(32) avgBitrate(32) pcmSampleDepth(8) FrameDuration(2) StreamConstruction(5)
    CoreLFEPresent(1) CoreLayout(6) CoreSize(14) StereoDownmix(1) RepresentationType(3)
    ChannelLayout(16) MultiAssetFlag(1) LBRDurationMod(1) ReservedBoxPresent(1) Reserved(5)."""
    duration_code = {512: 0, 1024: 1, 2048: 2, 4096: 3}.get(frame.samples)
    if duration_code is None:
        raise ValueError(f"a DTS core frame of {frame.samples} samples has no ddts FrameDuration")
    layout = _AMODES[frame.amode][1] | (_LFE1 if frame.lfe else 0)
    construction = 1  # core substream only
    packed = (duration_code << 54 | construction << 49 | frame.lfe << 48 | frame.amode << 42
              | min(frame.size - 1, 0x3FFF) << 28 | layout << 8)  # fmt: skip
    head = frame.sample_rate.to_bytes(4, "big") + bitrate.to_bytes(4, "big") * 2
    return head + bytes([frame.bits_per_sample]) + packed.to_bytes(7, "big")
