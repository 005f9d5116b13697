"""The interface every container writer implements.

The pipeline adds the output tracks, then writes packets interleaved in decode order, then
calls :meth:`Muxer.finish`. Packet timestamps are in the timescale of the track given to
:meth:`Muxer.add_track`; the muxer converts to its own units. A muxer states which codecs
it can hold so that a request it cannot honour fails before any work is done.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from .errors import UnsupportedError
from .sink import Sink
from .track import CoverImage, Packet, Track


class Muxer(ABC):
    """Writes one container format."""

    #: The container name users ask for: "mp4", "webm", "mkv", "wav".
    format_name: ClassVar[str]
    #: ffprobe codec names this container can hold.
    codecs: ClassVar[frozenset[str]]
    #: MIME type of the output, for the browser's Blob.
    mime_type: ClassVar[str]
    #: Whether the output can hide the start of a video track (a progressive MP4's edit
    #: list), so copied video trimmed from an earlier key frame shows from the trim's start.
    hides_video_lead_in = False
    #: Whether copied packets keep their alpha channel (:attr:`Packet.alpha`, WebM/MKV
    #: BlockAdditions); elsewhere a copied track loses its transparency, with a warning.
    keeps_alpha: ClassVar[bool] = False

    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        #: The file's tags (our names: "title", "artist", "album", "date", "comment"...)
        #: and cover pictures, set before the first packet; each writer keeps what its
        #: container can hold, so they survive a conversion as far as they can.
        self.tags: dict[str, str] = {}
        self.images: list[CoverImage] = []

    @classmethod
    def check_codec(cls, codec: str) -> None:
        if codec not in cls.codecs:
            raise UnsupportedError(
                f"a {cls.format_name.upper()} file cannot hold {codec}; "
                f"it can hold {', '.join(sorted(cls.codecs))}"
            )

    @abstractmethod
    def add_track(self, track: Track) -> int:
        """Declare an output track; returns the id to pass to :meth:`write_packet`.

        ``track`` gives codec, description, timescale, and the video or audio fields.
        All tracks are added before the first packet is written.
        """

    @abstractmethod
    async def write_packet(self, track_id: int, packet: Packet) -> None:
        """Write one packet; packets arrive in decode order across tracks."""

    @abstractmethod
    async def finish(self) -> None:
        """Write indexes and patch headers; the output is complete afterwards."""
