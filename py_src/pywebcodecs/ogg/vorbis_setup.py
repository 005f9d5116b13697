"""What a Vorbis packet's duration depends on: the two block sizes of the identification
header and each mode's block flag from the setup header (Vorbis I specification sections
4.2.2, 4.2.4 and 4.3.1).

Reading the setup header forward means decoding every codebook, floor and residue. The modes
are its last fields, so, like ffmpeg's ``vorbis_parser``, this reads the packet *backwards*
from the framing bit: each mode is 41 bits (block flag, two 16-bit zero fields, an 8-bit
mapping) and the mode count (6 bits, minus one) precedes them. The count is guessed as the
largest one whose fields all look valid and whose count field matches, which is what makes
the durations agree with ffprobe's.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ..errors import FormatError

_MODE_BITS = 41
_MIN_BITS_LEFT = 97


@dataclass(frozen=True)
class VorbisSetup:
    channels: int
    sample_rate: int
    blocksizes: tuple[int, int]
    mode_long: tuple[bool, ...]  # per mode: does it use the long block?

    @property
    def mode_mask(self) -> int:
        """The bits of a packet's first byte that hold its mode number (after the type bit)."""
        width = max(1, (len(self.mode_long) - 1).bit_length())
        return ((1 << width) - 1) << 1

    @property
    def previous_window_mask(self) -> int:
        """The bit after the mode number: was the previous window long (section 4.3.1)."""
        return (self.mode_mask | 1) + 1


def parse_identification(packet: bytes) -> tuple[int, int, tuple[int, int]]:
    """(channels, sample rate, (short, long) block sizes) of the identification header."""
    if len(packet) < 30 or packet[:7] != b"\x01vorbis":
        raise FormatError("Vorbis identification header is not '\\x01vorbis' + 23 bytes")
    version, channels, rate = struct.unpack_from("<IBI", packet, 7)
    short, long = 1 << (packet[28] & 15), 1 << (packet[28] >> 4)
    if version != 0 or channels == 0 or rate == 0 or not 64 <= short <= long <= 8192:
        raise FormatError(
            f"Vorbis identification header: version {version}, {channels} channels, "
            f"{rate} Hz, block sizes {short}/{long}"
        )
    return channels, rate, (short, long)


def parse_setup(identification: bytes, setup: bytes) -> VorbisSetup:
    channels, rate, blocksizes = parse_identification(identification)
    return VorbisSetup(channels, rate, blocksizes, _mode_block_flags(setup))


class _BackwardBits:
    """The bits of a Vorbis packet (packed least significant bit first) from the last one."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0  # bits consumed from the end
        self.total = len(data) * 8

    def left(self) -> int:
        return self.total - self.pos

    def read(self, count: int) -> int:
        value = 0
        for _ in range(count):
            byte = self.data[len(self.data) - 1 - self.pos // 8]
            value = value << 1 | (byte >> (7 - self.pos % 8)) & 1
            self.pos += 1
        return value


def _mode_block_flags(setup: bytes) -> tuple[bool, ...]:
    if setup[:7] != b"\x05vorbis":
        raise FormatError("Vorbis setup header does not start with '\\x05vorbis'")
    bits = _BackwardBits(setup)
    framing = 0
    while not framing and bits.left() > _MIN_BITS_LEFT:
        framing = bits.pos if bits.read(1) else 0
    if not framing:
        raise FormatError("Vorbis setup header has no framing bit")
    count = found = 0
    while bits.left() >= _MIN_BITS_LEFT and count < 64:
        if bits.read(8) > 63 or bits.read(16) or bits.read(16):
            break
        bits.read(1)
        count += 1
        mark = bits.pos
        if bits.read(6) + 1 == count:
            found = count
        bits.pos = mark
    if not found:
        raise FormatError("Vorbis setup header: no valid mode list before its framing bit")
    bits.pos = framing
    flags: list[bool] = []
    for _ in range(found):
        bits.read(_MODE_BITS - 1)
        flags.append(bool(bits.read(1)))
    return tuple(reversed(flags))


class VorbisDurations:
    """Samples each audio packet adds: (previous block + this block) / 4 (section 4.3.8).

    The previous block size comes from the packet's own flag for long blocks and is
    remembered for short ones; :meth:`reset` starts over as a decoder would."""

    def __init__(self, setup: VorbisSetup) -> None:
        self.setup = setup
        self.previous = setup.blocksizes[0]

    def reset(self) -> None:
        self.previous = self.setup.blocksizes[0]

    def duration(self, packet: bytes) -> int:
        if not packet or packet[0] & 1:  # empty, or a header packet
            return 0
        setup = self.setup
        mode = 0 if len(setup.mode_long) == 1 else (packet[0] & setup.mode_mask) >> 1
        if mode >= len(setup.mode_long):
            return 0
        previous = self.previous
        if setup.mode_long[mode]:
            previous = setup.blocksizes[bool(packet[0] & setup.previous_window_mask)]
        current = setup.blocksizes[setup.mode_long[mode]]
        self.previous = current
        return (previous + current) >> 2
