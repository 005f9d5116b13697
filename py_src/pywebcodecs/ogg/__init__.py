"""Ogg files (RFC 3533) with Opus, Vorbis or FLAC: reading (:class:`OggDemuxer`) and
writing (:class:`OggMuxer`)."""
