"""The native FLAC reader (RFC 9639).

``fLaC``, then metadata blocks (section 8) up to the one flagged last, then frames. Frames
have no length field: a frame ends where the next one starts, and the next one is the
first sync code whose header passes its CRC-8 and carries the next frame (or sample)
number. That is where ffmpeg's FLAC parser cuts packets too, so packets match ffprobe's.
The search walks the file in chunks of at most :data:`SCAN_CHUNK` bytes; a frame cannot be
longer than :data:`MAX_FRAME_SIZE`, which bounds it.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

from ..crc import flac_crc16
from ..demuxer import Demuxer
from ..errors import FormatError
from ..id3 import id3v2_size, parse_id3v2
from ..reader import Reader
from ..track import AudioTrack, Packet
from ..vorbis_comment import parse_vorbis_comment
from .frame_header import MAX_HEADER_SIZE, FrameHeader, parse_frame_header
from .metadata import (
    PICTURE,
    STREAMINFO,
    STREAMINFO_SIZE,
    VORBIS_COMMENT,
    StreamInfo,
    parse_picture,
    parse_streaminfo,
)

SCAN_CHUNK = 64 << 10
#: 65535 samples x 8 channels x 32 bits, verbatim, plus headers: no valid frame is longer.
MAX_FRAME_SIZE = (65535 * 8 * 4) + (1 << 16)
_MAX_BLOCKS = 10_000
_SYNC = re.compile(rb"\xff[\xf8\xf9]")


class FlacDemuxer(Demuxer):
    format_name = "flac"
    sniff_size = 4096

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        start = id3v2_size(head) or 0
        return head[start : start + 4] == b"fLaC"

    def __init__(self, reader: Reader) -> None:
        super().__init__(reader)
        self._info: StreamInfo | None = None
        self._frames_start = 0

    async def open(self) -> None:
        start = await self._read_id3()
        magic = await self.reader.read_exact(start, 4, "the fLaC signature", "flac")
        if magic != b"fLaC":
            raise self.error(f"expected 'fLaC', found {magic.hex(' ')}", start)
        streaminfo = await self._read_blocks(start + 4)
        info = self._info
        assert info is not None
        self.tracks = [
            AudioTrack(
                id=1,
                codec="flac",
                codec_string="flac",
                description=b"fLaC\x80" + STREAMINFO_SIZE.to_bytes(3, "big") + streaminfo,
                timescale=info.sample_rate,
                duration=info.total_samples or None,
                sample_rate=info.sample_rate,
                channels=info.channels,
            )
        ]
        if info.total_samples:
            self.duration = info.total_samples / info.sample_rate

    async def _read_id3(self) -> int:
        """Skip (and read tags from) an ID3v2 tag before ``fLaC``, as ffmpeg allows."""
        head = await self.reader.read(0, 10)
        size = id3v2_size(head)
        if size is None:
            return 0
        tag = await self.reader.read_exact(0, size, "the ID3v2 tag", "flac")
        try:
            found = parse_id3v2(tag)
        except FormatError as error:
            raise self.error(error.message, 0) from None
        self.tags.update(found.tags)
        self.images.extend(found.images)
        return size

    async def _read_blocks(self, pos: int) -> bytes:
        """Walk the metadata blocks; return the STREAMINFO body."""
        streaminfo = b""
        for _ in range(_MAX_BLOCKS):
            header = await self.reader.read_exact(pos, 4, "a metadata block header", "flac")
            last, kind = header[0] >> 7, header[0] & 0x7F
            size = int.from_bytes(header[1:4], "big")
            body_at = pos + 4
            if streaminfo == b"" and kind != STREAMINFO:
                raise self.error(f"expected the STREAMINFO block first, found type {kind}", pos)
            if kind in (STREAMINFO, VORBIS_COMMENT, PICTURE):
                what = ("STREAMINFO", "", "", "", "VORBIS_COMMENT", "", "PICTURE")[kind]
                body = await self.reader.read_exact(body_at, size, f"the {what} block", "flac")
                try:
                    if kind == STREAMINFO and not streaminfo:
                        self._info = parse_streaminfo(body)
                        streaminfo = body[:STREAMINFO_SIZE]
                    elif kind == VORBIS_COMMENT:
                        for key, value in parse_vorbis_comment(body).items():
                            self.tags.setdefault(key, value)
                    elif kind == PICTURE:
                        self.images.append(parse_picture(body))
                except FormatError as error:
                    at = body_at + (error.offset or 0)
                    raise self.error(f"{what} block: {error.message}", at) from None
            elif kind == 127:
                raise self.error("metadata block type 127 is forbidden", pos)
            pos = body_at + size
            if last:
                self._frames_start = pos
                return streaminfo
        raise self.error(f"more than {_MAX_BLOCKS} metadata blocks", pos)

    async def packets(self) -> AsyncIterator[Packet]:
        info = self._info
        assert info is not None, "open() first"
        pos = self._frames_start
        header = parse_frame_header(await self.reader.read(pos, MAX_HEADER_SIZE), 0)
        if header is None:
            if not await self.reader.read(pos, 1):
                return  # no frames at all
            raise self.error("expected a FLAC frame header after the metadata blocks", pos)
        while True:
            found = await self._next_frame(pos, header)
            end = found[0] if found else await self._file_end(pos)
            data = await self.reader.read(pos, end - pos)
            pts = header.number if header.variable else header.number * info.max_block_size
            if found is None and flac_crc16(data) != 0:
                self.warn_truncated(f"the last frame (sample {pts}) is cut off", pos)
                return
            yield Packet(1, pts, pts, header.block_size, True, data)
            if found is None:
                return
            pos, header = found

    async def _next_frame(self, pos: int, current: FrameHeader) -> tuple[int, FrameHeader] | None:
        """Where the frame after ``current`` (at ``pos``) starts; None at the end of file.

        When the next number is not found (a damaged frame header), the first valid header
        with a later number is taken instead, unless the rest of the file is one frame
        whose CRC-16 holds (the last frame, with a sync-like pattern inside).
        """
        want = current.number + (current.block_size if current.variable else 1)
        fallback: tuple[int, FrameHeader] | None = None
        # Reads start at the frame itself while the frame fits in the reader's window, so
        # that the scan and then the frame's payload come from one cached window.
        step = max(1024, min(SCAN_CHUNK, self.reader.window // 4))
        scan, skip = pos, current.size
        while scan - pos < MAX_FRAME_SIZE:
            want_size = step + MAX_HEADER_SIZE
            if scan + want_size - pos < self.reader.window:
                chunk = (await self.reader.read(pos, scan + want_size - pos))[scan - pos :]
            else:
                chunk = await self.reader.read(scan, want_size)
            for match in _SYNC.finditer(chunk, skip, step):
                header = parse_frame_header(chunk, match.start())
                if header is None or header.variable != current.variable:
                    continue
                if header.number == want:
                    return scan + match.start(), header
                if fallback is None and header.number > want:
                    fallback = scan + match.start(), header
            if len(chunk) <= step:
                end = scan + len(chunk)
                if fallback and flac_crc16(await self.reader.read(pos, end - pos)) == 0:
                    fallback = None
                break
            scan, skip = scan + step, 0
        if fallback is None:
            if scan - pos < MAX_FRAME_SIZE:
                return None
            raise self.error(f"no next frame header within {MAX_FRAME_SIZE} bytes", pos)
        unit = "sample" if current.variable else "frame"
        message = f"no frame header for {unit} {want}; went on at {unit} {fallback[1].number}"
        self.warnings.append(str(self.error(message, fallback[0])))
        return fallback

    async def _file_end(self, pos: int) -> int:
        if self.reader.size is not None:
            return self.reader.size
        while len(await self.reader.read(pos, SCAN_CHUNK)) == SCAN_CHUNK:
            pos += SCAN_CHUNK
        return pos + len(await self.reader.read(pos, SCAN_CHUNK))
