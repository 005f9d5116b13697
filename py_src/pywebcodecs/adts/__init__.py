"""Raw AAC in ADTS frames (``.aac`` files)."""

from .demuxer import AdtsDemuxer

__all__ = ["AdtsDemuxer"]
