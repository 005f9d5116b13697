"""WAV files: RIFF/RF64 ``WAVE`` with PCM audio."""

from .demuxer import WavDemuxer
from .muxer import WavMuxer

__all__ = ["WavDemuxer", "WavMuxer"]
