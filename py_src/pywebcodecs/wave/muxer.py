"""The WAV writer: RIFF ``WAVE`` with PCM samples, growing into RF64 (EBU Tech 3306) when
the file passes 4 GiB.

The header is written before the first samples with a ``JUNK`` chunk the size of a
``ds64`` chunk right after ``WAVE``. At :meth:`WavMuxer.finish` the sizes are patched in;
if they do not fit in 32 bits, ``RIFF`` becomes ``RF64``, the 32-bit sizes become
0xFFFFFFFF and the ``JUNK`` chunk becomes the ``ds64`` chunk holding the real sizes. This
is the layout EBU Tech 3306 section 3.5 recommends, so no sample moves. The file's tags
go in a ``LIST INFO`` chunk between ``fmt `` and ``data``, as ffmpeg writes them.
"""

from __future__ import annotations

import struct

from ..errors import UnsupportedError
from ..muxer import Muxer
from ..sink import Sink
from ..track import AudioTrack, Packet, Track
from .pcm_format import TAGS, build_fmt

#: Our tag names → LIST INFO chunk ids (RIFF specification section 2-14). "encoder"
#: (ISFT) is not carried: the output's writer is not the input's.
INFO_IDS = {"title": b"INAM", "artist": b"IART", "album": b"IPRD", "comment": b"ICMT",
            "date": b"ICRD", "genre": b"IGNR", "track": b"IPRT", "copyright": b"ICOP",
            "engineer": b"IENG", "language": b"ILNG"}  # fmt: skip
_DS64_BODY = 28  # riffSize, dataSize, sampleCount (8 bytes each), table length (4)
_NO_SIZE = 0xFFFFFFFF


class WavMuxer(Muxer):
    format_name = "wav"
    mime_type = "audio/wav"
    codecs = frozenset(TAGS) - {"pcm_f64le", "pcm_alaw", "pcm_mulaw"}

    def __init__(self, sink: Sink, *, size_limit: int = _NO_SIZE) -> None:
        """``size_limit``: the largest RIFF size before switching to RF64 (tests lower it)."""
        super().__init__(sink)
        self._size_limit = size_limit
        self._track: AudioTrack | None = None
        self._header_written = False
        self._data_start = 0
        self._data_size = 0

    def add_track(self, track: Track) -> int:
        if self._track is not None:
            raise UnsupportedError("a WAV file holds one audio track")
        if not isinstance(track, AudioTrack):
            raise UnsupportedError(f"a WAV file cannot hold a {track.kind} track")
        self.check_codec(track.codec)
        self._track = track
        return 1

    async def _write_header(self) -> None:
        if self._track is None:
            raise UnsupportedError("a WAV file needs an audio track")
        fmt = build_fmt(self._track.codec, self._track.channels, self._track.sample_rate)
        header = (
            b"RIFF" + bytes(4) + b"WAVE"
            + struct.pack("<4sI", b"JUNK", _DS64_BODY) + bytes(_DS64_BODY)
            + struct.pack("<4sI", b"fmt ", len(fmt)) + fmt
            + _info_chunk(self.tags)
            + b"data" + bytes(4)
        )  # fmt: skip
        await self.sink.write(header)
        self._data_start = self.sink.position
        self._header_written = True

    async def write_packet(self, track_id: int, packet: Packet) -> None:
        if not self._header_written:
            await self._write_header()
        await self.sink.write(packet.data)
        self._data_size += len(packet.data)

    async def finish(self) -> None:
        if not self._header_written:
            await self._write_header()
        assert self._track is not None
        if self._data_size & 1:
            await self.sink.write(b"\0")  # chunks are padded to an even size
        riff_size = self.sink.position - 8
        if riff_size <= self._size_limit:
            await self.sink.write_at(4, struct.pack("<I", riff_size))
            await self.sink.write_at(self._data_start - 4, struct.pack("<I", self._data_size))
            return
        _tag, bits = TAGS[self._track.codec]
        frames = self._data_size // (self._track.channels * bits // 8)
        ds64 = struct.pack("<4sIQQQI", b"ds64", _DS64_BODY, riff_size, self._data_size, frames, 0)
        await self.sink.write_at(0, b"RF64" + struct.pack("<I", _NO_SIZE) + b"WAVE" + ds64)
        await self.sink.write_at(self._data_start - 4, struct.pack("<I", _NO_SIZE))


def _info_chunk(tags: dict[str, str]) -> bytes:
    """``LIST INFO`` with one zero-terminated, even-padded text per tag; empty without any."""
    body = b""
    for name, value in tags.items():
        if name in INFO_IDS and value:
            text = value.encode("utf-8") + b"\0"
            body += struct.pack("<4sI", INFO_IDS[name], len(text)) + text + b"\0" * (len(text) & 1)
    return struct.pack("<4sI", b"LIST", len(body) + 4) + b"INFO" + body if body else b""
