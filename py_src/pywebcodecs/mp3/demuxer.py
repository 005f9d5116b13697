"""The MP3 reader: MPEG-1/2/2.5 audio frames (ISO/IEC 11172-3, 13818-3 section 2.4) after
an optional ID3v2 tag and before an optional ID3v1 tag.

Timestamps use ffmpeg's MP3 time base, 1/14112000 s, which every MPEG audio sample rate
divides. When the first frame is a Xing/Info/VBRI header it is not a packet (as in
ffmpeg) and its frame count gives the duration; otherwise the duration is estimated from
the first frame's bitrate.

A LAME tag's delay and padding are not audio (:mod:`.vbr_header`). The engine's model for
priming is the MP4 reader's for AAC: the packets that hold it come before 0, and the
track's ``lead_in`` says how far (ffprobe shows the same as packets from 0 and a
``start_time``; ours are its packets moved back by that start time). The padding shortens
the last packet that holds audio, the rest of it is its ``discard_padding``; a frame of
padding alone has duration 0 and all of it as ``discard_padding``. So a re-encode starts
and ends where ffmpeg's decode does, an MP4 copy hides the priming by its edit list (as
ffmpeg's copy does) and a Matroska copy keeps it audible and drops the padding by
DiscardPadding (as ffmpeg's copy does).
"""

from __future__ import annotations

from ..errors import FormatError
from ..mpegts.audio_frames import mpeg_audio_frame
from ..track import AudioTrack
from .framed import FramedAudioDemuxer
from .vbr_header import vbr_header

_CODECS = {1: "mp1", 2: "mp2", 3: "mp3"}
_MAX_FRAME = 2881  # the longest frame: Layer II, 384 kbit/s at 32 kHz, padded


class Mp3Demuxer(FramedAudioDemuxer):
    format_name = "mp3"
    timescale = 14_112_000
    frame_name = "MPEG audio frame"
    claims_bare_id3 = True
    junk_joins_frame = True
    sniffs_past_junk = True

    parse_frame = staticmethod(mpeg_audio_frame)

    async def open(self) -> None:
        try:
            first = await self.open_frames()
        except FormatError:
            head = await self.reader.read(self._data_start, 4)
            if _is_free_format(head):
                raise self.error(
                    "free-format MPEG audio (bitrate index 0: frame lengths not in the header) "
                    "is not supported",
                    self._data_start,
                ) from None
            raise
        start = self._data_start
        body = await self.reader.read(start, min(first.end, _MAX_FRAME))
        mpeg1 = body[1] & 0x18 == 0x18
        step = self.timescale // first.sample_rate
        header = vbr_header(body, mpeg1, first.channels == 1) if first.profile == 3 else None
        duration: int | None = None
        priming = 0
        if header is not None:
            self.skip_first_frame()
            count = header.frames
            duration = count * first.samples * step if count else None
            priming = header.priming
            self.shift = -priming * step
            if header.end_drop:
                self.audio_end = (count * first.samples - header.end_drop) * step + self.shift
        if duration is None:
            bitrate = first.end * 8 * first.sample_rate // first.samples
            seconds = (self._data_end - self._data_start) * 8 / bitrate
            self.duration = seconds if self.reader.size is not None else None
        else:
            self.duration = duration / self.timescale
        self.tracks = [
            AudioTrack(id=1, codec=_CODECS[first.profile],
                       codec_string="mp3" if first.profile == 3 else "mp4a.6B",
                       timescale=self.timescale, duration=duration,
                       sample_rate=first.sample_rate, channels=first.channels,
                       priming=priming)
        ]  # fmt: skip


def _is_free_format(head: bytes) -> bool:
    """A valid MPEG audio header except for bitrate index 0, "free format" (ISO/IEC 11172-3
    section 2.4.2.3), whose frame length only the next frame's sync word tells."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version, layer = head[1] >> 3 & 3, head[1] >> 1 & 3
    return version != 1 and layer != 0 and head[2] >> 4 == 0 and head[2] >> 2 & 3 != 3
