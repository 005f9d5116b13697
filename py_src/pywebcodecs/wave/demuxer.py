"""The WAV reader: RIFF ``WAVE`` (Microsoft RIFF / Multimedia Programming Interface and
Data Specifications 1.0) and its 64-bit forms RF64/BW64 (EBU Tech 3306: a ``ds64`` chunk
holds the sizes that do not fit in 32 bits).

Chunks are walked by their headers only: ``fmt `` gives the sample format, ``LIST INFO``
and ``id3 `` give tags and cover art, ``data`` holds the samples. Chunk bodies are padded
to an even size. Packets are blocks of samples the way ffmpeg's WAV reader cuts them: 4096
bytes rounded down to whole sample frames (at least one frame), the last one shorter.
"""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator

from ..demuxer import Demuxer
from ..errors import FormatError
from ..id3 import id3v2_size, parse_id3v2
from ..reader import Reader
from ..track import AudioTrack, Packet
from .pcm_format import PcmFormat, parse_fmt

PACKET_BYTES = 4096  # ffmpeg libavformat/wavdec.c MAX_SIZE
_NO_SIZE = 0xFFFFFFFF
_MAX_CHUNKS = 10_000
_MAX_HEADER_CHUNK = 64 << 20  # fmt/LIST/id3 bodies are KiB; a cover art a few MiB
#: LIST INFO ids → ffprobe's tag names (ffmpeg libavformat/riff.c ff_riff_info_conv).
_INFO_TAGS = {b"INAM": "title", b"IART": "artist", b"IPRD": "album", b"ICMT": "comment",
              b"ICRD": "date", b"IGNR": "genre", b"ITRK": "track", b"IPRT": "track",
              b"ISFT": "encoder", b"ICOP": "copyright", b"IENG": "engineer",
              b"ILNG": "language"}  # fmt: skip


class WavDemuxer(Demuxer):
    format_name = "wav"
    sniff_size = 12

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        return head[:4] in (b"RIFF", b"RF64", b"BW64") and head[8:12] == b"WAVE"

    def __init__(self, reader: Reader) -> None:
        super().__init__(reader)
        self._format: PcmFormat | None = None
        self._data: tuple[int, int] | None = None  # (offset, size) of the samples

    async def open(self) -> None:
        head = await self.reader.read_exact(0, 12, "the RIFF header", "wav")
        if not self.sniff(head):
            raise self.error(f"expected 'RIFF....WAVE', found {head.hex(' ')}", 0)
        await self._walk_chunks(large=head[:4] != b"RIFF")
        if self._format is None:
            raise self.error("no fmt chunk (sample format) in the file", 12)
        if self._data is None:
            raise self.error("no data chunk (samples) in the file", 12)
        self._cut_to_file()
        fmt = self._format
        frames = self._data[1] // fmt.block_align
        packets = -(-frames // self._frames_per_packet())
        self.tracks = [
            AudioTrack(id=1, codec=fmt.codec, codec_string=fmt.codec_string,
                       timescale=fmt.sample_rate, duration=frames, packet_count=packets,
                       keyframe_count=packets,
                       sample_rate=fmt.sample_rate, channels=fmt.channels,
                       bits_per_sample=fmt.bits_per_sample)
        ]  # fmt: skip
        self.duration = frames / fmt.sample_rate

    async def _walk_chunks(self, *, large: bool) -> None:
        """Read every chunk header; keep fmt, data, tags. ``large``: RF64/BW64 with ds64."""
        file_size = self.reader.size if self.reader.size is not None else 1 << 63
        ds64_data_size: int | None = None
        pos = 12
        for _ in range(_MAX_CHUNKS):
            header = await self.reader.read(pos, 8)
            if len(header) < 8:
                return
            kind, size = struct.unpack("<4sI", header)
            body = pos + 8
            if kind == b"data":
                if size == _NO_SIZE and ds64_data_size is not None:
                    size = ds64_data_size
                elif size in (0, _NO_SIZE):  # a stream written without patching its sizes
                    size = file_size - body
                self._data = (body, size)
                if body + size >= file_size:
                    return
            elif kind in (b"fmt ", b"ds64", b"LIST", b"id3 ", b"ID3 "):
                if size > _MAX_HEADER_CHUNK or body + size > file_size:
                    raise self.error(
                        f"{kind.decode('latin-1')!r} chunk of {size} bytes runs past the end "
                        f"of the file ({file_size} bytes)",
                        pos,
                    )
                data = await self.reader.read_exact(body, size, f"the {kind!r} chunk", "wav")
                if kind == b"ds64" and large:
                    if size < 16:
                        raise self.error(f"ds64 chunk of {size} bytes, needs 16", pos)
                    ds64_data_size = int.from_bytes(data[8:16], "little")
                elif kind == b"fmt ":
                    try:
                        self._format = parse_fmt(data)
                    except FormatError as error:
                        raise self.error(error.message, body) from None
                elif kind == b"LIST" and data[:4] == b"INFO":
                    self._read_info(data[4:])
                elif kind != b"LIST" and kind != b"ds64":
                    self._read_id3(data, body)
            pos = body + size + (size & 1)
        raise self.error(f"more than {_MAX_CHUNKS} chunks", pos)

    def _cut_to_file(self) -> None:
        """A data chunk that runs past the end of the file (a download cut short) is taken
        as the bytes present, with a warning, so that duration and packet counts describe
        what will play (as ffprobe's do) rather than what the header promised."""
        assert self._data is not None
        start, size = self._data
        present = self.reader.size - start if self.reader.size is not None else size
        if present < size:
            self.warn_truncated(
                f"the data chunk is cut off: {size} bytes declared, {present} present",
                start + present,
            )
            self._data = (start, present)

    def _read_info(self, body: bytes) -> None:
        """LIST INFO subchunks: zero-terminated text (RIFF spec section 2-14)."""
        pos = 0
        while pos + 8 <= len(body):
            kind, size = struct.unpack_from("<4sI", body, pos)
            text = body[pos + 8 : pos + 8 + size].split(b"\0", 1)[0]
            if kind in _INFO_TAGS and text:
                self.tags.setdefault(_INFO_TAGS[kind], text.decode("utf-8", "replace"))
            pos += 8 + size + (size & 1)

    def _read_id3(self, data: bytes, offset: int) -> None:
        size = id3v2_size(data)
        if size is None or size > len(data):
            self.warnings.append(str(self.error("id3 chunk holds no complete ID3v2 tag", offset)))
            return
        try:
            found = parse_id3v2(data[:size])
        except FormatError as error:
            raise self.error(error.message, offset) from None
        for key, value in found.tags.items():
            self.tags.setdefault(key, value)
        self.images.extend(found.images)

    def _frames_per_packet(self) -> int:
        assert self._format is not None, "open() first"
        return max(1, PACKET_BYTES // self._format.block_align)

    async def packets(self) -> AsyncIterator[Packet]:
        assert self._format is not None and self._data is not None, "open() first"
        align = self._format.block_align
        step = self._frames_per_packet() * align
        start, size = self._data
        done = 0
        while done < size:
            want = min(step, size - done)
            read = await self.reader.read(start + done, want)
            data = read[: len(read) // align * align]
            if data:
                frames = len(data) // align
                yield Packet(1, done // align, done // align, frames, True, data)
            if len(read) < want:
                self.warn_truncated(
                    f"the data chunk is cut off: {size} bytes declared, {done + len(read)} present",
                    start + done + len(read),
                )
                return
            done += want
