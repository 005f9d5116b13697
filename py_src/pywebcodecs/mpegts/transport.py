"""Transport stream packets (ISO/IEC 13818-1 section 2.4.3) to PSI sections and PES packets.

:class:`TransportParser` is fed blocks of the file in order and hands back each PES packet
(section 2.4.3.6) of the elementary streams its PMTs list as soon as the packet is
complete: when its PES_packet_length is reached, or else (video usually has length 0) when
the next PES of the same PID starts, the same moments ffmpeg's demuxer picks, so packets
of different streams come out in the same order. Lost sync (a byte other than 0x47 where a
packet should start) is recovered by searching for three packet starts in a row.

Lost packets (a gap in a PID's continuity_counter, section 2.4.3.3, as a damaged recording
or download has) leave a hole in the PES they fell in: that PES is dropped whole and
counted in :attr:`TransportParser.damaged`, for the demuxer to warn about. Passed on, a
damaged AAC frame stops a WebCodecs decoder for good ("Decoding error"), and a damaged
picture decodes as garbage; ffmpeg's decoders conceal such frames, ours cannot.
"""

from __future__ import annotations

from dataclasses import dataclass

from .psi import ElementaryStream, SectionError, parse_pat, parse_pmt, section_length

SYNC = 0x47
PAT_PID = 0x0000
#: A PES that grows past this without ending is a broken stream, not a video frame.
MAX_PES_BYTES = 64 << 20
#: stream_ids whose PES header has no optional fields (section 2.4.3.7, table 2-22).
_NO_OPTIONAL_HEADER = {0xBC, 0xBE, 0xBF, 0xF0, 0xF1, 0xF2, 0xF8, 0xFF}
_MAX_SECTION = 4096  # PSI sections are at most 1024 (PAT/PMT) or 4096 bytes


class StreamError(ValueError):
    """Broken transport stream structure; ``offset`` is the file position."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


@dataclass
class Pes:
    """One complete PES packet: its timestamps (33-bit, as stored) and payload."""

    pid: int
    pts: int | None
    dts: int | None
    payload: bytes


def packet_layout(head: bytes) -> tuple[int, int] | None:
    """(packet size, offset of the first sync byte) for 188-byte TS or 192-byte M2TS, found
    by three sync bytes one packet apart; None when ``head`` is neither."""
    for size, prefix in ((188, 0), (192, 4)):
        for start in range(prefix, min(size, len(head))):
            if all(_at(head, start + k * size) == SYNC for k in range(3)):
                return size, start - prefix
    return None


def _at(data: bytes, index: int) -> int:
    return data[index] if index < len(data) else -1


def pts_at(payload: bytes, pos: int) -> int:
    """A 33-bit PTS/DTS from its 5-byte field (section 2.4.3.7)."""
    b = payload[pos : pos + 5]
    return ((b[0] >> 1) & 7) << 30 | b[1] << 22 | (b[2] >> 1) << 15 | b[3] << 7 | b[4] >> 1


def parse_pes_header(data: bytes) -> tuple[int | None, int | None, int, int] | None:
    """(pts, dts, payload start, declared total size or 0) of a PES packet's start, or
    None when ``data`` does not start with a packet_start_code_prefix."""
    if len(data) < 6 or data[:3] != b"\x00\x00\x01":
        return None
    stream_id = data[3]
    length = (data[4] << 8) | data[5]
    total = 6 + length if length else 0
    if stream_id in _NO_OPTIONAL_HEADER:
        return None, None, 6, total
    if len(data) < 9:
        return None
    flags, header_length = data[7], data[8]
    pts = dts = None
    if flags & 0x80 and len(data) >= 14:
        pts = pts_at(data, 9)
        dts = pts_at(data, 14) if flags & 0x40 and len(data) >= 19 else pts
    return pts, dts, 9 + header_length, total


class TransportParser:
    """Splits a transport stream into PES packets of the streams its PMTs declare."""

    def __init__(self, packet_size: int, streams: list[ElementaryStream] | None = None) -> None:
        self.packet_size = packet_size
        self.prefix = packet_size - 188  # the 4-byte M2TS timecode before each packet
        self.streams: list[ElementaryStream] = list(streams or [])
        self._pmt_pids: set[int] = set()
        self._sections: dict[int, bytearray] = {}
        self._pes: dict[int, bytearray] = {}
        self._pes_size: dict[int, int | None] = {}  # declared sizes of the PES in _pes
        self._stream_pids = {s.pid for s in self.streams}
        self.resyncs: list[int] = []  # file offsets where sync was lost
        #: PID → (PES dropped for lost packets, file offset of the first loss)
        self.damaged: dict[int, tuple[int, int]] = {}
        self._counters: dict[int, int] = {}  # PID → the last continuity_counter
        self._broken: set[int] = set()  # PIDs whose open PES lost packets
        self.section_error: StreamError | None = None

    def feed(self, data: bytes, offset: int) -> tuple[list[Pes], int]:
        """Parse the whole packets in ``data`` (which starts at file ``offset``); returns the
        PES packets completed and how many bytes were consumed."""
        done: list[Pes] = []
        size, prefix = self.packet_size, self.prefix
        pos = 0
        end = len(data) - size
        while pos <= end:
            start = pos + prefix
            if data[start] != SYNC:
                found = self._resync(data, pos)
                self.resyncs.append(offset + pos)
                if found is None:
                    return done, max(pos, len(data) - 3 * size)
                pos = found
                continue
            self._packet(data[start : start + 188], offset + pos, done)
            pos += size
        return done, pos

    def _resync(self, data: bytes, pos: int) -> int | None:
        size, prefix = self.packet_size, self.prefix
        candidate = data.find(bytes([SYNC]), pos + prefix + 1)
        while candidate != -1 and candidate + 2 * size < len(data):
            if data[candidate + size] == SYNC and data[candidate + 2 * size] == SYNC:
                return candidate - prefix
            candidate = data.find(bytes([SYNC]), candidate + 1)
        return None

    def _packet(self, packet: bytes, offset: int, done: list[Pes]) -> None:
        b1 = packet[1]
        if b1 & 0x80:  # transport_error_indicator: the packet is known to be damaged
            return
        pid = (b1 & 0x1F) << 8 | packet[2]
        control = packet[3] >> 4 & 3
        if not control & 1:  # no payload
            return
        start = 4
        if control & 2:  # an adaptation field (PCR, flags) comes before the payload
            start = 5 + packet[4]
            if start >= 188:
                return
        payload = packet[start:]
        unit_start = bool(b1 & 0x40)
        if pid in self._stream_pids:
            if not self._continues(pid, packet, offset):
                return
            self._pes_payload(pid, payload, unit_start, offset, done)
        elif pid == PAT_PID or pid in self._pmt_pids:
            self._section_payload(pid, payload, unit_start, offset)

    def _continues(self, pid: int, packet: bytes, offset: int) -> bool:
        """Checks ``packet``'s continuity_counter (it has a payload): False for a repeated
        packet (same counter, to be skipped); a gap marks the PID's open PES as damaged,
        unless the adaptation field's discontinuity_indicator announces it."""
        counter = packet[3] & 15
        last = self._counters.get(pid)
        self._counters[pid] = counter
        announced = packet[3] & 0x20 and packet[4] and packet[5] & 0x80
        if last is None or announced:
            return True
        if counter == last:
            return False
        if counter != (last + 1) & 15 and pid in self._pes:
            self._broken.add(pid)
            count, first = self.damaged.get(pid, (0, offset))
            self.damaged[pid] = (count + 1, first)
        return True

    def _pes_payload(
        self, pid: int, payload: bytes, unit_start: bool, offset: int, done: list[Pes]
    ) -> None:
        buffer = self._pes.get(pid)
        if unit_start:
            if buffer is not None:
                self._complete(pid, done)
            buffer = self._pes[pid] = bytearray()
            self._pes_size[pid] = None
        elif buffer is None:
            return  # the middle of a PES whose start came before our first packet
        buffer += payload
        if len(buffer) > MAX_PES_BYTES:
            raise StreamError(f"PES on PID {pid} exceeds {MAX_PES_BYTES} bytes", offset)
        declared = self._declared_size(pid, buffer)
        if declared and len(buffer) >= declared:
            self._complete(pid, done)

    def _declared_size(self, pid: int, buffer: bytearray) -> int | None:
        """The PES size its header states (0: unbounded), once the first 6 bytes are in."""
        declared = self._pes_size.get(pid)
        if declared is None and len(buffer) >= 6:
            declared = self._pes_size[pid] = (
                6 + (buffer[4] << 8 | buffer[5]) if (buffer[4] or buffer[5]) else 0
            )
        return declared

    def _complete(self, pid: int, done: list[Pes]) -> None:
        buffer = self._pes.pop(pid)
        if pid in self._broken:
            self._broken.discard(pid)
            return
        data = bytes(buffer)
        header = parse_pes_header(data)
        if header is None:
            return  # not a PES start: dropped, as a decoder would
        pts, dts, payload_start, total = header
        payload = data[payload_start : total or len(data)]
        done.append(Pes(pid, pts, dts, payload))

    def flush(self) -> tuple[list[Pes], list[int]]:
        """The PES packets still open at the end of the file: (complete ones, PIDs whose
        last PES was cut short of its declared length)."""
        done: list[Pes] = []
        cut = []
        for pid in list(self._pes):
            declared = self._declared_size(pid, self._pes[pid])
            if declared and len(self._pes[pid]) < declared:
                cut.append(pid)
                del self._pes[pid]
            else:
                self._complete(pid, done)
        return done, cut

    def _section_payload(self, pid: int, payload: bytes, unit_start: bool, offset: int) -> None:
        if unit_start:
            pointer = payload[0]
            previous = self._sections.pop(pid, None)
            if previous is not None:
                previous += payload[1 : 1 + pointer]
                self._section_done(pid, previous, offset)
            self._sections[pid] = bytearray(payload[1 + pointer :])
        elif pid in self._sections:
            self._sections[pid] += payload
        section = self._sections.get(pid)
        if section is None:
            return
        length = section_length(section)
        if length is not None and len(section) >= length:
            del self._sections[pid]
            self._section_done(pid, section, offset)
        elif len(section) > _MAX_SECTION:
            del self._sections[pid]

    def _section_done(self, pid: int, section: bytearray, offset: int) -> None:
        if section[:1] == b"\xff":
            return  # stuffing
        try:
            if pid == PAT_PID:
                self._pmt_pids.update(parse_pat(bytes(section)))
            else:
                self._add_streams(parse_pmt(bytes(section)))
        except SectionError as exc:
            # Tables repeat every few hundred milliseconds: a damaged copy is skipped, and
            # the demuxer reports the first such error only if no copy was readable.
            self.section_error = self.section_error or StreamError(str(exc), offset)

    def _add_streams(self, streams: list[ElementaryStream]) -> None:
        for stream in streams:
            if stream.pid not in self._stream_pids and stream.pid not in self._pmt_pids:
                self.streams.append(stream)
                self._stream_pids.add(stream.pid)
