"""The Ogg reader (RFC 3533): pages with checked CRCs, packets reassembled across pages,
several logical streams interleaved, Opus, Vorbis and FLAC inside.

:meth:`OggDemuxer.open` reads pages only until every stream has its header packets, plus the
last 64 KiB for the final granule positions (the duration). Timestamps follow ffmpeg's Ogg
reader so that they match ``ffprobe -show_packets``: packets add up their durations; the
first packet after a page that ends on a packet boundary takes that page's granule position;
and for Opus and Vorbis the first audio page is dated back from its granule position by the
durations of its packets, which makes Opus start at minus its pre-skip. The last page's
granule position ends the stream: the last packet is shortened to it, and what it cuts
(the encoder's padding) becomes the packet's ``discard_padding``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from ..demuxer import Demuxer
from ..errors import FormatError
from ..reader import Reader
from ..track import NANOSECONDS, AudioTrack, Packet
from .codecs import OggCodec, codec_for, theora_track
from .page import (
    CAPTURE,
    FLAG_CONTINUED,
    FLAG_FIRST,
    FLAG_LAST,
    HEADER_SIZE,
    NO_GRANULE,
    PageHeader,
    page_crc,
    parse_page_header,
    split_packets,
)

_TAIL = 64 << 10  # the end of the file searched for the last granule positions
_SCAN = 64 << 10  # bytes searched at a time for the next page after damage
_MAX_HEADER_PAGES = 4096  # pages read in open() looking for header packets


@dataclass
class _Stream:
    """Reassembly and timing state of one logical stream during one pass over the pages."""

    serial: int
    codec: OggCodec | None  # None for codecs this reader does not know (skipped)
    track_id: int  # the track its packets belong to (a chained stream continues one)
    skip: int  # packets still to pass over: headers the codec already holds
    partial: bytearray | None = None  # the start of a packet continued on the next page
    next_pts: int | None = None  # None until the first audio packet
    granule_pts: int | None = None  # set by a page that ends a packet: the next packet's pts
    #: Added to every timestamp: a chained stream (one file after another, as internet radio
    #: and ``cat a.ogg b.ogg`` make) starts again at granule 0; its packets are dated on
    #: from where the previous link ended, so the track's time runs on instead of back.
    base: int = 0
    chained: bool = False


class OggDemuxer(Demuxer):
    format_name = "ogg"
    sniff_size = HEADER_SIZE
    #: A packet larger than this is refused rather than buffered.
    max_packet = 64 << 20

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        return head[:4] == CAPTURE and head[4:5] in (b"", b"\0")

    def __init__(self, reader: Reader) -> None:
        super().__init__(reader)
        self._codecs: dict[int, OggCodec] = {}

    async def open(self) -> None:
        first = await self.reader.read(0, HEADER_SIZE)
        if len(first) < HEADER_SIZE or not self.sniff(first):
            raise self.error(f"expected an Ogg page ('OggS', version 0), found {first.hex(' ')}", 0)
        streams: dict[int, _Stream] = {}
        pages = 0
        async for header, packets in self._packets_by_page(streams):
            self._audio(streams[header.serial], header, packets)
            pages += 1
            if not header.flags & FLAG_FIRST and all(map(_has_headers, streams.values())):
                break
            if pages >= _MAX_HEADER_PAGES:
                raise self.error(f"no audio after {pages} pages of headers", header.offset)
        for stream in streams.values():
            codec = stream.codec
            if codec is None:
                continue
            if not _has_headers(stream):
                raise self.error(f"stream {stream.serial} ends inside its header packets")
            self.tracks.append(codec.track(stream.serial))
            self.tags.update(codec.comments.tags)
            self.images.extend(codec.comments.images)
        if not self.tracks:
            raise self.error("no Opus, Vorbis or FLAC stream in the file", 0)
        self._codecs = {s.serial: s.codec for s in streams.values() if s.codec is not None}
        await self._read_durations(self._codecs)

    async def _read_durations(self, codecs: dict[int, OggCodec]) -> None:
        """Each track's duration from the last granule position in the file's tail."""
        size = self.reader.size
        if size is None:
            return
        start = max(0, size - _TAIL)
        tail = await self.reader.read(start, size - start)
        last: dict[int, int] = {}
        at = tail.find(CAPTURE)
        while at >= 0:
            parsed = parse_page_header(tail[at : at + HEADER_SIZE + 255], start + at)
            if isinstance(parsed, PageHeader) and parsed.granule != NO_GRANULE:
                last[parsed.serial] = parsed.granule
            at = tail.find(CAPTURE, at + 1)
        if set(last) - {track.id for track in self.tracks}:
            return  # chained streams: the last link's granule is not the track's end
        for track in self.tracks:
            if track.duration is None and track.id in last and track.id in codecs:
                track.duration = max(0, codecs[track.id].granule_to_pts(last[track.id]))
        ends = [t.duration / t.timescale for t in self.tracks if t.duration is not None]
        self.duration = max(ends, default=None)

    async def packets(self) -> AsyncIterator[Packet]:
        streams: dict[int, _Stream] = {}
        for known in self._codecs.values():
            known.reset()
        ends: dict[int, int] = {}  # track id → where its last packet ended
        async for header, packets in self._packets_by_page(streams, codecs=self._codecs):
            stream = streams[header.serial]
            codec = stream.codec
            audio = self._audio(stream, header, packets)
            if codec is None or not audio:
                continue
            if stream.chained and stream.next_pts is None:
                self._check_link(stream, header)
            if stream.next_pts is None:
                stream.next_pts = self._first_pts(codec, header, audio)
                if stream.chained:
                    stream.base = ends.get(stream.track_id, 0) - stream.next_pts
            end_pts = codec.granule_to_pts(header.granule)
            for index, data in enumerate(audio):
                pts = stream.next_pts if stream.granule_pts is None else stream.granule_pts
                stream.granule_pts = None
                duration = whole = codec.duration(data)
                if index == len(audio) - 1 and header.flags & FLAG_LAST:
                    duration = max(0, end_pts - pts)
                stream.next_pts = pts + duration
                ends[stream.track_id] = stream.base + pts + duration
                if data:
                    at = stream.base + pts
                    packet = Packet(stream.track_id, at, at, duration, True, data)
                    if whole > duration:
                        rate = self.track(stream.track_id).timescale
                        cut = (whole - duration) * NANOSECONDS
                        packet.discard_padding = (2 * cut + rate) // (2 * rate)
                    yield packet
            if header.granule != NO_GRANULE and header.lacing[-1:] != b"\xff":
                stream.granule_pts = end_pts

    def _check_link(self, stream: _Stream, header: PageHeader) -> None:
        """A chained stream continues its track only with what the track's decoder was set
        up for: the same rate, and for Vorbis and FLAC the same channels (an Opus decoder
        takes mono and stereo packets alike), for Vorbis the same codebooks (setup header).
        Links that change them would decode wrongly as one track: refused."""
        assert stream.codec is not None
        first, link = self._codecs[stream.track_id], stream.codec
        old, new = self.track(stream.track_id), link.track(stream.serial)
        assert isinstance(old, AudioTrack) and isinstance(new, AudioTrack)
        changed = []
        if new.sample_rate != old.sample_rate:
            changed.append(f"sample rate {old.sample_rate} -> {new.sample_rate}")
        if new.channels != old.channels and link.codec != "opus":
            changed.append(f"channels {old.channels} -> {new.channels}")
        if link.codec == "vorbis" and link.headers[2:] != first.headers[2:]:
            changed.append("Vorbis codebooks (setup header)")
        if changed:
            raise self.error(f"stream {stream.serial}, chained after track {stream.track_id}, "
                             f"changes its {', '.join(changed)}: one track cannot hold both; "
                             "split the file at this link", header.offset)  # fmt: skip

    def _audio(self, stream: _Stream, header: PageHeader, packets: list[bytes]) -> list[bytes]:
        """The audio packets among ``packets``; header packets go to the codec."""
        audio = []
        codec = stream.codec
        for packet in packets:
            if stream.skip:
                stream.skip -= 1
            elif codec is not None and len(codec.headers) < codec.header_count:
                try:
                    codec.add_header(packet)
                except FormatError as error:
                    raise self.error(error.message, header.offset) from None
            else:
                audio.append(packet)
        return audio

    def _first_pts(self, codec: OggCodec, header: PageHeader, audio: list[bytes]) -> int:
        """Where the first audio packet starts (see the module docstring)."""
        if not codec.dates_first_page_back or header.flags & FLAG_LAST:
            return 0
        if header.granule == NO_GRANULE:
            return 0
        codec.reset()
        total = sum(codec.duration(packet) for packet in audio)
        codec.reset()
        return codec.granule_to_pts(header.granule) - total

    async def _packets_by_page(
        self, streams: dict[int, _Stream], codecs: dict[int, OggCodec] | None = None
    ) -> AsyncIterator[tuple[PageHeader, list[bytes]]]:
        """Each page and the packets that end on it, reassembled across pages.

        ``codecs``: the codecs found by :meth:`open` (the packet pass); without them a
        stream's codec is recognised from its first packet."""
        async for header, body in self._pages(warn=codecs is not None):
            stream = streams.get(header.serial)
            if header.flags & FLAG_FIRST:
                # A serial seen before starts again: a chained link that reuses it.
                known = codecs if stream is None or codecs is None else {}
                stream = streams[header.serial] = self._new_stream(header, body, known)
            elif stream is None:
                continue  # a stream whose first page is lost
            packets = self._reassemble(stream, header, body)
            yield header, packets

    def _new_stream(
        self, header: PageHeader, body: bytes, codecs: dict[int, OggCodec] | None
    ) -> _Stream:
        """The stream a first (BOS) page opens. In the packet pass (``codecs`` given) a stream
        that open() did not see is a chained one (RFC 3533 section 4): like ffmpeg, it
        continues the file's only track when it holds the same codec."""
        known = None if codecs is None else codecs.get(header.serial)
        if known is not None:
            return _Stream(header.serial, known, header.serial, len(known.headers))
        first = split_packets(header, body)[0][:1]
        try:
            codec = codec_for(first[0]) if first else None
        except FormatError as error:
            raise self.error(error.message, header.offset) from None
        track_id = header.serial
        chained = False
        if codecs is not None:
            same = [t.id for t in self.tracks if codec is not None and t.codec == codec.codec]
            if len(self.tracks) != 1 or not same:
                codec = None
            else:
                track_id = same[0]
                chained = True
        listed = theora_track(first[0], header.serial) if first and codec is None else None
        if listed is not None:
            if codecs is None:  # open(): listed once; the packet pass skips its pages
                self.tracks.append(listed)
            return _Stream(header.serial, None, header.serial, 1)
        if codec is None:
            note = str(self.error(
                f"stream {header.serial}: a codec this reader does not know, or a chained "
                "stream that does not continue the only track; skipped",
                header.offset,
            ))  # fmt: skip
            if note not in self.warnings:  # the packet pass meets it again
                self.warnings.append(note)
        return _Stream(header.serial, codec, track_id, 1, chained=chained)

    def _reassemble(self, stream: _Stream, header: PageHeader, body: bytes) -> list[bytes]:
        """The packets completed on this page (RFC 3533 section 5): a continued page's first
        piece ends the packet left open; a last lacing value of 255 leaves one open."""
        pieces: list[bytes | bytearray | None] = list(split_packets(header, body)[0])
        open_end = header.lacing[-1:] == b"\xff"
        if header.flags & FLAG_CONTINUED and pieces:
            if stream.partial is not None:
                stream.partial += pieces[0] or b""
            pieces[0] = stream.partial  # None: the packet's start was lost
        stream.partial = None
        if open_end:
            last = pieces.pop()
            stream.partial = None if last is None else bytearray(last)
            if stream.partial is not None and len(stream.partial) > self.max_packet:
                raise self.error(
                    f"a packet of stream {stream.serial} grows past {self.max_packet} bytes",
                    header.offset,
                )
        return [bytes(piece) for piece in pieces if piece is not None]

    async def _pages(self, *, warn: bool) -> AsyncIterator[tuple[PageHeader, bytes]]:
        """Every page whose CRC is right, in file order; after damage, the next 'OggS'."""
        pos = 0
        while True:
            head = await self.reader.read(pos, HEADER_SIZE + 255)
            if not head:
                return
            parsed = parse_page_header(head, pos)
            if isinstance(parsed, PageHeader):
                body = await self.reader.read(pos + parsed.header_size, parsed.body_size)
                if len(body) < parsed.body_size:
                    parsed = "the page is cut off by the end of the file"
                elif page_crc(head[: parsed.header_size] + body) == parsed.crc:
                    yield parsed, body
                    pos += parsed.size
                    continue
                else:
                    parsed = "page CRC does not match"
            found = await self._find_capture(pos + 1)
            if found is None and "cut off" in parsed:
                if warn:
                    self.warn_truncated(parsed, pos)
                return
            if pos == 0:
                raise self.error(parsed, pos)
            if warn:
                self.warnings.append(str(self.error(f"{parsed}; skipped to the next page", pos)))
            if found is None:
                return
            pos = found

    async def _find_capture(self, pos: int) -> int | None:
        """The offset of the next 'OggS' at or after ``pos``, or None."""
        while True:
            window = await self.reader.read(pos, _SCAN)
            at = window.find(CAPTURE)
            if at >= 0:
                return pos + at
            if len(window) < _SCAN:
                return None
            pos += len(window) - 3


def _has_headers(stream: _Stream) -> bool:
    return stream.codec is None or len(stream.codec.headers) >= stream.codec.header_count
