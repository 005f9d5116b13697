"""``parse_media``: what is inside a file, without converting it.

Headers give tracks, duration, tags and pictures. Packet and keyframe counts come free
from indexed containers (MP4 sample tables); for the others ``count_packets=True`` walks
the packets once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .demuxer import Demuxer
from .formats import open_demuxer
from .reader import Reader
from .track import Track, VideoTrack


@dataclass
class ImageInfo:
    mime_type: str
    size: int
    description: str = ""


@dataclass
class MediaInfo:
    name: str
    container: str
    size: int | None
    duration: float | None  # seconds
    tracks: list[Track]
    tags: dict[str, str] = field(default_factory=dict)
    images: list[ImageInfo] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    bytes_read: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: what ``pywebcodecs probe --json`` prints."""
        return {
            "name": self.name,
            "container": self.container,
            "size": self.size,
            "duration": self.duration,
            "tracks": [_track_dict(track) for track in self.tracks],
            "tags": self.tags,
            "images": [vars(image) for image in self.images],
            "warnings": self.warnings,
        }


@dataclass
class _Tally:
    packets: int = 0
    keys: int = 0
    first: int | None = None
    end: int | None = None


async def _count_packets(demuxer: Demuxer) -> None:
    """Walk every packet once: counts, and durations the headers did not state."""
    tallies = {track.id: _Tally() for track in demuxer.tracks}
    async for packet in demuxer.packets():
        tally = tallies.get(packet.track_id)
        if tally is None:
            continue
        tally.packets += 1
        tally.keys += packet.is_key
        end = packet.pts + packet.duration
        tally.first = packet.pts if tally.first is None else min(tally.first, packet.pts)
        tally.end = end if tally.end is None else max(tally.end, end)
    for track in demuxer.tracks:
        tally = tallies[track.id]
        track.packet_count, track.keyframe_count = tally.packets, tally.keys
        if track.duration is None and tally.first is not None and tally.end is not None:
            track.duration = tally.end - tally.first


def _track_dict(track: Track) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in vars(track).items():
        if key == "description":
            out["description_bytes"] = None if value is None else len(value)
        elif hasattr(value, "__dict__"):
            out[key] = vars(value)
        else:
            out[key] = value
    out["duration_seconds"] = track.duration_seconds
    return out


async def parse_media(src: Any, *, count_packets: bool = True) -> MediaInfo:
    """Describe ``src`` (anything ``convert_media`` accepts)."""
    from .conversion import open_source

    reader = await Reader.open(open_source(src))
    demuxer = await open_demuxer(reader)
    tracks = demuxer.tracks
    if count_packets and any(t.packet_count is None for t in tracks):
        await _count_packets(demuxer)
    duration = demuxer.duration
    if duration is None:
        known = [t.duration_seconds for t in tracks if t.duration_seconds is not None]
        duration = max(known) if known else None
    for track in tracks:
        if isinstance(track, VideoTrack) and track.frame_rate is None and track.packet_count:
            seconds = track.duration_seconds
            if seconds:
                track.frame_rate = round(track.packet_count / seconds, 3)
    return MediaInfo(
        name=reader.name,
        container=demuxer.container,
        size=reader.size,
        duration=duration,
        tracks=tracks,
        tags=dict(demuxer.tags),
        images=[ImageInfo(i.mime_type, len(i.data), i.description) for i in demuxer.images],
        warnings=list(demuxer.warnings),
        bytes_read=reader.bytes_fetched,
    )
