"""Matroska and WebM: reading (:class:`MatroskaDemuxer`) and writing (:class:`WebmMuxer`,
:class:`MkvMuxer`), over the EBML helpers in :mod:`.ebml`."""

from .demuxer import MatroskaDemuxer
from .muxer import MkvMuxer, WebmMuxer

__all__ = ["MatroskaDemuxer", "MkvMuxer", "WebmMuxer"]
