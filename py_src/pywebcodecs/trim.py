"""Cutting copied packets to a trim window (re-encoded tracks are cut on their decoded
frames and samples instead, see :mod:`pywebcodecs.frame_plan`).

Copied video can only start at a key frame: the kept part starts at the key frame at or
before the window's start (its frames before the start are shown too), and ends with the
last packet *decoded* before the window's end, so no kept frame loses a reference.
Copied audio is cut at packet boundaries, at the boundary nearest each end of the window.
Times move so that the window's start is 0; the interleaver then moves the whole output
so its earliest packet is at 0, which keeps every track in sync. Pure Python.
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

    def push(self, packet: Packet) -> list[Packet]:
        """The packets to write now (none, this one, or a held group of pictures)."""
        if self._end is not None and self._after_end(packet):
            return []
        if not self._started:
            assert self._start is not None
            if not self._is_video:
                if packet.pts + packet.duration / 2 < self._start:
                    return []
                self._started = True
            elif packet.is_key and packet.pts <= self._start:
                self._group = [packet]
                return []
            elif packet.is_key:
                self._started = True
                group, self._group = self._group, []
                return self._retimed([*group, packet])
            elif self._group:
                self._group.append(packet)
                return []
            else:
                return []  # before the first key frame: nothing can decode it
        return self._retimed([packet])

    def finish(self) -> list[Packet]:
        """What is still held when the input ends (a group the window starts in)."""
        group, self._group = self._group, []
        return self._retimed(group)

    def _after_end(self, packet: Packet) -> bool:
        assert self._end is not None
        if self._is_video:
            return packet.dts >= self._end
        return packet.pts + packet.duration / 2 >= self._end

    def _retimed(self, packets: list[Packet]) -> list[Packet]:
        shift = self._start or 0
        for packet in packets:
            packet.pts -= shift
            packet.dts -= shift
        return packets
