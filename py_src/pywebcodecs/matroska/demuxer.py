"""Reading Matroska and WebM (RFC 9559; WebM: https://www.webmproject.org/docs/container/).

``open`` walks the Segment's top-level elements up to the first Cluster (then follows the
SeekHead to header elements written after the clusters), so listing tracks reads only
headers. ``packets`` walks the Clusters front to back through windowed reads.

Timestamps: a track's ``timescale`` is 1e9 / TimestampScale (1000 for the usual 1 ms),
reduced when TimestampScale does not divide a second. Like ffmpeg, a track's CodecDelay is
subtracted from its block timestamps (so an Opus stream starts at minus its pre-skip),
laced frames each become a packet at ``block time + i * frame duration``, and a frame's
duration is BlockDuration, else DefaultDuration, truncated to timestamp units. A block's
positive DiscardPadding (an encoder's padding at the end of the stream) goes to its last
frame's packet as ``discard_padding``, and that packet's duration is shortened by it, as
the audio a player keeps ends there.

Tags: the SimpleTags that target the whole file, names lower-cased (``title``,
``artist``, ``encoder``); a track's DURATION tag gives its ``duration``. Attached files
whose media type is an image become ``images``.

Duration: Info's Duration. MediaRecorder files have none, and finding the last block
would mean walking every cluster (they have no Cues either), so ``duration`` is then
None and ``parse_media``'s packet scan fills it in.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass, field
from math import gcd

from ..codec_data import annexb_to_length_prefixed
from ..demuxer import Demuxer
from ..errors import FormatError
from ..reader import Reader
from ..track import NANOSECONDS, CoverImage, Packet
from . import ids
from .blocks import FLAG_KEY, Block, parse_block, read_alpha
from .duration_tags import parse_duration_tag
from .ebml import (
    UNKNOWN_SIZE,
    EbmlError,
    children,
    decode_uint,
    read_header,
)
from .headers import (
    SegmentInfo,
    Tags,
    TrackEntry,
    parse_attachments,
    parse_doc_type,
    parse_info,
    parse_seek_head,
    parse_tags,
    parse_tracks,
)
from .packet_timing import REORDERED_CODECS, PacketTiming
from .tracks import AUDIO, VIDEO, build_track, is_annexb, needs_first_keyframe

#: Header elements are read whole; larger ones are treated as damage.
MAX_HEADER_ELEMENT = 16 << 20
MAX_ATTACHMENTS = 64 << 20
#: No real block is this large; a bigger size field is damage.
MAX_BLOCK = 256 << 20
#: Decompressed (zlib ContentEncoding) frames are capped at this size.
MAX_INFLATED = 64 << 20
#: Enough bytes for any element header (4-byte ID + 8-byte size).
HEADER_PEEK = 12
#: Top-level elements: meeting one ends an unknown-size Cluster (RFC 9559 section 6.2).
LEVEL1_IDS = frozenset(
    {
        ids.CLUSTER,
        ids.CUES,
        ids.TAGS,
        ids.SEEK_HEAD,
        ids.INFO,
        ids.TRACKS,
        ids.ATTACHMENTS,
        ids.CHAPTERS,
        ids.SEGMENT,
        ids.EBML,
    }
)
#: How many packets ``open`` may walk to find a VP9 keyframe for the codec string.
VP9_PROBE_PACKETS = 64


@dataclass
class _TrackTiming:
    delay: int  # CodecDelay in timestamp units, subtracted from block times
    default_duration: int | None  # ns
    compression: int | None
    compression_settings: bytes
    annexb: bool = False  # H.264/HEVC frames with start codes, given 4-byte lengths


class MatroskaDemuxer(Demuxer):
    format_name = "matroska"

    def __init__(self, reader: Reader) -> None:
        super().__init__(reader)
        self._segment_start = 0
        self._segment_end = 0
        self._declared_end: int | None = None  # the Segment's end by its size, if known
        self._first_cluster: int | None = None
        self._scale_ns = 1_000_000  # TimestampScale
        self._units = 1  # model units per Matroska timestamp unit
        self._timescale = 1000  # model units per second
        self._timing: dict[int, _TrackTiming] = {}

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        try:
            element_id, size, header = read_header(head, 0)
            if element_id != ids.EBML or size < 0:
                return False
            doc_type = parse_doc_type(head, header, min(header + size, len(head)))
        except EbmlError:
            return False
        return doc_type in ("matroska", "webm")

    async def open(self) -> None:
        reader = self.reader
        head = await reader.read(0, 4096)
        if not head:
            raise self.error("the file is empty", 0)
        try:
            element_id, size, header = read_header(head, 0)
            if element_id != ids.EBML or size < 0 or header + size > len(head):
                raise self.error("expected an EBML header (1A 45 DF A3) of at most 4 KiB", 0)
            doc_type = parse_doc_type(head, header, header + size)
        except EbmlError as exc:
            raise self.error(f"bad EBML header: {exc.message}", exc.offset) from None
        if doc_type not in ("matroska", "webm"):
            raise self.error(f"DocType is {doc_type!r}, not matroska or webm", header)
        self.container = "webm" if doc_type == "webm" else "mkv"
        await self._open_segment(header + size)

    async def _open_segment(self, pos: int) -> None:
        element_id, size, header = await self._element_header(pos)
        if element_id != ids.SEGMENT:
            raise self.error(f"expected a Segment (18 53 80 67), found ID 0x{element_id:X}", pos)
        self._segment_start = pos + header
        file_end = self.reader.size
        end = self._declared_end = None if size == UNKNOWN_SIZE else self._segment_start + size
        if file_end is not None:
            end = file_end if end is None else min(end, file_end)
        self._segment_end = end if end is not None else 1 << 62
        headers = _Headers()
        parsed: set[int] = set()
        pos = self._segment_start
        while pos < self._segment_end:
            if len(await self.reader.read(pos, 2)) < 2:
                break
            element_id, size, header = await self._element_header(pos)
            if element_id == ids.CLUSTER:
                self._first_cluster = pos
                break
            if size == UNKNOWN_SIZE:
                raise self.error(f"element 0x{element_id:X} has an unknown size", pos)
            if element_id in _SECTIONS:
                parsed.add(pos)
                await self._section(element_id, pos + header, size, headers)
            pos += header + size
        # Header elements written after the clusters (or a second SeekHead), via the SeekHead.
        for _ in range(4):
            pending = {
                self._segment_start + rel: element_id
                for element_id, rel in headers.seek.items()
                if element_id in _SECTIONS and self._segment_start + rel not in parsed
            }
            for at, element_id in pending.items():
                parsed.add(at)
                if at >= self._segment_end:
                    continue
                found_id, size, header = await self._element_header(at)
                if found_id != element_id:
                    message = f"SeekHead points at 0x{found_id:X}, not 0x{element_id:X}"
                    self.warnings.append(str(self.error(message, at)))
                    continue
                await self._section(element_id, at + header, size, headers)
        if headers.entries is None:
            raise self.error("no Tracks element before the first Cluster or in the SeekHead")
        self.images = headers.images
        await self._build(headers.info, headers.entries, headers.tags)

    async def _build(self, info: SegmentInfo, entries: list[TrackEntry], tags: Tags) -> None:
        self._scale_ns = info.timestamp_scale
        common = gcd(self._scale_ns, 1_000_000_000)
        timescale = self._timescale = 1_000_000_000 // common
        self._units = self._scale_ns // common
        if info.duration is not None and info.duration > 0:
            self.duration = info.duration * self._scale_ns / 1e9
        self.tags = {name.lower(): value for name, value in tags.segment.items()}
        if info.title and "title" not in self.tags:
            self.tags["title"] = info.title
        numbers = set()
        media = []
        for entry in entries:
            if entry.type not in (VIDEO, AUDIO):
                kind = _TRACK_TYPES.get(entry.type, f"type {entry.type}")
                self.warnings.append(f"track {entry.number} ({kind}, {entry.codec_id}) is "
                                     f"dropped: {ONLY_AUDIO_AND_VIDEO}")  # fmt: skip
                continue
            if entry.number in numbers or entry.number == 0:
                raise self.error(f"TrackNumber {entry.number} is 0 or repeated", entry.offset)
            if entry.encrypted:
                raise self.error(f"track {entry.number} is encrypted", entry.offset)
            if entry.compression not in (None, 0, 3):
                raise self.error(
                    f"track {entry.number} uses ContentCompression algorithm "
                    f"{entry.compression} (only zlib and header stripping are supported)",
                    entry.offset,
                )
            numbers.add(entry.number)
            media.append(entry)
            self._timing[entry.number] = _TrackTiming(
                delay=_rescale(entry.codec_delay, self._scale_ns) * self._units,
                default_duration=entry.default_duration,
                compression=entry.compression,
                compression_settings=entry.compression_settings,
            )
        keyframes = await self._first_keyframes(
            {e.number for e in media if needs_first_keyframe(e)}
        )
        for entry in media:
            try:
                track = build_track(entry, timescale, keyframes.get(entry.number))
                self._timing[entry.number].annexb = is_annexb(entry, keyframes.get(entry.number))
            except FormatError as exc:  # a broken avcC, hvcC, av1C or AudioSpecificConfig
                raise self.error(f"track {entry.number}: {exc.message}", entry.offset) from None
            duration_tag = tags.tracks.get(entry.uid, {}).get("DURATION")
            if duration_tag:
                track.duration = parse_duration_tag(duration_tag, timescale)
            if track.codec == "unknown":
                self.warnings.append(f"track {entry.number}: codec {track.codec_string!r} is "
                                     "not supported")  # fmt: skip
            self.tracks.append(track)

    async def _first_keyframes(self, wanted: set[int]) -> dict[int, bytes]:
        """The first keyframe of each track in ``wanted`` (a short walk)."""
        frames: dict[int, bytes] = {}
        if not wanted:
            return frames
        count = 0
        try:
            async with aclosing(self._raw_packets(warn=False)) as packets:
                async for packet in packets:
                    if packet.track_id in wanted and packet.is_key:
                        frames.setdefault(packet.track_id, packet.data)
                    count += 1
                    if count >= VP9_PROBE_PACKETS or wanted <= frames.keys():
                        break
        except FormatError:
            pass  # damage after the headers is reported when the packets are read
        return frames

    async def _element_header(self, pos: int) -> tuple[int, int, int]:
        peek = await self.reader.read(pos, HEADER_PEEK)
        try:
            return read_header(peek, 0)
        except EbmlError as exc:
            raise self.error(f"bad element header: {exc.message}", pos + exc.offset) from None

    async def _section(self, element_id: int, start: int, size: int, headers: _Headers) -> None:
        """Read one header element whole and add what it says to ``headers``."""
        limit = MAX_ATTACHMENTS if element_id == ids.ATTACHMENTS else MAX_HEADER_ELEMENT
        if size > limit:
            raise self.error(
                f"element 0x{element_id:X} of {size} bytes is implausibly large", start
            )
        data = await self.reader.read_exact(
            start, size, f"element 0x{element_id:X}", self.format_name
        )
        try:
            if element_id == ids.SEEK_HEAD:
                for target, position in parse_seek_head(data, 0, size).items():
                    headers.seek.setdefault(target, position)
            elif element_id == ids.INFO:
                headers.info = parse_info(data, 0, size)
            elif element_id == ids.TRACKS:
                headers.entries = parse_tracks(data, 0, size)
                for entry in headers.entries:
                    entry.offset += start  # from the buffer to the file
            elif element_id == ids.TAGS:
                parse_tags(data, 0, size, headers.tags)
            else:
                images, others = parse_attachments(data, 0, size)
                headers.images += images
                self.warnings += [f"attachment {other} is dropped: only cover pictures are "
                                  "kept" for other in others]  # fmt: skip
        except EbmlError as exc:
            raise self.error(
                f"in element 0x{element_id:X}: {exc.message}", start + exc.offset
            ) from None

    async def packets(self) -> AsyncIterator[Packet]:
        order = PacketTiming(
            {t.id for t in self.tracks if t.kind == "video" and t.codec in REORDERED_CODECS}
        )
        async for packet in self._raw_packets(warn=True):
            for ready in order.push(packet):
                yield self._discarded(ready)
        for ready in order.flush():
            yield self._discarded(ready)

    def _discarded(self, packet: Packet) -> Packet:
        """Shorten a packet by its DiscardPadding once its duration is known."""
        if packet.discard_padding:
            trim = (2 * packet.discard_padding * self._timescale + NANOSECONDS) // (2 * NANOSECONDS)
            packet.duration = max(packet.duration - trim, 0)
        return packet

    async def _raw_packets(self, *, warn: bool) -> AsyncGenerator[Packet, None]:
        """Packets in file order (dts = pts) from the first Cluster to the Segment's end."""
        end = self._segment_end
        pos = end if self._first_cluster is None else self._first_cluster
        while pos < end:
            peek = await self.reader.read(pos, HEADER_PEEK)
            if not peek:
                break
            try:
                element_id, size, header = read_header(peek, 0)
            except EbmlError as exc:
                if len(peek) < HEADER_PEEK:
                    self._truncated(warn, "file ends inside an element header", pos)
                    return
                raise self.error(f"bad element header: {exc.message}", pos) from None
            unknown = size == UNKNOWN_SIZE
            if element_id != ids.CLUSTER:
                if unknown:
                    raise self.error(f"element 0x{element_id:X} has an unknown size", pos)
                pos += header + size
                continue
            walk = _ClusterWalk(pos + header, end if unknown else min(pos + header + size, end))
            async for packet in self._cluster(walk, unknown, warn):
                yield packet
            if walk.stopped:
                return
            pos = walk.pos if unknown else pos + header + size
        file_end = self.reader.size
        if (
            self._declared_end is not None
            and file_end is not None
            and self._declared_end > file_end
        ):
            missing = self._declared_end - file_end
            self._truncated(warn, f"file ends {missing} bytes before its Segment does", file_end)

    async def _cluster(
        self, walk: _ClusterWalk, unknown: bool, warn: bool
    ) -> AsyncIterator[Packet]:
        """The packets of one Cluster; ``walk.pos`` ends after it (RFC 9559 section 5.1.3)."""
        cluster_time: int | None = None
        while walk.pos < walk.end:
            pos = walk.pos
            peek = await self.reader.read(pos, HEADER_PEEK)
            try:
                element_id, size, header = read_header(peek, 0)
            except EbmlError as exc:
                if len(peek) < HEADER_PEEK:
                    self._truncated(warn, "file ends inside a Cluster", pos)
                    walk.stopped = True
                    return
                raise self.error(f"bad element header in a Cluster: {exc.message}", pos) from None
            if unknown and element_id in LEVEL1_IDS:
                return  # the next top-level element ends an unknown-size Cluster
            if size == UNKNOWN_SIZE:
                raise self.error(f"Cluster child 0x{element_id:X} has an unknown size", pos)
            data_start = pos + header
            walk.pos = data_start + size
            if element_id == ids.TIMESTAMP:
                data = await self._payload(data_start, min(size, 8), walk, warn)
                if data is None:
                    return
                cluster_time = decode_uint(data, 0, len(data))
            elif element_id in (ids.SIMPLE_BLOCK, ids.BLOCK_GROUP):
                if cluster_time is None:
                    raise self.error("a block comes before the Cluster's Timestamp", pos)
                if size > MAX_BLOCK:
                    raise self.error(f"block of {size} bytes is implausibly large", pos)
                data = await self._payload(data_start, size, walk, warn)
                if data is None:
                    return
                try:
                    group = _read_block(element_id, data)
                except EbmlError as exc:
                    message = f"bad block: {exc.message}"
                    raise self.error(message, data_start + exc.offset) from None
                packets = self._block_packets(
                    group.block, data, cluster_time, group.duration, group.is_key
                )
                if packets and group.discard > 0:
                    packets[-1].discard_padding = group.discard
                if len(packets) == 1:  # an alpha channel belongs to one frame, never laced
                    packets[0].alpha = group.alpha
                for packet in packets:
                    yield packet

    async def _payload(self, start: int, size: int, walk: _ClusterWalk, warn: bool) -> bytes | None:
        data = await self.reader.read(start, size)
        if len(data) < size:
            self._truncated(warn, f"file ends inside a block of {size} bytes", start)
            walk.stopped = True
            return None
        return data

    def _block_packets(
        self,
        block: Block,
        data: bytes,
        cluster_time: int,
        duration: int | None,
        is_key: bool,
    ) -> list[Packet]:
        timing = self._timing.get(block.track)
        if timing is None:
            return []  # a track we do not read (subtitles) or one not declared
        count = len(block.frames)
        if duration is None and timing.default_duration:
            duration = timing.default_duration * count // self._scale_ns
        lace = (duration or 0) // count * self._units
        pts = (cluster_time + block.timestamp) * self._units - timing.delay
        packets = []
        for index, (start, end) in enumerate(block.frames):
            frame = self._decode_frame(timing, data[start:end])
            if timing.annexb:
                frame = annexb_to_length_prefixed(frame)
            time = pts + index * lace
            packets.append(Packet(block.track, time, time, lace, is_key, frame))
        return packets

    def _decode_frame(self, timing: _TrackTiming, frame: bytes) -> bytes:
        """Undo ContentCompression (RFC 9559 section 5.1.4.1.31.6): header stripping or zlib."""
        if timing.compression == 3:
            return timing.compression_settings + frame
        if timing.compression == 0:
            inflater = zlib.decompressobj()
            try:
                out = inflater.decompress(frame, MAX_INFLATED)
            except zlib.error as exc:
                raise self.error(f"zlib-compressed frame does not inflate: {exc}") from None
            if inflater.unconsumed_tail:
                raise self.error(f"zlib frame inflates past {MAX_INFLATED} bytes")
            return out
        return frame

    def _truncated(self, warn: bool, message: str, offset: int) -> None:
        if warn:
            self.warn_truncated(message, offset)


@dataclass
class _ClusterWalk:
    pos: int
    end: int
    stopped: bool = False


@dataclass
class _Headers:
    """What the Segment's header elements said, gathered as they are met."""

    info: SegmentInfo = field(default_factory=SegmentInfo)
    entries: list[TrackEntry] | None = None
    tags: Tags = field(default_factory=Tags)
    images: list[CoverImage] = field(default_factory=list)
    seek: dict[int, int] = field(default_factory=dict)


def _rescale(nanoseconds: int, scale: int) -> int:
    """Nanoseconds in timestamp units, rounded half away from zero as ffmpeg's
    ``av_rescale_q`` does (an Opus pre-skip of 6.5 ms becomes 7 ms, as ffprobe shows)."""
    return (2 * nanoseconds + scale) // (2 * scale)


@dataclass
class _ReadBlock:
    """A SimpleBlock's or BlockGroup's block and what the group says about it."""

    block: Block
    duration: int | None = None  # BlockDuration, in timestamp units
    is_key: bool = True
    discard: int = 0  # DiscardPadding, ns
    alpha: bytes | None = None  # BlockAdditional 1 (WebM alpha)


def _read_block(element_id: int, data: bytes) -> _ReadBlock:
    """The block of a SimpleBlock or BlockGroup, its BlockDuration, key flag (RFC 9559
    section 10.2: a Block with a ReferenceBlock is not a keyframe), DiscardPadding (ns)
    and alpha channel."""
    if element_id == ids.SIMPLE_BLOCK:
        block = parse_block(data, 0, len(data))
        return _ReadBlock(block, is_key=bool(block.flags & FLAG_KEY))
    found: Block | None = None
    group = _ReadBlock(Block(0, 0, 0, []))
    for child_id, start, end in children(data, 0, len(data)):
        if child_id == ids.BLOCK:
            found = parse_block(data, start, end)
        elif child_id == ids.BLOCK_DURATION:
            group.duration = decode_uint(data, start, end)
        elif child_id == ids.REFERENCE_BLOCK:
            group.is_key = False
        elif child_id == ids.DISCARD_PADDING and end - start <= 8:
            group.discard = int.from_bytes(data[start:end], "big", signed=True)
        elif child_id == ids.BLOCK_ADDITIONS:
            group.alpha = read_alpha(data, start, end)
    if found is None:
        raise EbmlError("BlockGroup without a Block", 0)
    group.block = found
    return group


_SECTIONS = frozenset({ids.SEEK_HEAD, ids.INFO, ids.TRACKS, ids.TAGS, ids.ATTACHMENTS})

ONLY_AUDIO_AND_VIDEO = "only audio and video tracks are converted"
#: TrackType values other than video and audio (RFC 9559 section 5.1.4.1.3).
_TRACK_TYPES = {3: "complex", 16: "logo", 17: "subtitle", 18: "buttons", 32: "control",
                33: "metadata"}  # fmt: skip
