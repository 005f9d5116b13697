"""Writing MP4 (ISO/IEC 14496-12, with the codec bindings of ISO/IEC 14496-14 and -15).

Three layouts:

* progressive (default): ftyp | mdat (16-byte header with a 64-bit size, patched at the
  end, so files past 4 GiB work) | moov. Only about a second of each track is held in
  memory: samples are written in per-track chunks of up to a second (or 1 MiB), so the
  sample-to-chunk table stays a few entries long.
* ``fast_start=True``: ftyp | moov | mdat, for playback before the download ends. The
  moov holds the chunk offsets, which depend on its own size, so **every packet is kept
  in memory** until :meth:`Mp4Muxer.finish`.
* ``fragmented=True``: ftyp | moov (empty tables, mvex) | (moof | mdat)*, each fragment
  starting at a video keyframe, or every second without video (section 8.8). The moov is
  written once the first fragment is complete, when each track's first decode time is
  known for its edit list.

Packet timestamps are in the added track's timescale, which a video track keeps. An audio
track is counted in samples (its sample rate; 48 kHz for Opus), as ffmpeg writes it:
ffmpeg's reader takes the edit list's ``media_time`` of an audio track as the number of
priming samples to skip, so a track counted in microseconds (WebCodecs) would lose far
more than its Opus pre-skip.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from ..errors import UnsupportedError
from ..muxer import Muxer
from ..sink import Sink
from ..track import OPUS_RATE, AudioTrack, Packet, Track, VideoTrack
from .box_writer import LARGE_HEADER_SIZE, MAX_32, box, large_box_header
from .fragment_writer import TrackRun, fragment
from .movie_writer import TrackTiming, mvex, mvhd, trak
from .sample_entry_writer import IN_BAND_CONFIG, PCM_CODECS, with_in_band_config
from .sample_log import SampleLog, empty_stbl_children
from .tags import write_udta

_BRANDS = (b"isom", b"iso2", b"avc1", b"mp41")
#: A chunk (progressive) or an audio-only fragment closes after this many seconds...
SPAN_SECONDS = 1
#: ... or this many bytes.
CHUNK_BYTES = 1 << 20


@dataclass
class _OutTrack:
    number: int
    track: Track
    log: SampleLog = field(default_factory=SampleLog)
    first_dts: int | None = None
    start_pts: int | None = None
    end_pts: int = 0
    pending: list[bytes] = field(default_factory=list)  # the open chunk or fragment run
    pending_bytes: int = 0
    pending_from: int = 0  # index in the log of the first pending sample
    total_bytes: int = 0
    #: The added track's timescale, when the MP4 track counts in other units (audio).
    source_timescale: int | None = None
    #: Added after rescaling: what a coarser timescale rounded off the Opus pre-skip.
    shift: int = 0

    def rescaled(self, packet: Packet) -> Packet:
        """``packet`` with its times in the MP4 track's timescale."""
        if self.source_timescale is None:
            return packet
        to, of = self.track.timescale, self.source_timescale
        return dataclasses.replace(packet, pts=_rescale(packet.pts, to, of) + self.shift,
                                   dts=_rescale(packet.dts, to, of) + self.shift,
                                   duration=_rescale(packet.duration, to, of))  # fmt: skip


class Mp4Muxer(Muxer):
    """MP4 with H.264, HEVC, VP9, AV1, AAC, Opus, FLAC, MP3, AC-3, E-AC-3, DTS and PCM."""

    format_name = "mp4"
    mime_type = "video/mp4"
    codecs = frozenset(
        {"h264", "hevc", "vp9", "av1", "aac", "opus", "flac", "mp3", *IN_BAND_CONFIG} | PCM_CODECS
    )

    def __init__(self, sink: Sink, *, fast_start: bool = False, fragmented: bool = False) -> None:
        super().__init__(sink)
        if fast_start and fragmented:
            raise ValueError("fast_start and fragmented are two different layouts; pick one")
        self.fast_start = fast_start
        self.fragmented = fragmented
        # ffmpeg shows a fragmented file's frames before its edit, at negative times.
        self.hides_video_lead_in = not fragmented
        self._tracks: list[_OutTrack] = []
        self._started = False
        self._mdat_offset = 0  # file offset of the progressive mdat header
        self._mdat_size = 0  # payload bytes so far (chunk offsets are relative to it)
        self._held: list[bytes] = []  # fast_start: the mdat payload
        self._sequence = 0  # fragments written
        self._fragment_start: float | None = None  # seconds
        self._has_video = False

    def add_track(self, track: Track) -> int:
        self.check_codec(track.codec)
        if self._started:
            raise UnsupportedError("all tracks must be added before the first packet")
        out = _OutTrack(number=len(self._tracks) + 1, track=track)
        if isinstance(track, AudioTrack):
            rate = OPUS_RATE if track.codec == "opus" else track.sample_rate
            if rate != track.timescale:
                out.source_timescale = track.timescale
                # Matroska's milliseconds put Opus's first packet at -7 ms for a 6.5 ms
                # pre-skip: the first sample goes back to exactly minus the pre-skip (or
                # an MP3's priming), which the edit list's media_time then skips.
                lead_in = _rescale(track.lead_in, rate, track.timescale)
                out.shift = lead_in - track.skipped_samples
                duration = track.duration
                if duration is not None:
                    duration = _rescale(duration, rate, track.timescale)
                out.track = dataclasses.replace(track, timescale=rate, duration=duration)
        self._tracks.append(out)
        self._has_video = self._has_video or isinstance(track, VideoTrack)
        return len(self._tracks)

    async def write_packet(self, track_id: int, packet: Packet) -> None:
        if not 1 <= track_id <= len(self._tracks):
            raise ValueError(f"unknown track id {track_id}")
        if not self._started:
            await self._start()
        out = self._tracks[track_id - 1]
        packet = out.rescaled(packet)
        if self.fragmented and self._fragment_due(out, packet):
            await self._write_fragment()
        if out.first_dts is None:
            out.first_dts = packet.dts
        log = out.log
        if not len(log):
            out.track = with_in_band_config(out.track, packet.data)
        dts = packet.dts - (0 if self.fragmented else out.first_dts)
        if len(log) and dts < log.dts[-1]:
            raise ValueError(f"track {track_id}: decode times must not go back ({packet.dts})")
        gap = dts - log.dts[-1] if len(log) else 0
        log.add(dts, packet.pts - packet.dts, len(packet.data), packet.is_key,
                packet.duration if packet.duration > 0 else gap)  # fmt: skip
        # The edit list ends before a frame shown after a trim, and before a packet of
        # audio padding alone (an MP3's last frame: duration 0, all discard_padding).
        if not packet.hidden and (packet.duration or not packet.discard_padding):
            out.end_pts = max(out.end_pts, packet.pts + log.last_duration)
        out.start_pts = packet.pts if out.start_pts is None else min(out.start_pts, packet.pts)
        out.pending.append(packet.data)
        out.pending_bytes += len(packet.data)
        out.total_bytes += len(packet.data)
        span = dts - log.dts[out.pending_from]
        full = span >= SPAN_SECONDS * out.track.timescale or out.pending_bytes >= CHUNK_BYTES
        if not self.fragmented and full:
            await self._write_chunk(out)

    async def finish(self) -> None:
        if not self._started:
            await self._start()
        if self.fragmented:
            if any(out.pending for out in self._tracks) or not self._sequence:
                await self._write_fragment()
            return
        for out in self._tracks:
            await self._write_chunk(out)
        ftyp = _ftyp()
        if not self.fast_start:
            size = (self._mdat_size + LARGE_HEADER_SIZE).to_bytes(8, "big")
            await self.sink.write_at(self._mdat_offset + 8, size)
            await self.sink.write(self._moov(self._mdat_offset + LARGE_HEADER_SIZE, False))
            return
        header = _mdat_header(self._mdat_size)
        force_co64 = len(ftyp) + len(header) + self._mdat_size > MAX_32 - (1 << 24)
        moov_size = len(self._moov(0, force_co64))
        await self.sink.write(ftyp)
        await self.sink.write(self._moov(len(ftyp) + moov_size + len(header), force_co64))
        await self.sink.write(header)
        for piece in self._held:
            await self.sink.write(piece)
        self._held.clear()

    # -- progressive and fast start -------------------------------------------------------

    async def _start(self) -> None:
        self._started = True
        if self.fragmented or self.fast_start:
            return
        await self.sink.write(_ftyp())
        self._mdat_offset = self.sink.position
        await self.sink.write(large_box_header("mdat", LARGE_HEADER_SIZE))

    async def _write_chunk(self, out: _OutTrack) -> None:
        if not out.pending:
            return
        out.log.chunk_offsets.append(self._mdat_size)
        out.log.chunk_counts.append(len(out.pending))
        for data in out.pending:
            if self.fast_start:
                self._held.append(data)
            else:
                await self.sink.write(data)
        self._mdat_size += out.pending_bytes
        self._reset_pending(out)

    def _moov(self, mdat_payload_offset: int, force_co64: bool) -> bytes:
        traks = [
            trak(
                out.track,
                out.number,
                self._timing(out),
                out.log.stbl_children(mdat_payload_offset, force_co64),
                self._bitrate(out),
                fragmented=False,
            )
            for out in self._tracks
        ]
        movie = mvhd(self._movie_duration(), len(self._tracks) + 1)
        return box("moov", movie, *traks, write_udta(self.tags, self.images))

    def _timing(self, out: _OutTrack) -> TrackTiming:
        first = out.first_dts or 0
        start = first if out.start_pts is None else out.start_pts
        return TrackTiming(first, start, out.log.media_duration, out.end_pts)

    def _movie_duration(self) -> int:
        return max(
            (self._timing(out).presentation(out.track.timescale) for out in self._tracks),
            default=0,
        )

    def _bitrate(self, out: _OutTrack) -> int:
        seconds = out.log.media_duration / out.track.timescale
        return round(out.total_bytes * 8 / seconds) if seconds > 0 else 0

    # -- fragmented -----------------------------------------------------------------------

    def _fragment_due(self, out: _OutTrack, packet: Packet) -> bool:
        if not any(o.pending for o in self._tracks):
            self._fragment_start = packet.dts / out.track.timescale
            return False
        if self._has_video:
            return isinstance(out.track, VideoTrack) and packet.is_key
        start = self._fragment_start or 0.0
        return packet.dts / out.track.timescale - start >= SPAN_SECONDS

    async def _write_fragment(self) -> None:
        if not self._sequence:
            for out in self._tracks:  # a track with no packet yet starts at decode time 0
                out.first_dts = 0 if out.first_dts is None else out.first_dts
            moov = box(
                "moov",
                mvhd(0, len(self._tracks) + 1),
                *(
                    trak(
                        out.track,
                        out.number,
                        self._timing(out),
                        empty_stbl_children(),
                        0,
                        fragmented=True,
                    )
                    for out in self._tracks
                ),
                mvex([out.number for out in self._tracks]),
                write_udta(self.tags, self.images),
            )
            await self.sink.write(_ftyp() + moov)
        self._sequence += 1
        runs = [self._track_run(out) for out in self._tracks if out.pending]
        for piece in fragment(self._sequence, runs):
            await self.sink.write(piece)
        for out in self._tracks:
            self._reset_pending(out)

    def _track_run(self, out: _OutTrack) -> TrackRun:
        log, start = out.log, out.pending_from
        base = out.first_dts or 0
        if log.dts[start] < base:
            raise ValueError(
                f"track {out.number}: decode time {log.dts[start]} is before the track's "
                f"first fragment ({base}); fragmented MP4 cannot move it earlier"
            )
        return TrackRun(
            track_id=out.number,
            decode_time=log.dts[start] - base,
            durations=log.durations(start),
            sizes=list(log.sizes[start:]),
            keys=bytes(log.keys[start:]),
            composition_offsets=list(log.cts[start:]),
            data=out.pending,
        )

    @staticmethod
    def _reset_pending(out: _OutTrack) -> None:
        out.pending = []
        out.pending_bytes = 0
        out.pending_from = len(out.log)


def _rescale(value: int, to: int, of: int) -> int:
    """``value`` units of ``1/of`` s in units of ``1/to`` s, rounded half up."""
    return (2 * value * to + of) // (2 * of)


def _ftyp() -> bytes:
    return box("ftyp", _BRANDS[0], (512).to_bytes(4, "big"), *_BRANDS)


def _mdat_header(payload: int) -> bytes:
    if payload + 8 <= MAX_32:
        return (payload + 8).to_bytes(4, "big") + b"mdat"
    return large_box_header("mdat", payload + LARGE_HEADER_SIZE)


__all__ = ["Mp4Muxer"]
