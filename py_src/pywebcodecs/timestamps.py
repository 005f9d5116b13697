"""Repairing one output track's timestamps so that every muxer can store them.

Damaged input (a flipped bit in a PES header, a broken ``ctts``, a stream spliced into
another) gives packets whose decode times go back, whose presentation time lies before the
output's start, or whose numbers need more than 32 bits where MP4 has only 32 (``stts``
durations, ``ctts``/``trun`` offsets). Each muxer would stop at the first such packet with
its own complaint; instead the interleaver passes every packet through this repair once,
before any muxer sees it, and the conversion succeeds with a warning that says per track
what was changed and how often. The repairs keep the frames and their order:

* a decode time that goes back a little (less than a second: packets swapped or one bad
  value) is moved one tick after the previous one (equal decode times, which some
  inputs have, are left alone);
* a jump of the timeline (back by a second or more, or forward by more than 2^31 ticks)
  is a discontinuity: this and the later packets are shifted so the track goes on
  where it was, as players do at an HLS discontinuity;
* a presentation time more than 2^31 ticks from its decode time, or a duration that does
  not fit 31 bits, is damage: the frame is shown at its decode time / its duration is
  left unknown;
* a presentation time before the output's start is moved to the start.
"""

from __future__ import annotations

from collections import Counter

from .track import Packet, Track

#: The largest offset or gap every muxer stores: MP4's signed 32-bit ``ctts``/``trun``.
MAX_TICKS = 2**31 - 1

_REPAIRS = {
    "back": "decode times went back and were moved after the previous one",
    "jump": "timeline jumps were closed up (the later packets shifted)",
    "offset": "presentation times lay over 2^31 ticks from their decode time and were set to it",
    "duration": "durations did not fit 31 bits and were left unknown",
    "start": "presentation times lay before the output's start and were moved to it",
}


class TrackTimeline:
    """The repair state of one output track (timestamps in its own timescale)."""

    def __init__(self) -> None:
        self._last_dts: int | None = None
        self._step = 0  # the latest positive decode-time gap: where the track goes on
        self._shift = 0  # added to every packet since the last jump
        self._repairs: Counter[str] = Counter()

    def repair(self, packet: Packet, timescale: int) -> None:
        """Make ``packet``'s decode time follow the previous one and its offsets fit."""
        packet.pts += self._shift
        packet.dts += self._shift
        last = self._last_dts
        if last is not None:
            gap = packet.dts - last
            if gap <= -timescale or gap > MAX_TICKS:
                self._move(packet, last + max(self._step, 1) - packet.dts, "jump")
            elif gap < 0:
                self._repairs["back"] += 1
                packet.dts = last + 1
            else:
                self._step = gap
        self._last_dts = packet.dts
        if abs(packet.pts - packet.dts) > MAX_TICKS:
            self._repairs["offset"] += 1
            packet.pts = packet.dts
        if not 0 <= packet.duration <= MAX_TICKS:
            self._repairs["duration"] += 1
            packet.duration = 0

    def not_before_start(self, packet: Packet, earliest: int = 0) -> None:
        """The output starts at 0 (``earliest`` lower for priming a decoder drops): an
        earlier presentation time is moved there."""
        if packet.pts < earliest:
            self._repairs["start"] += 1
            packet.pts = earliest

    def warnings(self, track: Track) -> list[str]:
        """One line per kind of repair made, naming the track."""
        return [
            f"track {track.id} ({track.codec}): {count} {_REPAIRS[kind]}"
            for kind, count in self._repairs.items()
        ]

    def _move(self, packet: Packet, by: int, kind: str) -> None:
        self._repairs[kind] += 1
        self._shift += by
        packet.pts += by
        packet.dts += by
