"""Decode timestamps and durations that Matroska blocks do not carry.

Blocks carry presentation timestamps only (RFC 9559 section 10.1), and a duration only
when the track has a DefaultDuration or the block a BlockDuration.

* dts, for tracks whose frames are reordered (B-frames): the n-th smallest pts seen is the
  n-th dts, shifted by the reorder delay measured on the first frames so that dts never
  passes pts. That needs a lookahead of a few frames. (ffprobe takes the delay from the
  H.264/HEVC parameter sets instead, so its dts can be a frame earlier.)
* duration, for other packets without one: the time to the track's next packet; the
  last packet repeats the one before.

Packets are held in one queue across tracks, so they still come out in file order.
"""

from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass, field

from ..track import Packet

#: Frames of lookahead: the deepest reordering H.264 and HEVC allow (16 frames).
LOOKAHEAD = 16
#: Codecs whose decode order can differ from presentation order.
REORDERED_CODECS = frozenset({"h264", "hevc", "mpeg2video", "mpeg4", "vc1"})


@dataclass
class _Reorder:
    pts_heap: list[int] = field(default_factory=list)
    first: list[int] = field(default_factory=list)  # pts of the first LOOKAHEAD + 1 frames
    seen: int = 0
    released: int = 0
    delay: int | None = None
    last_dts: int | None = None


class PacketTiming:
    """Holds packets until their dts/duration is known; yields them in arrival order."""

    def __init__(self, reordered_tracks: set[int]) -> None:
        self._reorder = {number: _Reorder() for number in reordered_tracks}
        self._waiting: dict[int, Packet] = {}  # track → packet waiting for its duration
        self._last_duration: dict[int, int] = {}
        self._queue: deque[Packet] = deque()

    def push(self, packet: Packet) -> list[Packet]:
        """Queue ``packet``; return the packets that are ready, in arrival order."""
        track = packet.track_id
        state = self._reorder.get(track)
        if state is not None:
            heapq.heappush(state.pts_heap, packet.pts)
            state.seen += 1
            if len(state.first) <= LOOKAHEAD:
                state.first.append(packet.pts)
        else:
            waiting = self._waiting.pop(track, None)
            if waiting is not None:
                waiting.duration = max(packet.pts - waiting.pts, 0)
            if packet.duration:
                self._last_duration[track] = packet.duration
            elif waiting is not None and waiting.duration:
                self._last_duration[track] = waiting.duration
            if not packet.duration:
                self._waiting[track] = packet
        self._queue.append(packet)
        return self._release(final=False)

    def flush(self) -> list[Packet]:
        for track, packet in self._waiting.items():
            packet.duration = self._last_duration.get(track, 0)
        self._waiting.clear()
        return self._release(final=True)

    def _release(self, *, final: bool) -> list[Packet]:
        ready = []
        while self._queue:
            packet = self._queue[0]
            state = self._reorder.get(packet.track_id)
            if state is not None:
                if not final and state.seen - state.released <= LOOKAHEAD:
                    break
                packet.dts = self._dts(state, packet.pts)
                state.released += 1
            elif self._waiting.get(packet.track_id) is packet:
                break
            ready.append(self._queue.popleft())
        return ready

    @staticmethod
    def _dts(state: _Reorder, pts: int) -> int:
        if state.delay is None:
            ordered = sorted(state.first)
            state.delay = max(s - p for s, p in zip(ordered, state.first, strict=True))
        dts = min(heapq.heappop(state.pts_heap) - state.delay, pts)
        if state.last_dts is not None:
            dts = max(dts, state.last_dts)
        state.last_dts = dts
        return dts
