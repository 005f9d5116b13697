"""The packets of one H.264/H.265 PID: access units (:mod:`.access_units`) with the
timestamps a decoder and a muxer can use.

Broadcast streams need three repairs that a file made by ffmpeg never does:

- Units whose PES carried no timestamp (several pictures per PES) are timed between the
  timestamped units around them, one equal step each, as a constant frame rate has them;
  that is the normal case of a sparse stream and gives no warning. Their pts keeps the
  pts - dts reorder delay of the last timestamped unit.
- A recording cut anywhere starts with pictures that refer to pictures before the cut.
  They cannot be decoded, so the track starts at its first keyframe (told by the NAL unit
  types, never by the adaptation field's random_access_indicator, which many muxers leave
  unset). When that keyframe is not an IDR (an open-GOP I picture with a recovery point,
  an H.265 CRA), the pictures after it that are shown before it (its leading B pictures,
  RASL pictures) refer to the previous GOP too and are dropped as well, up to the next
  keyframe. The dropped pictures are counted in a warning. Audio is kept from the start.
- A dts that does not increase (a damaged or spliced stream) is moved to one step after
  the previous one, with a warning, so that muxers get monotonic timestamps.
"""

from __future__ import annotations

from collections.abc import Callable

from ..track import Packet, Track
from .access_units import AccessUnit, AccessUnitSplitter
from .parameter_sets import is_idr, is_keyframe

_FALLBACK_STEP = 3600  # 90 kHz ticks of a 25 fps picture, until the stream shows its own


class VideoPackets:
    """Turns the PES packets of one video PID into packets, in decode order."""

    def __init__(self, track: Track, unwrap: Callable[[int], int]) -> None:
        self._track = track
        self._unwrap = unwrap
        self._splitter = AccessUnitSplitter(track.codec)
        self._untimed: list[AccessUnit] = []  # units after the last timestamped one
        self._last: tuple[int, int] | None = None  # (pts, dts) of the last timed unit
        self._step: int | None = None
        self._started = False
        #: After a non-IDR first keyframe: its pts, before which pictures are not decodable.
        self._leading_before: int | None = None
        self.dropped = 0  # pictures before the first keyframe
        self.repaired = 0  # dts that did not increase

    def feed(self, payload: bytes, pts: int | None, dts: int | None) -> list[Packet]:
        return self._time(self._splitter.feed(payload, pts, dts))

    def flush(self) -> list[Packet]:
        packets = self._time(self._splitter.flush())
        packets += self._untimed_packets(self._step or _FALLBACK_STEP)
        return packets

    def notes(self) -> list[str]:
        pid = self._track.id
        notes = []
        if self.dropped:
            notes.append(f"PID {pid}: {self.dropped} pictures before the first keyframe were "
                         "dropped (they refer to pictures before the file's start)")  # fmt: skip
        if self.repaired:
            notes.append(f"PID {pid}: {self.repaired} video timestamps went backwards or "
                         "repeated and were moved forward")  # fmt: skip
        return notes

    def _time(self, units: list[AccessUnit]) -> list[Packet]:
        packets: list[Packet] = []
        for unit in units:
            if unit.pts is None:
                self._untimed.append(unit)
                continue
            pts = self._unwrap(unit.pts)
            dts = self._unwrap(unit.dts if unit.dts is not None else unit.pts)
            if self._last is not None and dts > self._last[1]:
                self._step = (dts - self._last[1]) // (len(self._untimed) + 1)
            if self._last is None and self._untimed:  # the stream starts with untimed units
                back = (len(self._untimed) + 1) * (self._step or _FALLBACK_STEP)
                self._last = (pts - back, dts - back)
            packets += self._untimed_packets(self._step or _FALLBACK_STEP)
            packets += self._packet(unit, pts, dts)
        return packets

    def _untimed_packets(self, step: int) -> list[Packet]:
        """The units waiting for a timestamp, one ``step`` apart after the last timed one
        (from 0 when the stream has given none)."""
        packets: list[Packet] = []
        for unit in self._untimed:
            pts, dts = self._last if self._last is not None else (-step, -step)
            packets += self._packet(unit, pts + step, dts + step)
        self._untimed = []
        return packets

    def _packet(self, unit: AccessUnit, pts: int, dts: int) -> list[Packet]:
        if self._last is not None and dts <= self._last[1]:
            shift = self._last[1] + (self._step or 1) - dts
            pts, dts = pts + shift, dts + shift
            self.repaired += 1
        self._last = (pts, dts)
        key = is_keyframe(self._track.codec, unit.nals)
        if key and not self._started:
            self._started = True
            self._leading_before = None if is_idr(self._track.codec, unit.nals) else pts
        elif key:
            self._leading_before = None
        if not self._started or (self._leading_before is not None and pts < self._leading_before):
            self.dropped += 1
            return []
        data = b"".join(len(nal).to_bytes(4, "big") + nal for nal in unit.nals)
        # Each picture lasts one frame step, as ffprobe shows (0 until a step is known): a
        # muxer ends the track at the latest pts plus its duration, and the picture shown
        # last is rarely the one decoded last.
        return [Packet(self._track.id, pts, dts, self._step or 0, key, data)]
