"""Comparing a demuxer's packets with ffprobe's, for every reader's tests; and what damaged
input may give, for the fuzz tests."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from oracle import ffprobe_packets, ffprobe_streams
from pywebcodecs.demuxer import Demuxer
from pywebcodecs.errors import FormatError
from pywebcodecs.formats import open_demuxer
from pywebcodecs.reader import Reader
from pywebcodecs.source import FileSource, Source
from pywebcodecs.track import Packet


async def demux(
    path: str | os.PathLike[str], window: int = 1 << 20
) -> tuple[Demuxer, list[Packet]]:
    reader = await Reader.open(FileSource(path), window=window)
    demuxer = await open_demuxer(reader)
    return demuxer, [packet async for packet in demuxer.packets()]


async def assert_packets_match_ffprobe(path: Path, *, check_channels: bool = True) -> Demuxer:
    """Same packets as ffprobe, in the same order: stream, pts, dts, size, key flag.

    ``check_channels=False`` where the container's header and the bitstream disagree and
    ffprobe believes the bitstream (MP3 in MP4 says stereo for mono frames).
    """
    demuxer, packets = await demux(path)
    ids = [track.id for track in demuxer.tracks]
    ours = [(ids.index(p.track_id), p.pts, p.dts, len(p.data), p.is_key) for p in packets]
    theirs = [(p.stream_index, p.pts, p.dts, p.size, p.is_key) for p in ffprobe_packets(path)]
    assert len(ours) == len(theirs)
    mismatches = [(i, a, b) for i, (a, b) in enumerate(zip(ours, theirs, strict=True)) if a != b]
    assert mismatches[:5] == []
    streams = ffprobe_streams(path)
    assert [t.codec for t in demuxer.tracks] == [s["codec_name"] for s in streams]
    for track, stream in zip(demuxer.tracks, streams, strict=True):
        assert f"1/{track.timescale}" == stream["time_base"]
        if track.kind == "video":
            assert (track.width, track.height) == (stream["width"], stream["height"])
        else:
            assert track.sample_rate == int(stream["sample_rate"])
            assert track.channels == stream["channels"] or not check_channels
    return demuxer


async def assert_clean_or_format_error(
    source: Source, demuxer_class: type[Demuxer] | None = None
) -> None:
    """Demux damaged input to its end, by ``demuxer_class`` or by detection.

    Only two outcomes pass: packets (truncation warnings are expected and silenced), or a
    :class:`FormatError` whose message names the file (HLS: the playlist) and, once the
    format is known, the format, so a user learns which file broke and how. Any other exception fails;
    a hang is ended by the test's time-out.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = await Reader.open(source)
            if demuxer_class is None:
                demuxer = await open_demuxer(reader)
            else:
                demuxer = demuxer_class(reader)
                await demuxer.open()
            async for _packet in demuxer.packets():
                pass
    except FormatError as exc:
        assert source.name in str(exc), str(exc)
        assert demuxer_class is None or exc.format, f"no format named: {exc}"
