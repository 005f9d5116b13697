"""Native FLAC files (RFC 9639)."""

from .demuxer import FlacDemuxer

__all__ = ["FlacDemuxer"]
