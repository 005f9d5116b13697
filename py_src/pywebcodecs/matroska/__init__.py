"""Matroska and WebM: reading (:class:`MatroskaDemuxer`) and writing (:class:`WebmMuxer`,
:class:`MkvMuxer`), over the EBML helpers in :mod:`.ebml`."""
