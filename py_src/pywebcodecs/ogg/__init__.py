"""Ogg files (RFC 3533) with Opus, Vorbis or FLAC."""

from .demuxer import OggDemuxer

__all__ = ["OggDemuxer"]
