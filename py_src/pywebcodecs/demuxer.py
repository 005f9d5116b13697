"""The interface every container reader implements.

A demuxer is built on a :class:`~pywebcodecs.reader.Reader`, learns the tracks in
:meth:`Demuxer.open` without reading media payload, and then yields the packets of all
tracks in file order from :meth:`Demuxer.packets`, so that a conversion reads its input
front to back, once.
"""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from typing import ClassVar

from .errors import FormatError, TruncatedMediaWarning
from .reader import Reader
from .track import CoverImage, Packet, Track


class Demuxer(ABC):
    """Reads one container format."""

    #: The short name of the format family: "mp4", "matroska", "wav", "mp3", ...
    format_name: ClassVar[str]
    #: How many bytes of the file's start :meth:`sniff` wants to see.
    sniff_size: ClassVar[int] = 4096

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        #: The container as users name it ("mp4", "mov", "webm", "mkv", ...); refined in open().
        self.container: str = self.format_name
        self.tracks: list[Track] = []
        #: Seconds, as the container states it (or as the demuxer can derive cheaply).
        self.duration: float | None = None
        self.tags: dict[str, str] = {}
        self.images: list[CoverImage] = []
        self.warnings: list[str] = []

    @classmethod
    @abstractmethod
    def sniff(cls, head: bytes) -> bool:
        """True when ``head`` (the file's first bytes) looks like this format."""

    @abstractmethod
    async def open(self) -> None:
        """Parse the headers: fill in tracks, duration, tags and images."""

    @abstractmethod
    def packets(self) -> AsyncIterator[Packet]:
        """Every packet of every track, in file order."""

    def track(self, track_id: int) -> Track:
        for track in self.tracks:
            if track.id == track_id:
                return track
        raise KeyError(track_id)

    def error(self, message: str, offset: int | None = None) -> FormatError:
        """A :class:`FormatError` that names this file and format."""
        return FormatError(message, source=self.reader.name, format=self.format_name, offset=offset)

    def warn_truncated(self, message: str, offset: int | None = None) -> None:
        """Record (and emit) that the file ends early; the packets so far are kept."""
        text = str(self.error(message, offset))
        self.warnings.append(text)
        warnings.warn(text, TruncatedMediaWarning, stacklevel=2)
