"""Cutting copied packets to a trim window (re-encoded tracks are cut on their decoded
frames and samples instead, see :mod:`pywebcodecs.frame_plan`).

Copied video can only start at a key frame: the kept part starts at the key frame at or
before the window's start. Its frames before the start get negative times, and
:attr:`PacketTrim.lead_in` says how far they reach: a container that can hide them (an MP4
edit list) starts playback exactly at the start; elsewhere the interleaver moves the whole
output so the key frame is at 0 and the other tracks start that much later, in sync.
The end is cut on presentation times: every frame shown before the window's end is kept,
with the packets it needs to decode (with B-frames, a reference decoded before it may be
shown after the end). Copied audio is cut at packet boundaries, at the boundary nearest
each end of the window. Times move so that the window's start is 0. Pure Python.
"""

from __future__ import annotations

from .frame_plan import TrimWindow
from .track import Packet


class PacketTrim:
    """The packets of one copied track that fall in the window, retimed."""

    def __init__(self, trim: TrimWindow, timescale: int, is_video: bool) -> None:
        self._start = trim.start_in(timescale)
        self._end = trim.end_in(timescale)
        self._is_video = is_video
        #: Video before the window's start: the group of pictures since the latest key
        #: frame, kept until it is known whether the start falls inside it.
        self._group: list[Packet] = []
        self._started = self._start is None
        #: Video packets shown at or after the end, held until a later packet (in decode
        #: order) shown before the end needs them; dropped if none comes.
        self._past_end: list[Packet] = []
        #: How far (timescale units) the first kept frame is shown before the start.
        self.lead_in = 0

    def push(self, packet: Packet) -> list[Packet]:
        """The packets to write now (none, this one, or held ones and this one)."""
        if self._end is not None and self._after_end(packet):
            if self._is_video and (self._started or self._group):
                packet.hidden = True
                self._past_end.append(packet)
            return []
        if not self._started:
            assert self._start is not None
            if not self._is_video:
                if packet.pts + packet.duration / 2 < self._start:
                    return []
                self._started = True
            elif packet.is_key and packet.pts <= self._start:
                self._group = [packet]
                self._past_end.clear()
                return []
            elif self._group and not packet.is_key:
                self._group += [*self._past_end, packet]
                self._past_end.clear()
                return []
            elif not packet.is_key:
                return []  # before the first key frame: nothing can decode it
            else:
                self._started = True
                group, self._group = self._group, []
                self._past_end[:0] = group
                return self._first(self._released(packet))
        return self._released(packet)

    def finish(self) -> list[Packet]:
        """What is still held when the input ends (a group the window starts in)."""
        group, self._group = self._group, []
        self._past_end.clear()
        return self._first(self._retimed(group)) if group else []

    def _first(self, kept: list[Packet]) -> list[Packet]:
        """The first packets kept: how far before the start they are shown is the lead-in."""
        self.lead_in = max(0, -min(p.pts for p in kept))
        return kept

    def _released(self, packet: Packet) -> list[Packet]:
        held, self._past_end = self._past_end, []
        return self._retimed([*held, packet])

    def _after_end(self, packet: Packet) -> bool:
        assert self._end is not None
        if self._is_video:
            return packet.pts >= self._end
        return packet.pts + packet.duration / 2 >= self._end

    def _retimed(self, packets: list[Packet]) -> list[Packet]:
        shift = self._start or 0
        for packet in packets:
            packet.pts -= shift
            packet.dts -= shift
        return packets
