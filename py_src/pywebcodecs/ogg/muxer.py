"""Writing Ogg (RFC 3533) with Opus (RFC 7845), Vorbis (Vorbis I specification, section
A) or FLAC (the Ogg FLAC mapping): audio every player opens, without video.

Layout: each stream's identification header alone on a page with BOS (all BOS pages
first, section 4 of RFC 3533), then each stream's other headers on their own pages, then
audio pages of about 4 KiB (and at most a second) written as the packets arrive, the last
one flagged EOS. Only that page's packets are held in memory.

A page's granule position is the sample count at the end of its last complete packet:
48 kHz samples including the pre-skip for Opus, the sample rate for Vorbis and FLAC. The
count starts from the first packet's timestamp and grows by each packet's sample count as
its own bitstream gives it (the TOC byte, Vorbis block sizes, the FLAC frame header), so
a track counted in milliseconds (a Matroska source) does not drift. A packet whose end is
padding (``discard_padding``: an encoder's last frame, or an input that ended early) ends
the stream that much earlier: the last granule says where, which is how Ogg trims the end
(RFC 7845 section 4.5; Vorbis I section A.2).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import UnsupportedError
from ..muxer import Muxer
from ..sink import Sink
from ..track import NANOSECONDS, OPUS_RATE, AudioTrack, Packet, Track
from .codecs import OggCodec, codec_for
from .page_writer import PageWriter
from .stream_headers import header_packets

#: An audio page closes once it holds this many bytes...
PAGE_BYTES = 4096
#: ... or this many seconds.
PAGE_SECONDS = 1


@dataclass
class _Stream:
    track: AudioTrack
    headers: list[bytes]
    codec: OggCodec
    pages: PageWriter
    rate: int  # granule units per second
    granule: int | None = None  # at the end of the last packet
    pending: list[tuple[bytes, int]] = field(default_factory=list)
    pending_bytes: int = 0
    page_start: int = 0  # granule where the pending page starts


class OggMuxer(Muxer):
    """Ogg with Opus, Vorbis or FLAC streams (audio only)."""

    format_name = "ogg"
    mime_type = "audio/ogg"
    codecs = frozenset({"opus", "vorbis", "flac"})

    def __init__(self, sink: Sink) -> None:
        super().__init__(sink)
        self._streams: list[_Stream] = []
        self._started = False

    def add_track(self, track: Track) -> int:
        self.check_codec(track.codec)
        if self._started:
            raise UnsupportedError("all tracks must be added before the first packet")
        assert isinstance(track, AudioTrack)
        headers = header_packets(track, "the Ogg output", self.tags)
        codec = codec_for(headers[0])
        assert codec is not None, f"no Ogg codec for {track.codec}"
        for header in headers[1:]:
            codec.add_header(header)
        rate = OPUS_RATE if track.codec == "opus" else track.sample_rate
        serial = 0x70776300 + len(self._streams)  # any number unique in the file
        self._streams.append(_Stream(track, headers, codec, PageWriter(serial), rate))
        return len(self._streams)

    async def write_packet(self, track_id: int, packet: Packet) -> None:
        if not 1 <= track_id <= len(self._streams):
            raise ValueError(f"unknown track id {track_id}")
        if not self._started:
            await self._start()
        stream = self._streams[track_id - 1]
        if stream.granule is None:
            start = (2 * packet.pts * stream.rate + stream.track.timescale) // (
                2 * stream.track.timescale
            )
            stream.granule = start + stream.track.pre_skip
            stream.page_start = stream.granule
        full = stream.pending_bytes >= PAGE_BYTES
        if full or stream.granule - stream.page_start >= PAGE_SECONDS * stream.rate:
            await self._flush(stream, last=False)
        stream.granule += stream.codec.duration(packet.data)
        # Rounded: the nanoseconds were floored from a whole number of samples.
        padding = (2 * packet.discard_padding * stream.rate + NANOSECONDS) // (2 * NANOSECONDS)
        stream.pending.append((packet.data, max(stream.granule - padding, 0)))
        stream.pending_bytes += len(packet.data)

    async def finish(self) -> None:
        if not self._started:
            await self._start()
        for stream in self._streams:
            await self._flush(stream, last=True)

    async def _start(self) -> None:
        """Every BOS page, then every stream's other header pages (granule 0)."""
        self._started = True
        for stream in self._streams:
            await self.sink.write(stream.pages.pages([(stream.headers[0], 0)], first=True))
        for stream in self._streams:
            await self.sink.write(stream.pages.pages([(h, 0) for h in stream.headers[1:]]))

    async def _flush(self, stream: _Stream, *, last: bool) -> None:
        """The pending packets as pages (the final ones flagged EOS; a stream without a
        packet ends with an empty EOS page)."""
        if stream.pending or last:
            await self.sink.write(stream.pages.pages(stream.pending, last=last))
        stream.pending = []
        stream.pending_bytes = 0
        stream.page_start = stream.granule or 0


__all__ = ["OggMuxer"]
