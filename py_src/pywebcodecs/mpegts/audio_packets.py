"""The packets of one audio PID: one per frame of the PES payloads (:mod:`.audio_frames`),
timed the way ffmpeg's demuxer times the frames its parsers split out of a PES.

The PES timestamp belongs to the first frame that starts inside that PES (ISO 13818-1
section 2.4.3.7); a frame carried over from the previous PES and the frames after the
first are timed by counting samples. A timestamp that does not move forward (a damaged or
spliced stream) is replaced by the counted one, with a warning, so that muxers get
increasing timestamps. E-AC-3 dependent substream frames (7.1 and beyond, ATSC A/52
section E.2.3) belong to the independent frame before them: they are appended to its
packet, as ffmpeg's parser does, and MP4's ``dec3`` is written from such packets.
"""

from __future__ import annotations

from collections.abc import Callable

from ..track import Packet, Track
from .audio_frames import (
    AudioFrame,
    ac3_frame,
    adts_frame,
    dts_frame,
    latm_frame,
    mpeg_audio_frame,
)

TIMESCALE = 90_000
#: Each audio family's frame parser and the first byte of its sync word.
FRAMES: dict[str, tuple[Callable[[bytes, int], AudioFrame | None], bytes]] = {
    "aac": (adts_frame, b"\xff"),
    "mpeg_audio": (mpeg_audio_frame, b"\xff"),
    "ac3": (ac3_frame, b"\x0b"),
    "dts": (dts_frame, b"\x7f"),
    "aac_latm": (latm_frame, b"\x56"),
}
_EAC3_DEPENDENT = 1  # strmtyp (table E.1.1)


def family(codec: str) -> str:
    """The frame syntax of a track's codec: "aac", "ac3" (also E-AC-3), "dts", "aac_latm"
    or "mpeg_audio"."""
    families = {"aac": "aac", "ac3": "ac3", "eac3": "ac3", "dts": "dts", "aac_latm": "aac_latm"}
    return families.get(codec, "mpeg_audio")


def first_frame(codec_family: str, payload: bytes) -> AudioFrame | None:
    """The first frame header in a PES payload, at its start or at the first sync byte."""
    parse, sync = FRAMES[codec_family]
    frame = parse(payload, 0)
    if frame is None:
        at = payload.find(sync)
        frame = parse(payload, at) if at >= 0 else None
    return frame


class AudioPackets:
    """Turns the PES payloads of one audio PID into one packet per frame."""

    def __init__(self, track: Track) -> None:
        self._track = track
        self._parse, self._sync = FRAMES[family(track.codec)]
        self._on_grid = track.codec == "aac"
        self._eac3 = track.codec == "eac3"
        self._hold = track.codec in ("eac3", "dts")
        self._leftover = b""
        self._next_pts = 0  # where the next frame without a PES timestamp starts
        self._last: int | None = None  # the last frame's pts
        #: An E-AC-3 packet waits for the next frame, which may be one of its substreams; a
        #: DTS packet too, as ffmpeg's parser ends a DTS frame at the next sync word (which
        #: gives ffprobe's interleaving).
        self._held: Packet | None = None
        self.repaired = 0  # frames whose PES timestamp did not move forward
        self.orphans = 0  # dependent E-AC-3 frames with no independent frame before them

    def feed(self, payload: bytes, pts: int | None) -> list[Packet]:
        data = self._leftover + payload
        carried = len(self._leftover)
        packets: list[Packet] = []
        pos = 0
        self._leftover = b""
        while pos < len(data):
            frame = self._parse(data, pos)
            if frame is None:
                pos = data.find(self._sync, pos + 1)
                if pos < 0:
                    break
                continue
            if frame.end > len(data):
                self._leftover = data[pos:]
                break
            if self._eac3 and data[pos + 2] >> 6 == _EAC3_DEPENDENT:
                self._append_substream(data[frame.start : frame.end])
                pos = frame.end
                continue
            start = pts if pts is not None and pos >= carried else self._next_pts
            pts = None if start == pts and pos >= carried else pts
            if self._last is not None and start <= self._last:
                start = self._next_pts
                self.repaired += 1
            self._last = start
            self._next_pts = add_frame(start, frame.samples, frame.sample_rate, self._on_grid)
            packet: Packet | None = Packet(self._track.id, start, start,
                                           self._next_pts - start, True,
                                           data[frame.start : frame.end])  # fmt: skip
            if self._hold:
                packet, self._held = self._held, packet
            if packet is not None:
                packets.append(packet)
            pos = frame.end
        return packets

    def flush(self) -> list[Packet]:
        held, self._held = self._held, None
        return [] if held is None else [held]

    def notes(self) -> list[str]:
        pid = self._track.id
        notes = []
        if self.repaired:
            notes.append(f"PID {pid}: {self.repaired} audio timestamps went backwards or "
                         "repeated and were moved forward")  # fmt: skip
        if self.orphans:
            notes.append(f"PID {pid}: {self.orphans} E-AC-3 dependent substream frames "
                         "without their independent frame were dropped")  # fmt: skip
        return notes

    def _append_substream(self, frame: bytes) -> None:
        if self._held is None:
            self.orphans += 1
        else:
            self._held.data += frame


def add_frame(pts: int, samples: int, sample_rate: int, on_grid: bool) -> int:
    """The PTS after a frame of ``samples`` that starts at ``pts``, as ffmpeg's demuxer
    steps the frames it splits out of a PES (libavformat ``compute_pkt_fields``): an MPEG
    audio or AC-3 frame lasts its duration floored to 90 kHz units; an ADTS frame, whose
    header rate ffmpeg's parser does not pass on, is stepped ``on_grid`` by
    ``av_add_stable``: to the next multiple of the frame duration counted from zero (2090,
    2090, 2090, 2089… at 44.1 kHz)."""
    step_num, step_den = samples * TIMESCALE, sample_rate  # the step, in 90 kHz units
    if not on_grid or step_num % step_den == 0:
        return pts + step_num // step_den
    frames = _div_nearest(pts * step_den, step_num)
    grid_pts = _div_nearest(frames * step_num, step_den)
    return _div_nearest((frames + 1) * step_num, step_den) + pts - grid_pts


def _div_nearest(a: int, b: int) -> int:
    """a / b rounded to nearest, halves away from zero (ffmpeg's AV_ROUND_NEAR_INF)."""
    return (2 * a + b) // (2 * b) if a >= 0 else -((-2 * a + b) // (2 * b))
