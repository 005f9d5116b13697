"""The AVI reader (Microsoft AVI RIFF File Reference; OpenDML AVI 2.0 extensions).

An AVI file is ``RIFF 'AVI '`` holding ``LIST hdrl`` (``avih`` and one ``LIST strl`` per
stream: ``strh`` + ``strf``), ``LIST movi`` with the chunks (``00dc`` video, ``01wb``
audio…, possibly grouped in ``LIST rec``) and ``idx1``. Files over 1 GiB continue in
``RIFF 'AVIX'`` lists, each with its own ``movi``. Packets come out in file order; their
timestamps count chunks (or bytes / dwSampleSize for constant-rate audio) in units of
dwScale/dwRate, as ffmpeg's reader does, and keyframe flags come from the indexes.

H.264/H.265 in AVI are Annex-B byte streams; like MPEG-TS they are delivered
length-prefixed with an avcC/hvcC built from the first in-band parameter sets (see
:mod:`pywebcodecs.mpegts.parameter_sets` for why). AVI stores no presentation order: for
H.264 and MPEG-4 Part 2 the ``pts`` come from the bitstream's display order
(:mod:`.presentation`), so a video packet is held back until the pictures decoded after it
that are shown before it have been read; packets still come out in file order. Other
codecs' ``pts`` equal their ``dts`` (ffprobe reports no pts for such streams).
"""

from __future__ import annotations

import struct
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass

from ..codec_data import annexb_to_length_prefixed, split_annexb
from ..demuxer import Demuxer
from ..errors import FormatError
from ..mpegts.parameter_sets import VideoConfig, is_keyframe, video_config
from ..reader import Reader
from ..track import AudioTrack, Packet, Track, VideoTrack
from .index import (
    MAX_INDEX_BYTES,
    idx1_base,
    idx1_keyframes,
    standard_index_keyframes,
    super_index_entries,
)
from .presentation import PresentationTimes, display_order
from .stream_format import StreamFormat, stream_format

_MAX_HEADER_LIST = 16 << 20  # hdrl is a few KiB; more is a broken size field
_MAX_TOP_LEVEL_CHUNKS = 100_000
_MAX_RIFFS = 4096  # 1 GiB each
_CONFIG_SCAN = 8 << 20  # bytes of movi searched for the first H.264/H.265 parameter sets
_ANNEX_B = ("h264", "hevc")


@dataclass
class _Stream:
    format: StreamFormat
    track: Track
    position: int = 0  # chunks (or bytes, for constant-rate audio) delivered so far
    times: PresentationTimes | None = None  # where the pictures' display order is read


class AviDemuxer(Demuxer):
    format_name = "avi"
    sniff_size = 12

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        return head[:4] == b"RIFF" and head[8:12] == b"AVI "

    def __init__(self, reader: Reader) -> None:
        super().__init__(reader)
        self._super_indexes: list[tuple[int, int]] = []
        self._streams: dict[int, _Stream] = {}
        self._movi: list[tuple[int, int]] = []  # (first chunk, end) of every movi list
        self._keyframes: dict[int, bool] = {}
        self._file_size = 0

    async def open(self) -> None:
        size = self.reader.size
        self._file_size = size if size is not None else 1 << 63
        head = await self.reader.read_exact(0, 12, "the RIFF header", "avi")
        if not self.sniff(head):
            raise self.error(f"expected 'RIFF....AVI ', found {head.hex(' ')}", 0)
        hdrl, idx1, first_movi = await self._read_riffs()
        if hdrl is None:
            raise self.error("no LIST hdrl (stream headers) in the first RIFF list", 12)
        if not self._movi:
            raise self.error("no LIST movi (media chunks) in the file", 12)
        formats = self._parse_header_list(*hdrl)
        for index, fmt in enumerate(formats):
            if fmt.kind in ("video", "audio"):
                track = await self._track(index, fmt)
                order = display_order(fmt.codec) if fmt.kind == "video" else None
                times = PresentationTimes(order, fmt.timing.step) if order else None
                self._streams[index] = _Stream(fmt, track, times=times)
                self.tracks.append(track)
        await self._read_keyframe_flags(idx1, first_movi)
        durations = [t.duration_seconds for t in self.tracks if t.duration_seconds]
        self.duration = max(durations) if durations else None

    async def _read_riffs(self) -> tuple[tuple[int, bytes] | None, tuple[int, int] | None, int]:
        """Walk the top-level chunks of every RIFF list: hdrl's bytes, idx1's place, and the
        movi lists (recorded in ``self._movi``); returns (hdrl, idx1, first movi fourcc)."""
        hdrl: tuple[int, bytes] | None = None
        idx1: tuple[int, int] | None = None
        first_movi = 0
        riff_at = 0
        for _ in range(_MAX_RIFFS):
            header = await self.reader.read(riff_at, 12)
            if len(header) < 12 or header[:4] != b"RIFF" or header[8:11] != b"AVI":
                break
            riff_end = min(riff_at + 8 + struct.unpack_from("<I", header, 4)[0], self._file_size)
            pos = riff_at + 12
            for _ in range(_MAX_TOP_LEVEL_CHUNKS):
                if pos + 8 > riff_end:
                    break
                chunk = await self.reader.read(pos, 12)
                chunk_id, size = chunk[:4], struct.unpack_from("<I", chunk, 4)[0]
                if chunk_id == b"LIST" and chunk[8:12] == b"hdrl" and hdrl is None:
                    if size > _MAX_HEADER_LIST:
                        raise self.error(f"LIST hdrl claims {size} bytes", pos)
                    hdrl = (
                        pos + 12,
                        await self.reader.read_exact(pos + 12, size - 4, "LIST hdrl", "avi"),
                    )
                elif chunk_id == b"LIST" and chunk[8:12] == b"movi":
                    first_movi = first_movi or pos + 8
                    self._movi.append((pos + 12, min(pos + 8 + size, self._file_size)))
                elif chunk_id == b"idx1" and idx1 is None:
                    idx1 = (pos + 8, size)
                pos += 8 + size + (size & 1)
            else:
                raise self.error(f"more than {_MAX_TOP_LEVEL_CHUNKS} top-level chunks", pos)
            riff_at = riff_end + (riff_end & 1)
        return hdrl, idx1, first_movi

    def _parse_header_list(self, start: int, data: bytes) -> list[StreamFormat]:
        """The streams of ``LIST hdrl``; also reads each ``strl``'s OpenDML ``indx``."""
        formats = []
        for offset, chunk_id, body in _chunks(data, start, self):
            if chunk_id != b"LIST" or body[:4] != b"strl":
                continue
            parts = {cid: (at, part) for at, cid, part in _chunks(body[4:], offset + 12, self)}
            if b"strh" not in parts or b"strf" not in parts:
                raise self.error("LIST strl lacks its strh or strf chunk", offset)
            try:
                formats.append(stream_format(parts[b"strh"][1], parts[b"strf"][1]))
            except FormatError as exc:
                raise self.error(exc.message, parts[b"strh"][0]) from None
            if b"indx" in parts:
                self._super_indexes += super_index_entries(parts[b"indx"][1])
        if not formats:
            raise self.error("LIST hdrl describes no stream (no LIST strl)", start)
        return formats

    async def _read_keyframe_flags(self, idx1: tuple[int, int] | None, movi_fourcc: int) -> None:
        """Keyframe flags from the OpenDML standard indexes (they cover every RIFF list),
        else from idx1; neither is read past :data:`MAX_INDEX_BYTES`."""
        total = 0
        for offset, size in self._super_indexes:
            total += size
            if total > MAX_INDEX_BYTES or size < 8:
                raise self.error(f"OpenDML index of {size} bytes (limit {MAX_INDEX_BYTES})", offset)
            chunk = await self.reader.read_exact(offset, size, "an ix## index", "avi")
            self._keyframes.update(standard_index_keyframes(chunk[8:]))
        if not self._keyframes and idx1 is not None and idx1[1] <= MAX_INDEX_BYTES:
            data = await self.reader.read(*idx1)
            self._keyframes = idx1_keyframes(data, idx1_base(data, movi_fourcc))

    async def _track(self, index: int, fmt: StreamFormat) -> Track:
        if fmt.codec == "unknown":
            self.warnings.append(f"stream {index}: {fmt.kind} codec {fmt.fourcc!r} is unknown "
                                 "to this engine; its packets are passed on as stored")  # fmt: skip
        timing = fmt.timing
        duration = timing.length * timing.step or None
        if fmt.kind == "audio":
            return AudioTrack(id=index, codec=fmt.codec, codec_string=fmt.codec_string,
                              description=fmt.description, timescale=timing.timescale,
                              duration=duration, sample_rate=fmt.sample_rate,
                              channels=fmt.channels,
                              bits_per_sample=fmt.bits_per_sample)  # fmt: skip
        config = VideoConfig(fmt.codec_string, b"", fmt.width, fmt.height)
        if fmt.codec in _ANNEX_B:
            config = await self._first_parameter_sets(index, fmt.codec)
        return VideoTrack(id=index, codec=fmt.codec, codec_string=config.codec_string,
                          description=config.description or None, timescale=timing.timescale,
                          duration=duration, width=config.width, height=config.height,
                          frame_rate=timing.timescale / timing.step)  # fmt: skip

    async def _first_parameter_sets(self, index: int, codec: str) -> VideoConfig:
        """The decoder config from the stream's first chunks (within :data:`_CONFIG_SCAN`)."""
        nals: list[bytes] = []
        cut = len(self.warnings)
        async for chunk_index, offset, size in self._chunk_headers(self._movi[:1]):
            if offset > self._movi[0][0] + _CONFIG_SCAN:
                break
            if chunk_index == index and size:
                nals += split_annexb(await self.reader.read(offset, size))
                config = video_config(codec, nals)
                if config:
                    return config
        if len(self.warnings) > cut:  # the walk met the end of a cut-off file
            raise self.error(f"the file is cut off before stream {index}'s first {codec} "
                             "parameter sets: no picture of it can be decoded",
                             self._file_size)  # fmt: skip
        raise self.error(f"no {codec} parameter sets in the first {_CONFIG_SCAN} bytes of movi")

    async def _chunk_headers(
        self, movi_lists: list[tuple[int, int]]
    ) -> AsyncIterator[tuple[int, int, int]]:
        """(stream number, data offset, size) of each stream chunk in the movi lists, in file
        order; ``LIST rec`` groups are stepped into, other chunks (``ix##``, ``JUNK``) skipped.
        A chunk cut off by the end of the file ends the walk with a truncation warning."""
        for pos, end in movi_lists:
            while pos + 8 <= end:
                header = await self.reader.read(pos, 8)
                if len(header) < 8:
                    break
                size = struct.unpack_from("<I", header, 4)[0]
                if header[:4] == b"LIST":
                    pos += 12
                    continue
                if pos + 8 + size > self._file_size:
                    self.warn_truncated(f"chunk {header[:4]!r} of {size} bytes is cut off", pos)
                    return
                number = header[:2]
                if number.isdigit() and header[2:4].isalpha():
                    yield int(number), pos + 8, size
                pos += 8 + size + (size & 1)
            if pos < end and end == self._file_size:
                self.warn_truncated("the movi list is cut off", pos)

    async def packets(self) -> AsyncIterator[Packet]:
        # Packets in file order, each with the stream whose presentation times it awaits
        # (None: ready) and its decode index there.
        held: deque[tuple[Packet, PresentationTimes | None, int]] = deque()
        async for packet, times, index in self._timed_packets():
            held.append((packet, times, index))
            while held and _ready(held[0]):
                yield held.popleft()[0]
        for number, stream in self._streams.items():
            if stream.times is not None:
                stream.times.finish()
                self._warn_order(number, stream)
        while held:
            _ready(held[0])
            yield held.popleft()[0]

    def _warn_order(self, number: int, stream: _Stream) -> None:
        assert stream.times is not None
        if stream.times.order.warning:
            self.warnings.append(f"stream {number}: {stream.times.order.warning}")
        if stream.times.late:
            self.warnings.append(
                f"stream {number}: {stream.times.late} pictures are reordered deeper than the "
                f"{stream.times.depth} its start announced or needed; they are shown out of order"
            )

    async def _timed_packets(
        self,
    ) -> AsyncIterator[tuple[Packet, PresentationTimes | None, int]]:
        """Each chunk's packet with ``pts`` equal to ``dts``, and where the stream's
        presentation times are computed, those and the picture's index there."""
        async for number, offset, size in self._chunk_headers(self._movi):
            stream = self._streams.get(number)
            if stream is None:
                continue
            timing, codec = stream.format.timing, stream.format.codec
            if not size:
                # An empty video chunk holds the place of a dropped frame; an empty audio
                # chunk holds no samples (ffmpeg's avidec counts them the same way).
                stream.position += stream.track.kind == "video"
                continue
            if timing.sample_size:
                units = stream.position // timing.sample_size
                stream.position += size
            else:
                units, stream.position = stream.position, stream.position + 1
            data = await self.reader.read_exact(offset, size, "a media chunk", "avi")
            key = self._keyframes.get(offset)
            nals: list[bytes] = []
            if codec in _ANNEX_B:
                nals = split_annexb(data)
                key = is_keyframe(codec, nals) if key is None else key
            elif key is None or stream.track.kind == "audio":
                key = True
            ts = units * timing.step
            duration = (size // timing.sample_size if timing.sample_size else 1) * timing.step
            index = 0 if stream.times is None else stream.times.push(data, nals, ts)
            if codec in _ANNEX_B:
                data = annexb_to_length_prefixed(data)
            yield Packet(stream.track.id, ts, ts, duration, key, data), stream.times, index


def _ready(entry: tuple[Packet, PresentationTimes | None, int]) -> bool:
    """Whether a held packet's pts is known; sets it when it has just become known."""
    packet, times, index = entry
    if times is None:
        return True
    pts = times.pts(index)
    if pts is not None:
        packet.pts = pts
    return pts is not None


def _chunks(data: bytes, start: int, demuxer: Demuxer) -> list[tuple[int, bytes, bytes]]:
    """(offset, id, body) of the RIFF chunks that fill ``data`` (which begins at ``start``)."""
    chunks = []
    pos = 0
    while pos + 8 <= len(data):
        chunk_id, size = data[pos : pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        if pos + 8 + size > len(data):
            raise demuxer.error(
                f"chunk {chunk_id!r} of {size} bytes overruns its list", start + pos
            )
        chunks.append((start + pos, chunk_id, data[pos + 8 : pos + 8 + size]))
        pos += 8 + size + (size & 1)
    return chunks
