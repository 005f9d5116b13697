"""The MPEG-TS reader (ISO/IEC 13818-1), for 188-byte TS and 192-byte M2TS packets.

``open()`` reads the start of the file until the PAT, the PMT and each stream's setup are
in (H.264/H.265 parameter sets, the first audio frame header), then the file's last half
megabyte for the last timestamps, so the duration needs no full scan. Packets follow
ffmpeg's demuxer and parsers, so that they equal ``ffprobe -show_packets``: one packet per
video access unit, cut by NAL unit types whatever the PES layout (:mod:`.access_units`,
timed and started at the first keyframe by :mod:`.video_packets`), one per audio frame
(:mod:`.audio_packets`: the first of a PES with its PTS, the others interpolated at 90 kHz),
timestamps as stored (33-bit, unwrapped, with no start offset subtracted).

Delivered forms, for WebCodecs and for MP4/Matroska output: H.264/H.265 length-prefixed
with an avcC/hvcC (:mod:`.parameter_sets`); AAC without its ADTS headers, with an
AudioSpecificConfig built from the first header; MPEG audio, AC-3/E-AC-3 and DTS frames as
they are (:mod:`.stream_types` tells the DVB and ATSC ways of declaring them). Video
packets carry duration 0 (the stream does not state it); audio packets their frame's.
Streams of other types (LATM AAC, subtitles, private data…) are not listed; a note in
``warnings`` names them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import overload

from ..codec_data import audio_specific_config, split_annexb
from ..demuxer import Demuxer
from ..errors import FormatError
from ..reader import Reader
from ..track import AudioTrack, Packet, Track, VideoTrack
from .audio_frames import AudioFrame
from .audio_packets import FRAMES, TIMESCALE, AudioPackets, add_frame, first_frame
from .parameter_sets import VideoConfig, video_config
from .psi import ElementaryStream
from .stream_types import stream_codec
from .transport import Pes, StreamError, TransportParser, packet_layout
from .video_packets import VideoPackets

_WRAP = 1 << 33
_WRAP_MARGIN = 60 * TIMESCALE
_HEAD_LIMIT = 16 << 20  # bytes searched for the tables and each stream's setup
_TAIL = 512 << 10  # bytes at the end read for the last timestamps
_MPEG_AUDIO_CODECS = {1: ("mp1", "mp4a.6B"), 2: ("mp2", "mp4a.6B"), 3: ("mp3", "mp3")}


@dataclass
class _Setup:
    """What the head scan learns about one elementary stream."""

    stream: ElementaryStream
    codec: str
    first_pts: int | None = None
    nals: list[bytes] | None = None
    video: VideoConfig | None = None
    audio: AudioFrame | None = None

    @property
    def ready(self) -> bool:
        return self.first_pts is not None and (self.video or self.audio) is not None


class MpegTsDemuxer(Demuxer):
    format_name = "mpegts"
    sniff_size = 3 * 192 + 192

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        return packet_layout(head) is not None

    def __init__(self, reader: Reader) -> None:
        super().__init__(reader)
        self._packet_size = 188
        self._first_packet = 0
        self._streams: list[ElementaryStream] = []
        self._tracks_by_pid: dict[int, Track] = {}
        self._wrap_reference: int | None = None

    async def open(self) -> None:
        head = await self.reader.read(0, self.sniff_size)
        layout = packet_layout(head)
        if layout is None:
            raise self.error("no 0x47 sync byte repeating every 188 or 192 bytes", 0)
        self._packet_size, self._first_packet = layout
        setups = await self._scan_head()
        first = {
            pid: self._unwrap(setup.first_pts)
            for pid, setup in setups.items()
            if setup.first_pts is not None
        }
        last = await self._scan_tail(first)
        for pid, setup in setups.items():
            track = self._track(setup, last.get(pid))
            self._tracks_by_pid[pid] = track
            self.tracks.append(track)
        if first and last:
            self.duration = (max(last.values()) - min(first.values())) / TIMESCALE

    def _block_size(self) -> int:
        """Whole packets that fit the reader's window, so that each block is served from
        one window fetch (the first from the one the sniffing read made)."""
        return max(1, self.reader.window // self._packet_size) * self._packet_size

    async def _scan_head(self) -> dict[int, _Setup]:
        parser = TransportParser(self._packet_size)
        setups: dict[int, _Setup] = {}
        pos = end = self._first_packet
        limit = min(self.reader.size or _HEAD_LIMIT, _HEAD_LIMIT)
        while pos < limit:
            block = await self.reader.read(pos, self._block_size())
            end = pos + len(block)  # the loop may stop before ``pos`` passes this block
            done, used = self._feed(parser, block, pos)
            at_end = len(block) < self._block_size()
            if at_end:
                done += parser.flush()[0]
            self._add_setups(parser.streams, setups)
            for pes in done:
                if pes.pid in setups:
                    if self._wrap_reference is None and pes.dts is not None:
                        self._wrap_reference = pes.dts
                    self._learn(setups[pes.pid], pes)
            if (setups and all(s.ready for s in setups.values())) or at_end or not used:
                break
            pos += used
        if not parser.streams:
            if parser.section_error is not None:
                raise self.error(str(parser.section_error), parser.section_error.offset)
            raise self.error(f"no PAT/PMT in the first {end} bytes", end)
        for pid, setup in list(setups.items()):
            if setup.codec in ("private", "unknown"):
                self.warnings.append(f"private data stream on PID {pid} is not read")
                del setups[pid]
            elif not setup.ready:
                what = "parameter sets" if setup.codec in ("h264", "hevc") else "audio frame"
                raise self.error(f"no {setup.codec} {what} with a PTS on PID "
                                 f"{setup.stream.pid} in the first {limit} bytes")  # fmt: skip
        self._streams = [setup.stream for setup in setups.values()]
        return setups

    def _add_setups(self, streams: list[ElementaryStream], setups: dict[int, _Setup]) -> None:
        for stream in streams:
            if stream.pid in setups or stream.pid in self._tracks_by_pid:
                continue
            codec = stream_codec(stream)
            if codec is None:
                kind = f"stream type 0x{stream.stream_type:02x}"
                note = f"{kind} on PID {stream.pid} is not read"
                if note not in self.warnings:
                    self.warnings.append(note)
                continue
            setups[stream.pid] = _Setup(stream, codec)

    def _learn(self, setup: _Setup, pes: Pes) -> None:
        if setup.codec == "private":
            setup.codec = next(
                (codec for codec, (parse, _) in FRAMES.items() if parse(pes.payload, 0)),
                "unknown",
            )
        if setup.first_pts is None and pes.pts is not None:
            setup.first_pts = pes.pts
        if setup.codec in ("h264", "hevc"):
            if setup.video is None:
                setup.nals = (setup.nals or []) + split_annexb(pes.payload)
                try:
                    setup.video = video_config(setup.codec, setup.nals)
                except FormatError as exc:  # a damaged parameter set: name file and PID
                    message = f"PID {setup.stream.pid}: {exc.message}"
                    raise self.error(message, exc.offset) from None
        elif setup.audio is None and setup.codec != "unknown":
            setup.audio = first_frame(setup.codec, pes.payload)

    def _feed(self, parser: TransportParser, block: bytes, offset: int) -> tuple[list[Pes], int]:
        try:
            return parser.feed(block, offset)
        except StreamError as exc:
            raise self.error(str(exc), exc.offset) from None

    async def _scan_tail(self, first: dict[int, int]) -> dict[int, int]:
        """The last PTS of each stream, unwrapped against its first, from the file's end."""
        size = self.reader.size
        if size is None or not first:
            return {}  # a stream of unknown length (live, or HLS segments): no tail to read
        last = dict(first)
        start = max(self._first_packet, size - _TAIL)
        start -= (start - self._first_packet) % self._packet_size
        parser = TransportParser(self._packet_size, self._streams)
        block = await self.reader.read(start, size - start)
        done, _ = self._feed(parser, block, start)
        for pes in done + parser.flush()[0]:
            if pes.pts is not None and pes.pid in last:
                last[pes.pid] = max(last[pes.pid], self._unwrap(pes.pts))
        return last

    def _track(self, setup: _Setup, last_pts: int | None) -> Track:
        stream = setup.stream
        first = setup.first_pts or 0
        duration = None if last_pts is None else last_pts - first
        if setup.video is not None:
            config = setup.video
            return VideoTrack(id=stream.pid, codec=setup.codec, codec_string=config.codec_string,
                              description=config.description, timescale=TIMESCALE,
                              duration=duration, language=stream.language, width=config.width,
                              height=config.height)  # fmt: skip
        frame = setup.audio
        assert frame is not None
        description: bytes | None = None
        if setup.codec == "aac":
            codec = "aac"
            description = audio_specific_config(frame.profile, frame.sample_rate, frame.channels)
            codec_string = f"mp4a.40.{frame.profile}"
        elif setup.codec == "ac3":
            codec, codec_string = ("eac3", "ec-3") if frame.profile > 10 else ("ac3", "ac-3")
        elif setup.codec == "dts":
            codec, codec_string = "dts", "dtsc"  # no WebCodecs name: the MP4 sample entry's
        elif setup.codec == "aac_latm":
            codec = codec_string = "aac_latm"  # ffprobe's name; WebCodecs has none
        else:
            codec, codec_string = _MPEG_AUDIO_CODECS[frame.profile]
            setup.codec = codec
        if duration is not None:
            duration += add_frame(0, frame.samples, frame.sample_rate, on_grid=False)
        return AudioTrack(id=stream.pid, codec=codec, codec_string=codec_string,
                          description=description, timescale=TIMESCALE, duration=duration,
                          language=stream.language, sample_rate=frame.sample_rate,
                          channels=frame.channels)  # fmt: skip

    async def packets(self) -> AsyncIterator[Packet]:
        parser = TransportParser(self._packet_size, self._streams)
        audio = {
            pid: AudioPackets(t)
            for pid, t in self._tracks_by_pid.items()
            if t.kind == "audio" and t.codec != "aac_latm"  # listed only (see latm_frame)
        }
        # An access unit is complete only when the next one begins, in a later PES: ffmpeg's
        # parsers wait the same way, which gives ffprobe's interleaving.
        video = {
            pid: VideoPackets(t, self._unwrap)
            for pid, t in self._tracks_by_pid.items()
            if t.kind == "video"
        }
        pos = self._first_packet
        block_size = self._block_size()
        while True:
            block = await self.reader.read(pos, block_size)
            done, used = self._feed(parser, block, pos)
            pos += used
            end = len(block) < block_size or not used
            if end:
                rest, cut = parser.flush()
                done += rest
            for pes in done:
                for packet in self._packets_of(pes, audio, video):
                    yield packet
            if end:
                break
        streams: list[VideoPackets | AudioPackets] = [*video.values(), *audio.values()]
        for stream in streams:
            for packet in stream.flush():
                yield packet
            self.warnings += stream.notes()
        if cut or pos < (self.reader.size or pos):
            self.warn_truncated(f"the file ends inside a TS packet or PES (PIDs {cut})", pos)
        if parser.resyncs:
            self.warnings.append(f"lost packet sync {len(parser.resyncs)} times, first at byte "
                                 f"{parser.resyncs[0]}")  # fmt: skip
        for pid, (count, first) in parser.damaged.items():
            kind = self._tracks_by_pid[pid].kind if pid in self._tracks_by_pid else "stream"
            self.warnings.append(str(self.error(
                f"PID {pid} ({kind}): TS packets are missing (continuity counter gaps); the "
                f"{count} PES packets they belonged to were dropped", first,
            )))  # fmt: skip

    @overload
    def _unwrap(self, ts: int) -> int: ...
    @overload
    def _unwrap(self, ts: None) -> None: ...
    def _unwrap(self, ts: int | None) -> int | None:
        """A 33-bit timestamp (section 2.4.3.7) carried across one wrap the way ffmpeg does
        (libavformat ``wrap_timestamp``): against the first timestamp of the file, values
        more than 60 s before it wrapped forwards, or, when the file starts within 60 s of
        the wrap, values after that point are moved 2^33 back (so they start negative)."""
        ref = self._wrap_reference
        if ts is None or ref is None:
            return ts
        threshold = ref - _WRAP_MARGIN
        if ref < _WRAP - _WRAP_MARGIN:
            return ts + _WRAP if ts < threshold else ts
        return ts - _WRAP if ts >= threshold else ts

    def _packets_of(
        self, pes: Pes, audio: dict[int, AudioPackets], video: dict[int, VideoPackets]
    ) -> list[Packet]:
        track = self._tracks_by_pid.get(pes.pid)
        if track is None or not pes.payload or (track.kind == "audio" and pes.pid not in audio):
            return []
        if track.kind == "video":
            return video[pes.pid].feed(pes.payload, pes.pts, pes.dts)
        return audio[pes.pid].feed(pes.payload, self._unwrap(pes.pts))
