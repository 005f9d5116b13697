"""What MP3 and ADTS files share: no container at all, only self-delimiting frames, each
with a sync word and a header that gives its length (ISO/IEC 11172-3 section 2.4.1.3,
ISO/IEC 14496-3 section 1.A.2.2). An ID3v2 tag may come first and an ID3v1 tag last.

A frame is believed only when the three frames after it are also valid and have the same
sample rate and layer/profile (or the data ends before), so junk that happens to contain
a sync word is skipped the way ffmpeg's parsers skip it: byte by byte up to the next
believable frame. Packets are the frames in file order, timed by counting samples.

A frame cut short by a bad join (an edit or a broken download that glued the next frame
into the middle of it) is told by its length: it runs past a believable frame's sync word
and the next header check fails. It is dropped with a warning, as peers skip it, and
reading goes on at the frame that starts inside it; delivering it would make the decoder
fail on the packet.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import ClassVar

from ..demuxer import Demuxer
from ..id3 import HEADER_SIZE, id3v2_size, parse_id3v1, parse_id3v2
from ..mpegts.audio_frames import AudioFrame
from ..reader import Reader
from ..track import NANOSECONDS, Packet

FrameParser = Callable[[bytes, int], AudioFrame | None]
_HEADER_READ = 16  # enough for any MPEG audio or ADTS header
_SCAN_BLOCK = 64 << 10
_MAX_LEAD = 1 << 20  # junk allowed before the first frame
_CHAIN = 3  # frames that must follow a sync word before it is believed
_MAX_TAG = 64 << 20  # an ID3v2 tag with a big cover is a few MiB; 256 MiB is the format's cap
_ID3V1 = 128


class FramedAudioDemuxer(Demuxer):
    """A stream of sync-word frames; subclasses say how to parse one header."""

    #: Units per second of packet timestamps (ffmpeg's time base for the format).
    timescale: ClassVar[int]
    #: What one frame is called in messages.
    frame_name: ClassVar[str]
    #: Whether any file that starts with an ID3v2 tag is taken to be this format.
    claims_bare_id3: ClassVar[bool] = False
    #: Whether junk between frames is delivered as part of the next frame's packet.
    junk_joins_frame: ClassVar[bool] = False
    #: Whether detection looks past junk at the start for a chain of frames.
    sniffs_past_junk: ClassVar[bool] = False

    def __init__(self, reader: Reader) -> None:
        super().__init__(reader)
        self._data_start = 0
        self._data_end = 0
        self.first_frame: AudioFrame | None = None
        #: Added to every timestamp: minus the priming a gapless decoder drops.
        self.shift = 0
        #: Where the audio ends, when a tag says so (a gapless decoder drops what follows).
        self.audio_end: int | None = None

    @staticmethod
    def parse_frame(data: bytes, pos: int) -> AudioFrame | None:
        """The frame whose header is at ``data[pos:]``, positions in ``data``; or None."""
        raise NotImplementedError

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        """Two chained frames at the start, after an ID3v2 tag. A file that starts with an
        ID3v2 tag is claimed by the class with ``claims_bare_id3`` (tried last) whatever
        follows, so that a broken one gets a specific error. With ``sniffs_past_junk``, a
        file that starts with something else is taken when, further on in ``head`` (the
        first 128 KiB, ``formats.JUNK_SNIFF_SIZE``, when no format takes the first 4),
        at least ``_CHAIN`` frame headers whose lengths lead from one to the next run over
        at least half of ``head``, as ffmpeg's MP3 probe asks of each read: players skip
        junk before the first frame (a broken download, a tool's own header), and other
        data does not hold such a chain, even data made of header bytes. So junk of up
        to 64 KiB is skipped (2 KiB in the first 4 KiB)."""
        pos = id3v2_size(head) or 0
        if pos and cls.claims_bare_id3:
            return True
        if pos + _HEADER_READ > len(head):
            return False
        frame = cls.parse_frame(head, pos)
        if frame is not None:
            if frame.end + _HEADER_READ > len(head):  # positions in ``head``, not relative
                return True
            if _same(frame, cls.parse_frame(head, frame.end)):
                return True
        if not cls.sniffs_past_junk:
            return False
        at = head.find(b"\xff", pos + 1)
        while at >= 0:
            if cls._chain_in(head, at):
                return True
            at = head.find(b"\xff", at + 1)
        return False

    @classmethod
    def _chain_in(cls, head: bytes, pos: int) -> bool:
        """Whether frames of one sample rate and layer follow on from ``pos`` as
        :meth:`sniff` asks (each header inside ``head``, the last body may run past it)."""
        frames, end = 0, pos
        frame = cls.parse_frame(head, pos)
        while frame is not None:
            frames, end = frames + 1, frame.end
            following = cls.parse_frame(head, end)
            frame = following if _same(frame, following) else None
        return frames >= _CHAIN and (end - pos) * 2 >= len(head)

    async def open_frames(self) -> AudioFrame:
        """Read the tags, find the first frame; returns it (data bounds are set)."""
        size = self.reader.size
        self._data_end = size if size is not None else 1 << 63
        head = await self.reader.read(0, HEADER_SIZE)
        tag_size = id3v2_size(head)
        if tag_size is not None:
            if tag_size > _MAX_TAG:
                self.warnings.append(str(self.error(f"ID3v2 tag of {tag_size} bytes skipped", 0)))
            else:
                tag = await self.reader.read_exact(0, tag_size, "the ID3v2 tag", self.format_name)
                found = parse_id3v2(tag)
                self.tags.update(found.tags)
                self.images.extend(found.images)
            self._data_start = tag_size
        if size is not None and size - self._data_start >= _ID3V1:
            v1 = parse_id3v1(await self.reader.read(size - _ID3V1, _ID3V1))
            if v1:
                self._data_end -= _ID3V1
                for key, value in v1.items():
                    self.tags.setdefault(key, value)
        found_at = await self._sync(self._data_start, _MAX_LEAD)
        if found_at is None:
            raise self.error(
                f"no {self.frame_name} found in the first {_MAX_LEAD} bytes of audio data",
                self._data_start,
            )
        if found_at[0] > self._data_start:
            skipped = found_at[0] - self._data_start
            message = f"{skipped} bytes before the first {self.frame_name} are not audio; skipped"
            self.warnings.append(str(self.error(message, self._data_start)))
        self._data_start, self.first_frame = found_at
        return self.first_frame

    async def _frame_at(self, pos: int) -> AudioFrame | None:
        if pos >= self._data_end:
            return None
        return self.parse_frame(await self.reader.read(pos, _HEADER_READ), 0)

    async def _believable(self, pos: int, frame: AudioFrame) -> bool:
        """Whether the next ``_CHAIN`` frames follow on with the same sample rate and layer
        (or the data ends first)."""
        for _ in range(_CHAIN):
            pos += frame.end
            if pos >= self._data_end:
                return True
            following = await self._frame_at(pos)
            if following is None or not _same(frame, following):
                return False
            frame = following
        return True

    async def _sync(self, pos: int, limit: int = 1 << 63) -> tuple[int, AudioFrame] | None:
        """The first believable frame at or after ``pos``, looking at most ``limit`` bytes
        ahead. Sync words are tested inside each scanned block, without an await."""
        end = min(self._data_end, pos + limit)
        while pos < end:
            block = await self.reader.read(pos, min(_SCAN_BLOCK, end - pos))
            if not block:
                return None
            at = block.find(b"\xff")
            while at >= 0:
                if at + _HEADER_READ > len(block) or self.parse_frame(block, at) is not None:
                    frame = await self._frame_at(pos + at)
                    if frame is not None and await self._believable(pos + at, frame):
                        return pos + at, frame
                at = block.find(b"\xff", at + 1)
            pos += len(block)
        return None

    def skip_first_frame(self) -> None:
        """Start the packets after the first frame (an MP3 Xing/Info/VBRI header frame)."""
        assert self.first_frame is not None
        self._data_start += self.first_frame.end

    async def packets(self) -> AsyncIterator[Packet]:
        track, reference = self.tracks[0], self.first_frame
        assert reference is not None, "open() first"
        pos, samples = self._data_start, 0
        following: AudioFrame | None = None  # the header at ``pos`` when already read
        while pos < self._data_end:
            junk_start = pos
            frame = following or await self._frame_at(pos)
            if not _same(reference, frame):
                found = await self._sync(pos + 1)
                if found is None:
                    return
                pos, frame = found
            assert frame is not None
            following = await self._frame_at(pos + frame.end)
            if pos + frame.end < self._data_end and not _same(frame, following):
                inside = await self._sync(pos + 1, frame.end - 1)
                if inside is not None:
                    message = (f"{self.frame_name} of {frame.end} bytes is cut off by the one "
                               f"at byte {inside[0]} (a bad join); dropped it")  # fmt: skip
                    self.warnings.append(str(self.error(message, pos)))
                    pos, following = inside
                    continue
            # Junk before a frame is delivered with it, as ffmpeg's MPEG audio parser does.
            start = junk_start if self.junk_joins_frame else pos + frame.start
            end = min(pos + frame.end, self._data_end)
            data = await self.reader.read(start, end - start)
            if start + len(data) < pos + frame.end:
                # ffmpeg delivers this partial frame too; a decoder cannot use it.
                self.warn_truncated(
                    f"the last {self.frame_name} is cut off: {frame.end} bytes declared, "
                    f"{pos + frame.end - start - len(data)} missing",
                    pos,
                )
                return
            step = self.timescale // frame.sample_rate
            pts, duration = samples * step + self.shift, frame.samples * step
            yield self._ended(Packet(track.id, pts, pts, duration, True, data))
            samples += frame.samples
            pos += frame.end

    def _ended(self, packet: Packet) -> Packet:
        """``packet`` shortened to :attr:`audio_end`, the rest noted as discarded."""
        end = self.audio_end
        if end is None or packet.pts + packet.duration <= end:
            return packet
        kept = max(0, end - packet.pts)
        packet.discard_padding = (packet.duration - kept) * NANOSECONDS // self.timescale
        packet.duration = kept
        return packet


def _same(frame: AudioFrame, other: AudioFrame | None) -> bool:
    return other is not None and (other.sample_rate, other.profile) == (
        frame.sample_rate,
        frame.profile,
    )
