"""Where re-encoded audio ends: exactly where the audio fed to the encoder ends.

An audio encoder works in whole frames (Opus: 20 ms), so at the end it fills the last
frame up with silence, and a build may even emit one more frame of it. Nothing in the
packets says which part is padding, but the pipeline knows how many samples it fed the
encoder and from which timestamp, so it knows the true end; and where the input's own
packets end earlier than their decoded samples (an MP4 whose last AAC sample is cut
short, an Ogg stream's last granule), the input's audio ends there. This holds each encoded
packet back until it is known to end before that point (or the input is over), then
shortens the one that reaches past it, noting the rest as its ``discard_padding`` (which
the muxers write as Matroska DiscardPadding and as the end of the MP4 edit), and drops the
packets that hold nothing but padding. Raw PCM (for WAV, which has nowhere to say what to
drop) is cut in its data instead. Pure Python, so the arithmetic is tested in CPython.

An encoder may also give *less* than it was fed: Chromium's Opus encoder resamples other
rates to 48 kHz itself and loses its last partial frame on flush (an 11025 Hz input ended
39.5 ms early, 22050 Hz 19.5 ms; which frames a build loses differs between builds). So
the session feeds :data:`FLUSH_SILENCE` of silence after the input's last sample, not
counted as fed: whatever the encoder loses at its end is silence, the real samples all
come out, and the silence is cut here like any other padding. :attr:`short_by` tells if
the encoder still fell short, so that a loss is an error, never silent.
"""

from __future__ import annotations

import math
from collections import deque
from fractions import Fraction

from .track import NANOSECONDS, Packet

#: Seconds of silence fed after the input's end, before the encoder's flush: more than a
#: Chromium Opus encoder keeps back (measured in Chromium 156, 1.013 s at each rate from
#: 8 to 96 kHz: up to 39.5 ms, at 11025 Hz, two of its 20 ms frames).
FLUSH_SILENCE = Fraction(1, 10)


class EncodedAudioEnd:
    """The fed samples and the held packets of one audio encoder (timestamps in
    ``timescale`` units for both)."""

    def __init__(self, timescale: int, *, raw: bool = False) -> None:
        self.timescale = timescale
        self.raw = raw  # the packets are the PCM samples themselves
        self._start: int | None = None  # the first fed sample's timestamp
        self._fed_before = Fraction(0)  # seconds fed at earlier rates than the latest
        self._frames = 0  # frames fed at the latest rate (counted whole: no Fraction a call)
        self._rate = 0  # the latest fed sample rate
        self._input_pts: int | None = None  # the latest input packet's pts
        self._input_end: int | None = None  # ... and where it ends, when it says
        self._held: deque[Packet] = deque()
        self._coded_end: int | None = None  # where the latest encoded packet ends

    def decoding(self, pts: int, duration: int) -> None:
        """An input packet went to the decoder; a duration of 0 is unknown."""
        if self._input_pts is None or pts >= self._input_pts:
            self._input_pts = pts
            self._input_end = pts + duration if duration > 0 else None

    def fed(self, timestamp: int, frames: int, sample_rate: int) -> None:
        """``frames`` samples starting at ``timestamp`` went to the encoder."""
        if self._start is None:
            self._start = timestamp
        if sample_rate != self._rate:
            if self._rate:
                self._fed_before += Fraction(self._frames, self._rate)
            self._frames, self._rate = 0, sample_rate
        self._frames += frames

    @property
    def fed_end(self) -> int | None:
        """Where the fed samples end; None before any was fed."""
        if self._start is None:
            return None
        if not self._fed_before:  # one rate throughout: whole numbers, rounded half up
            scaled = self._frames * self.timescale
            return self._start + (2 * scaled + self._rate) // (2 * self._rate)
        return self._start + round(
            (self._fed_before + Fraction(self._frames, self._rate)) * self.timescale
        )

    @property
    def end(self) -> int | None:
        """Where the fed audio ends (or the input's last packet, if earlier); None before
        any was fed."""
        fed = self.fed_end
        if fed is None or self._input_end is None:
            return fed
        return min(fed, self._input_end)

    def flush_silence(self) -> tuple[int, int] | None:
        """(timestamp, frames) of the silence to feed before the encoder's flush, at the
        rate last fed, from where the fed samples end; None if nothing was fed."""
        fed = self.fed_end
        if fed is None:
            return None
        return fed, math.ceil(FLUSH_SILENCE * self._rate)

    @property
    def short_by(self) -> int:
        """How far (timescale units) the encoded packets end before the audio's end: 0
        unless the encoder lost real samples. Less than one sample is the rounding of
        whole-microsecond timestamps, not a loss (a LAME-tagged 44.1 kHz MP3 → WAV was
        refused for "0.0 ms less audio than it was fed")."""
        end = self.end
        if end is None:
            return 0
        coded = self._coded_end if self._coded_end is not None else self._start
        assert coded is not None  # something was fed
        short = end - coded
        return short if short * self._rate >= self.timescale else 0

    def push(self, packet: Packet) -> list[Packet]:
        """Hold ``packet``; return those now known to end within the fed audio."""
        packet_end = packet.pts + packet.duration
        if self._coded_end is None or packet_end > self._coded_end:
            self._coded_end = packet_end
        self._held.append(packet)
        return self._release(final=False)

    def finish(self) -> list[Packet]:
        """The input is over: the rest, the last one trimmed to the end, padding dropped."""
        return self._release(final=True)

    def _release(self, *, final: bool) -> list[Packet]:
        end = self.end
        ready = []
        while self._held:
            packet = self._held[0]
            beyond = 0 if end is None else packet.pts + packet.duration - end
            if beyond > 0 and not final:
                break
            self._held.popleft()
            if beyond <= 0:
                ready.append(packet)
            elif end is not None and packet.pts < end:
                self._cut(packet, beyond)
                ready.append(packet)
            # else: the packet starts at or after the end: it holds only padding.
        return ready

    def _cut(self, packet: Packet, beyond: int) -> None:
        """Shorten ``packet`` by ``beyond``: PCM loses those samples, encoded audio notes
        them as ``discard_padding``."""
        kept = packet.duration - beyond
        if self.raw:
            frames = max(round(packet.duration * self._rate / self.timescale), 1)
            size = len(packet.data) // frames
            packet.data = packet.data[: size * round(frames * kept / packet.duration)]
        else:
            packet.discard_padding += beyond * NANOSECONDS // self.timescale
        packet.duration = kept
