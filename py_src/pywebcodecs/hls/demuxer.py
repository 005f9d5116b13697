"""The HLS reader (RFC 8216): a playlist and the segments it lists, demuxed as one stream.

The input's source must be a :class:`~pywebcodecs.source.RelativeSource` so that the
playlists and segments it names can be opened next to it. A master playlist's variant
with the highest BANDWIDTH is read (all are listed in :attr:`HlsDemuxer.variants`); its
segments, MPEG-TS or fMP4 (``EXT-X-MAP`` init segment first), are joined into one source
(:mod:`.splice`) that :class:`~pywebcodecs.mpegts.demuxer.MpegTsDemuxer` or
:class:`~pywebcodecs.isobmff.demuxer.IsobmffDemuxer` reads end to end, so timestamps continue
across segments as the segments state them. (ffmpeg's HLS reader times the ADTS frames
inside a PES after the first slightly differently from its MPEG-TS reader, by up to two
90 kHz ticks at 44.1 kHz; this reader times them as the MPEG-TS reader does.) Alternate
renditions (``EXT-X-MEDIA``) and
encrypted segments are not read.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import cast

from ..demuxer import Demuxer
from ..errors import FormatError
from ..isobmff.demuxer import IsobmffDemuxer
from ..mpegts.demuxer import MpegTsDemuxer
from ..mpegts.transport import packet_layout
from ..reader import Reader
from ..source import RelativeSource, Source
from ..track import Packet
from .playlist import (
    PlaylistError,
    Segment,
    Variant,
    is_master,
    parse_master,
    parse_media,
)
from .splice import Part, SpliceSource

MAX_PLAYLIST_BYTES = 16 << 20


class HlsDemuxer(Demuxer):
    format_name = "hls"
    sniff_size = 16

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        return head.lstrip(b"\xef\xbb\xbf").lstrip().startswith(b"#EXTM3U")

    def __init__(self, reader: Reader) -> None:
        super().__init__(reader)
        #: The master playlist's variants (empty for a media playlist), best first.
        self.variants: list[Variant] = []
        #: Whether the media playlist is complete (EXT-X-ENDLIST); False for a live one.
        self.ended = True
        self._inner: Demuxer | None = None

    async def open(self) -> None:
        source = self._relative(self.reader.source, "the playlist's source")
        text = await self._playlist_text(source)
        if is_master(text):
            try:
                variants = parse_master(text)
            except PlaylistError as exc:
                raise self.error(f"master playlist {exc}") from None
            self.variants = sorted(variants, key=lambda v: -v.bandwidth)
            source = self._relative(self._open(source, self.variants[0].uri), "a variant")
            text = await self._playlist_text(source)
        try:
            playlist = parse_media(text)
        except PlaylistError as exc:
            raise self.error(f"media playlist {source.name}: {exc}") from None
        if not playlist.segments:
            raise self.error(f"media playlist {source.name} lists no segment")
        self.ended = playlist.ended
        if playlist.discontinuities:
            self.warnings.append(f"{playlist.discontinuities} EXT-X-DISCONTINUITY tags: "
                                 "timestamps are kept as the segments state them")  # fmt: skip
        segments = ([playlist.init] if playlist.init else []) + playlist.segments
        joined = SpliceSource([self._part(source, s) for s in segments],
                              f"{source.name} segments")  # fmt: skip
        inner_reader = await Reader.open(joined, window=self.reader.window)
        head = await inner_reader.read(0, 4096)
        if packet_layout(head) is not None:
            inner: Demuxer = MpegTsDemuxer(inner_reader)
        elif IsobmffDemuxer.sniff(head):
            inner = IsobmffDemuxer(inner_reader)
        else:
            raise self.error(f"segment {segments[0].uri!r} is neither MPEG-TS nor fMP4; "
                             f"it starts with {head[:8].hex(' ')}")  # fmt: skip
        await inner.open()
        self._inner = inner
        self.tracks = inner.tracks
        self.duration = sum(segment.duration for segment in playlist.segments)
        self.container = f"hls ({inner.format_name})"

    async def packets(self) -> AsyncIterator[Packet]:
        if self._inner is None:
            raise self.error("packets() before open()")
        async for packet in self._inner.packets():
            yield packet
        self.warnings += self._inner.warnings

    def _relative(self, source: Source, what: str) -> RelativeSource:
        if not callable(getattr(source, "open_relative", None)):
            raise self.error(f"{what} cannot open the files a playlist names "
                             "(it is not a RelativeSource)")  # fmt: skip
        return cast(RelativeSource, source)

    def _open(self, base: RelativeSource, reference: str) -> Source:
        try:
            return base.open_relative(reference)
        except OSError as exc:
            raise self.error(f"cannot open {reference!r} named by {base.name}: {exc}") from None

    def _part(self, base: RelativeSource, segment: Segment) -> Part:
        byte_range = segment.byte_range
        return Part(lambda: self._open(base, segment.uri),
                    byte_range.offset if byte_range else 0,
                    byte_range.length if byte_range else None)  # fmt: skip

    async def _playlist_text(self, source: Source) -> str:
        data = await source.read(0, MAX_PLAYLIST_BYTES + 1)
        if len(data) > MAX_PLAYLIST_BYTES:
            raise self.error(f"playlist {source.name} is over {MAX_PLAYLIST_BYTES} bytes")
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            message = f"playlist is not UTF-8 text ({exc.reason})"
            raise FormatError(message, source=source.name, format="hls", offset=exc.start) from None
