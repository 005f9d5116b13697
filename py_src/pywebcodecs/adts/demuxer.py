"""The ADTS reader: raw AAC as a sequence of ADTS frames (ISO/IEC 14496-3 section 1.A.2),
with or without their CRC, after an optional ID3v2 tag.

WebCodecs decodes ``mp4a.40.N`` from raw AAC frames plus an AudioSpecificConfig
``description``, so packets carry the frame without its ADTS header (and CRC), and the
description is built from the first header. Timestamps use ffmpeg's raw AAC time base,
1/28224000 s, which every AAC sample rate divides. The duration is estimated from the
first frames' bitrate, as reading every header would mean reading the whole file.
"""

from __future__ import annotations

from ..codec_data import aac_codec_string, audio_specific_config
from ..mp3.framed import FramedAudioDemuxer
from ..mpegts.audio_frames import AudioFrame, adts_frame
from ..track import AudioTrack

_ESTIMATE_FRAMES = 64  # frames whose average size estimates the bitrate
_ESTIMATE_BYTES = 256 << 10


class AdtsDemuxer(FramedAudioDemuxer):
    format_name = "adts"
    timescale = 28_224_000
    frame_name = "ADTS frame"

    parse_frame = staticmethod(adts_frame)

    async def open(self) -> None:
        first = await self.open_frames()
        self.container = "aac"
        description = audio_specific_config(first.profile, first.sample_rate, first.channels)
        self.tracks = [
            AudioTrack(id=1, codec="aac", codec_string=aac_codec_string(description),
                       description=description, timescale=self.timescale,
                       sample_rate=first.sample_rate, channels=first.channels)
        ]  # fmt: skip
        if self.reader.size is not None:
            self.duration = await self._estimate_duration(first)

    async def _estimate_duration(self, first: AudioFrame) -> float:
        """Seconds, from the average size of the first frames (at most 256 KiB read)."""
        head = await self.reader.read(self._data_start, _ESTIMATE_BYTES)
        pos = frames = samples = 0
        while frames < _ESTIMATE_FRAMES:
            frame = adts_frame(head, pos)
            if frame is None or frame.end > len(head):
                break
            pos, frames, samples = frame.end, frames + 1, samples + frame.samples
        if frames == 0:
            return 0.0
        bytes_per_second = pos * first.sample_rate / samples
        return (self._data_end - self._data_start) / bytes_per_second
