"""AVI files (RIFF 'AVI ' and OpenDML 'AVIX')."""

from .demuxer import AviDemuxer

__all__ = ["AviDemuxer"]
