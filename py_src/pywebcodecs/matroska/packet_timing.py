"""Decode timestamps and durations that Matroska blocks do not carry.

Blocks carry presentation timestamps only (RFC 9559 section 10.1), and a duration only
when the track has a DefaultDuration or the block a BlockDuration.

* dts, for tracks whose frames are reordered (B-frames): the n-th smallest pts seen is the
  n-th dts, shifted by the reorder delay measured on the first frames so that dts never
  passes pts. That needs a lookahead of a few frames. (ffprobe takes the delay from the
  H.264/HEVC parameter sets instead, so its dts can be a frame earlier.)
* duration, for other packets without one: the time to the track's next packet; the
  last packet repeats the one before. Frames laced in one block without a duration all
  arrive at the block's time; they share the time to the next block evenly, which is
  where ffprobe (through the codec's parser) puts them for constant-size audio frames.

Packets are held in one queue across tracks, so they still come out in file order.
"""

from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass, field

from ..track import Packet

#: Frames of lookahead: the deepest reordering H.264 and HEVC allow (16 frames).
LOOKAHEAD = 16
#: A block holds at most 256 laced frames; more packets at one time are not waited on.
MAX_WAITING = 256
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
        #: track → packets at one timestamp, waiting for the next one to learn their duration
        self._waiting: dict[int, list[Packet]] = {}
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
            waiting = self._waiting.get(track)
            if waiting and (
                packet.pts != waiting[0].pts or packet.duration or len(waiting) >= MAX_WAITING
            ):
                del self._waiting[track]
                self._spread(waiting, max(packet.pts - waiting[0].pts, 0))
            if packet.duration:
                self._last_duration[track] = packet.duration
            else:
                self._waiting.setdefault(track, []).append(packet)
        self._queue.append(packet)
        return self._release(final=False)

    def flush(self) -> list[Packet]:
        for track, waiting in self._waiting.items():
            self._spread(waiting, self._last_duration.get(track, 0) * len(waiting))
        self._waiting.clear()
        return self._release(final=True)

    def _spread(self, packets: list[Packet], span: int) -> None:
        """Give ``packets`` (all at one time) equal shares of ``span`` after that time."""
        start = packets[0].pts
        count = len(packets)
        for index, packet in enumerate(packets):
            packet.pts = packet.dts = start + span * index // count
            packet.duration = start + span * (index + 1) // count - packet.pts
        if span > 0:
            self._last_duration[packets[0].track_id] = packets[-1].duration

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
            elif any(packet is held for held in self._waiting.get(packet.track_id, ())):
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
