"""MPEG-2 transport streams (ISO/IEC 13818-1)."""

from .demuxer import MpegTsDemuxer

__all__ = ["MpegTsDemuxer"]
