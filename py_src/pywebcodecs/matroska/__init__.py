"""Matroska and WebM: reading (:class:`MatroskaDemuxer`) and writing (:class:`WebmMuxer`,
:class:`MkvMuxer`), over the EBML helpers in :mod:`.ebml`."""

from .muxer import MkvMuxer, WebmMuxer

__all__ = ["MkvMuxer", "WebmMuxer"]
