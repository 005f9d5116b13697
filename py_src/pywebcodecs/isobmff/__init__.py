"""ISO base media files: MP4, MOV, M4A (ISO/IEC 14496-12)."""

from .demuxer import IsobmffDemuxer
from .muxer import Mp4Muxer

__all__ = ["IsobmffDemuxer", "Mp4Muxer"]
