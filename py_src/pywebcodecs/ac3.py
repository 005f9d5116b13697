"""AC-3 and E-AC-3 syncframe headers (ATSC A/52:2018, also ETSI TS 102 366).

No container states everything about an AC-3 stream: MPEG-TS gives only the stream type or
a descriptor, and the MP4 ``dac3``/``dec3`` and Matroska records are written from the
bitstream. So the readers and the writers share this one parser of the first bytes of a
syncframe:

- AC-3 (bsid <= 10): ``syncinfo()`` (A/52 section 5.3.1: syncword, crc1, fscod,
  frmsizecod) and the start of ``bsi()`` (section 5.3.2: bsid, bsmod, acmod, the optional
  mix levels, lfeon). The frame size comes from table 5.18, indexed by frmsizecod and fscod;
  bsid 9 and 10 are the half- and quarter-rate variants (section 5.4.2.1 note, Annex D).
- E-AC-3 (bsid 11..16): the start of the Annex E ``bsi()`` (section E.1.2.2: strmtyp,
  substreamid, frmsiz, fscod/fscod2, numblkscod, acmod, lfeon, bsid); the frame holds
  ``frmsiz + 1`` 16-bit words and 1, 2, 3 or 6 audio blocks of 256 samples.
"""

from __future__ import annotations

from dataclasses import dataclass

SYNC_WORD = b"\x0b\x77"
#: Full-bandwidth channels per acmod (A/52 table 5.8); acmod 0 is 1+1 (two mono programs).
ACMOD_CHANNELS = (2, 1, 2, 3, 3, 4, 4, 5)
_AC3_RATES = (48000, 44100, 32000)
_EAC3_HALF_RATES = (24000, 22050, 16000)  # fscod2, when fscod is 3 (table E.1.3)
_EAC3_BLOCKS = (1, 2, 3, 6)  # numblkscod (table E.1.4)
#: Nominal bit rates in kbit/s, one per pair of frmsizecod values (A/52 table 5.18).
AC3_BIT_RATES = (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512,
                 576, 640)  # fmt: skip
AC3_SAMPLES = 1536  # 6 audio blocks of 256 samples


@dataclass(frozen=True)
class SyncFrame:
    """What a syncframe's header says."""

    codec: str  # "ac3" or "eac3", as ffprobe names them
    size: int  # bytes in the syncframe
    sample_rate: int
    channels: int  # acmod's channels plus the LFE channel
    samples: int  # per channel
    bsid: int
    bsmod: int  # AC-3 only (E-AC-3 keeps it deep in optional metadata: 0 here)
    acmod: int
    lfeon: bool
    fscod: int
    frmsizecod: int  # AC-3 only (-1 for E-AC-3)
    strmtyp: int  # E-AC-3: 0 independent, 1 dependent, 2 AC-3 converted; 0 for AC-3
    substreamid: int

    @property
    def bit_rate(self) -> int:
        """Bits per second: the table rate for AC-3, the frame's own rate for E-AC-3."""
        if self.frmsizecod >= 0:
            return AC3_BIT_RATES[self.frmsizecod >> 1] * 1000 >> max(0, self.bsid - 8)
        return self.size * 8 * self.sample_rate // self.samples


def ac3_frame_bytes(fscod: int, frmsizecod: int) -> int:
    """Bytes of an AC-3 syncframe (A/52 table 5.18): 16-bit words = kbit/s x 2 at 48 kHz,
    x 3 at 32 kHz, and at 44.1 kHz the rate's share rounded down plus 1 on odd codes."""
    rate = AC3_BIT_RATES[frmsizecod >> 1]
    if fscod == 0:
        words = 2 * rate
    elif fscod == 2:
        words = 3 * rate
    else:
        words = rate * 1000 * AC3_SAMPLES // (44100 * 16) + (frmsizecod & 1)
    return 2 * words


class _BitReader:
    """MSB-first bits of a header (it is short and checked for length before reading)."""

    def __init__(self, data: bytes, pos: int) -> None:
        self.data = data
        self.bit = pos * 8

    def read(self, count: int) -> int:
        value = 0
        for _ in range(count):
            byte = self.data[self.bit >> 3]
            value = value << 1 | (byte >> (7 - (self.bit & 7))) & 1
            self.bit += 1
        return value


def parse_syncframe(data: bytes, pos: int = 0) -> SyncFrame | None:
    """The header of the AC-3 or E-AC-3 syncframe at ``pos``; None when no valid one is there
    (wrong sync word, reserved codes, or fewer than 8 bytes)."""
    if pos + 8 > len(data) or data[pos : pos + 2] != SYNC_WORD:
        return None
    bsid = data[pos + 5] >> 3
    if bsid <= 10:
        return _ac3(data, pos, bsid)
    if bsid <= 16:
        return _eac3(data, pos, bsid)
    return None


def _ac3(data: bytes, pos: int, bsid: int) -> SyncFrame | None:
    fscod, frmsizecod = data[pos + 4] >> 6, data[pos + 4] & 0x3F
    if fscod == 3 or frmsizecod >= 2 * len(AC3_BIT_RATES):
        return None
    bits = _BitReader(data, pos + 5)
    bits.read(5)  # bsid
    bsmod, acmod = bits.read(3), bits.read(3)
    if acmod & 1 and acmod != 1:
        bits.read(2)  # cmixlev
    if acmod & 4:
        bits.read(2)  # surmixlev
    if acmod == 2:
        bits.read(2)  # dsurmod
    lfeon = bool(bits.read(1))
    shift = max(0, bsid - 8)  # bsid 9: half rate, 10: quarter rate
    return SyncFrame("ac3", ac3_frame_bytes(fscod, frmsizecod), _AC3_RATES[fscod] >> shift,
                     ACMOD_CHANNELS[acmod] + lfeon, AC3_SAMPLES, bsid, bsmod, acmod, lfeon,
                     fscod, frmsizecod, 0, 0)  # fmt: skip


def _eac3(data: bytes, pos: int, bsid: int) -> SyncFrame | None:
    bits = _BitReader(data, pos + 2)
    strmtyp, substreamid, frmsiz = bits.read(2), bits.read(3), bits.read(11)
    fscod = bits.read(2)
    if fscod == 3:
        fscod2 = bits.read(2)
        if fscod2 == 3:
            return None
        rate, blocks = _EAC3_HALF_RATES[fscod2], 6
    else:
        rate, blocks = _AC3_RATES[fscod], _EAC3_BLOCKS[bits.read(2)]
    acmod, lfeon = bits.read(3), bool(bits.read(1))
    if strmtyp == 3 or frmsiz < 2:
        return None
    return SyncFrame("eac3", (frmsiz + 1) * 2, rate, ACMOD_CHANNELS[acmod] + lfeon,
                     256 * blocks, bsid, 0, acmod, lfeon, fscod, -1, strmtyp,
                     substreamid)  # fmt: skip


# --- MP4 configuration boxes (ETSI TS 102 366 Annex F) -----------------------------------


def dac3_body(frame: SyncFrame) -> bytes:
    """The AC3SpecificBox payload (section F.4): fscod(2) bsid(5) bsmod(3) acmod(3) lfeon(1)
    bit_rate_code(5) reserved(5), all copied from the first syncframe."""
    if frame.codec != "ac3":
        raise ValueError("dac3 describes AC-3 syncframes only")
    bits = (frame.fscod << 22 | frame.bsid << 17 | frame.bsmod << 14 | frame.acmod << 11
            | frame.lfeon << 10 | (frame.frmsizecod >> 1) << 5)  # fmt: skip
    return bits.to_bytes(3, "big")


def access_unit_frames(data: bytes) -> list[SyncFrame]:
    """The E-AC-3 syncframes that follow each other in one packet (an access unit holds an
    independent substream and its dependent substreams, section E.2.3); stops at the first
    bytes that are not a syncframe."""
    frames, pos = [], 0
    while (frame := parse_syncframe(data, pos)) is not None:
        frames.append(frame)
        pos += frame.size
    return frames


def dec3_body(data: bytes) -> bytes:
    """The EC3SpecificBox payload (section F.6) for the access unit ``data``: data_rate(13)
    num_ind_sub(3), then per independent substream fscod(2) bsid(5) reserved(1) asvc(1)
    bsmod(3) acmod(3) lfeon(1) reserved(3) num_dep_sub(4) and chan_loc(9) or reserved(1).

    chan_loc marks the channels the dependent substreams add, from their chanmap (table
    E.1.4 order: Lc/Rc … Cvh, then LFE2); a dependent substream without a chanmap adds
    none that can be named."""
    frames = [f for f in access_unit_frames(data) if f.codec == "eac3"]
    independent = [f for f in frames if f.strmtyp != 1]
    if not independent:
        raise ValueError("no independent E-AC-3 substream at the start of the packet")
    rate_kbps = sum(f.bit_rate for f in frames) // 1000
    bits, width = rate_kbps & 0x1FFF, 13
    bits, width = bits << 3 | (len(independent) - 1), width + 3
    pos = 0
    for index, frame in enumerate(frames):
        if frame.strmtyp == 1:
            pos += frame.size
            continue
        dependents = []
        following = pos + frame.size
        for other in frames[index + 1 :]:
            if other.strmtyp != 1:
                break
            dependents.append(_chanmap(data, following, other))
            following += other.size
        pos += frame.size
        fields = (frame.fscod, 2), (frame.bsid, 5), (0, 1), (0, 1), (frame.bsmod, 3), \
            (frame.acmod, 3), (int(frame.lfeon), 1), (0, 3), (len(dependents), 4)  # fmt: skip
        for value, size in fields:
            bits, width = bits << size | value, width + size
        if dependents:
            chan_loc = 0
            for chanmap in dependents:
                chan_loc |= (chanmap >> 3 & 0xFF) << 1 | (chanmap >> 1 & 1)
            bits, width = bits << 9 | chan_loc, width + 9
        else:
            bits, width = bits << 1, width + 1
    pad = -width % 8
    return (bits << pad).to_bytes((width + pad) // 8, "big")


def _chanmap(data: bytes, pos: int, frame: SyncFrame) -> int:
    """The 16-bit chanmap of a dependent substream's bsi (section E.1.2.2), or 0."""
    if pos + 12 > len(data):  # the bsi up to chanmap takes at most 10 bytes
        return 0
    bits = _BitReader(data, pos + 2)
    bits.read(16)  # strmtyp, substreamid, frmsiz
    if bits.read(2) == 3:  # fscod
        bits.read(2)  # fscod2
    else:
        bits.read(2)  # numblkscod
    bits.read(9)  # acmod, lfeon, bsid
    bits.read(5)  # dialnorm
    if bits.read(1):
        bits.read(8)  # compr
    if frame.acmod == 0:
        bits.read(5)  # dialnorm2
        if bits.read(1):
            bits.read(8)  # compr2
    return bits.read(16) if bits.read(1) else 0
