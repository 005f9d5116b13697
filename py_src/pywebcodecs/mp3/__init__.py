"""MPEG audio files (MP3, and MP1/MP2) with ID3 tags."""

from .demuxer import Mp3Demuxer

__all__ = ["Mp3Demuxer"]
