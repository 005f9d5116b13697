"""Decode timestamps for Matroska tracks whose frames are reordered (B-frames).

Matroska blocks carry presentation timestamps only (RFC 9559 section 10.1), so ffprobe
shows no dts for H.264/HEVC in MKV. Writers such as MP4 need one, so for those tracks we
take the n-th smallest pts seen so far as the n-th dts, shifted by the reorder delay
measured on the first frames so that dts never passes pts. That needs a lookahead of a
few frames; packets are held in one queue across tracks so file order is kept.
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


class DecodeOrder:
    """Holds packets until their track's dts is known; yields them in arrival order."""

    def __init__(self, reordered_tracks: set[int]) -> None:
        self._tracks = {number: _Reorder() for number in reordered_tracks}
        self._queue: deque[Packet] = deque()

    def push(self, packet: Packet) -> list[Packet]:
        """Queue ``packet``; return the packets that are ready, in arrival order."""
        state = self._tracks.get(packet.track_id)
        if state is None and not self._queue:
            return [packet]
        if state is not None:
            heapq.heappush(state.pts_heap, packet.pts)
            state.seen += 1
            if len(state.first) <= LOOKAHEAD:
                state.first.append(packet.pts)
        self._queue.append(packet)
        return self._release(final=False)

    def flush(self) -> list[Packet]:
        return self._release(final=True)

    def _release(self, *, final: bool) -> list[Packet]:
        ready = []
        while self._queue:
            packet = self._queue[0]
            state = self._tracks.get(packet.track_id)
            if state is not None:
                if not final and state.seen - state.released <= LOOKAHEAD:
                    break
                packet.dts = self._dts(state, packet.pts)
                state.released += 1
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
