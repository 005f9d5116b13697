"""Putting the packets of all output tracks into the muxer in decode order.

Copied packets arrive in file order; encoded ones arrive whenever an encoder outputs them,
video often some frames behind audio. The interleaver holds each track's packets in a queue
and releases the earliest (by decode time) only while every unfinished track has one
waiting, so the muxer sees one timeline. It also moves that timeline so the output starts
at 0, and it starts the muxer only once every track's config is known (an encoder tells its
decoder config with its first output). Timestamps no muxer could store (damaged input) are
repaired on the way in, once for all muxers (:mod:`.timestamps`), and listed in
:attr:`Interleaver.warnings`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from fractions import Fraction

from .muxer import Muxer
from .timestamps import TrackTimeline
from .track import Packet, Track


@dataclass
class OutputTrack:
    """One track of the output, as the interleaver sees it."""

    track: Track | None = None  # set once the config is known
    queue: deque[Packet] = field(default_factory=deque)
    finished: bool = False
    first_pts: Fraction | None = None  # seconds
    muxer_id: int | None = None
    packets_pushed: int = 0
    packets_written: int = 0
    timeline: TrackTimeline = field(default_factory=TrackTimeline)
    end: int = 0  # the latest pts + duration written, in the track's timescale
    shift: int | None = None  # what moves its packets to the output's origin, in ticks
    lead_in: int = 0  # the track's lead_in, read once (it parses the OpusHead)


class Interleaver:
    def __init__(self, muxer: Muxer, count: int) -> None:
        self.muxer = muxer
        self.tracks = [OutputTrack() for _ in range(count)]
        self._origin: Fraction | None = None
        self._offsets: list[int] = []

    def set_track(self, index: int, track: Track) -> None:
        self.tracks[index].track = track

    def push(self, index: int, packet: Packet) -> None:
        out = self.tracks[index]
        if out.track is not None:
            out.timeline.repair(packet, out.track.timescale)
            if out.first_pts is None:  # Opus priming before the start is not the start
                out.first_pts = Fraction(packet.pts + out.track.lead_in, out.track.timescale)
        out.queue.append(packet)
        out.packets_pushed += 1

    def finish_track(self, index: int) -> None:
        self.tracks[index].finished = True

    async def drain(self) -> None:
        """Write every packet whose turn has come."""
        if self._origin is None and not self._start():
            return
        # Decode times are compared as dts_a * scale_b < dts_b * scale_a: the same order as
        # comparing Fractions, without making two per packet (slow under Pyodide).
        while True:
            best: OutputTrack | None = None
            best_dts, best_scale = 0, 1
            for out in self.tracks:
                if not out.queue:
                    if out.finished:
                        continue
                    return  # this track may still produce an earlier packet
                assert out.track is not None
                dts, scale = out.queue[0].dts, out.track.timescale
                if best is None or dts * best_scale < best_dts * scale:
                    best, best_dts, best_scale = out, dts, scale
            if best is None:
                return
            await self._write(best, best.queue.popleft())

    async def finish(self) -> None:
        for out in self.tracks:
            out.finished = True
        await self.drain()
        if self._origin is None:
            self._origin = Fraction(0)
        await self.muxer.finish()

    @property
    def warnings(self) -> list[str]:
        """What was repaired, one line per track and kind of repair."""
        return [
            line
            for out in self.tracks
            if out.track is not None
            for line in out.timeline.warnings(out.track)
        ]

    def packets_written(self, kind: str) -> int:
        """Packets of ``kind`` ("video" or "audio") given to the muxer so far."""
        return sum(
            out.packets_written
            for out in self.tracks
            if out.track is not None and out.track.kind == kind
        )

    @property
    def duration(self) -> float:
        ends = (out.end / out.track.timescale for out in self.tracks if out.track is not None)
        return max(ends, default=0.0)

    def _start(self) -> bool:
        """Add the tracks to the muxer once each has its config and first packet (or ended)."""
        live = [out for out in self.tracks if out.queue or not out.finished]
        if any(out.first_pts is None or out.track is None for out in live):
            return False
        starts = [out.first_pts for out in live if out.first_pts is not None]
        self._origin = min(starts, default=Fraction(0))
        for out in live:
            assert out.track is not None
            out.muxer_id = self.muxer.add_track(out.track)
            out.lead_in = out.track.lead_in
        return True

    async def _write(self, out: OutputTrack, packet: Packet) -> None:
        assert out.track is not None and out.muxer_id is not None and self._origin is not None
        if out.shift is None:
            out.shift = round(self._origin * out.track.timescale)
        shift = out.shift
        if shift:
            packet.pts -= shift
            packet.dts -= shift
        # Priming the decoder drops (Opus pre-skip) may lie before 0.
        out.timeline.not_before_start(packet, -out.lead_in)
        await self.muxer.write_packet(out.muxer_id, packet)
        out.packets_written += 1
        out.end = max(out.end, packet.pts + packet.duration)
