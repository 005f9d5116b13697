"""Comparing a demuxer's packets with ffprobe's, for every reader's tests; and what damaged
input may give, for the fuzz tests."""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

from oracle import ffmpeg, ffprobe_data_hashes, ffprobe_packets, ffprobe_streams, md5_hash
from pywebcodecs.demuxer import Demuxer
from pywebcodecs.errors import FormatError
from pywebcodecs.formats import open_demuxer
from pywebcodecs.reader import Reader
from pywebcodecs.source import FileSource, Source
from pywebcodecs.track import Packet


async def demux(
    path: str | os.PathLike[str], window: int = 1 << 20
) -> tuple[Demuxer, list[Packet]]:
    return await demux_source(FileSource(path), window=window)


async def demux_source(
    source: Source, demuxer_class: type[Demuxer] | None = None, window: int = 1 << 20
) -> tuple[Demuxer, list[Packet]]:
    """Every packet of ``source``, read by ``demuxer_class`` or by detection."""
    reader = await Reader.open(source, window=window)
    if demuxer_class is None:
        demuxer = await open_demuxer(reader)
    else:
        demuxer = demuxer_class(reader)
        await demuxer.open()
    return demuxer, [packet async for packet in demuxer.packets()]


#: Codecs that AVI and MPEG-TS store as Annex-B byte streams and readers deliver
#: length-prefixed, as WebCodecs takes them with a description.
ANNEX_B = ("h264", "hevc")


def delivered_hashes(path: str | os.PathLike[str], streams: list[dict]) -> list[tuple[int, str]]:
    """(stream index, MD5) of every packet's data as a reader must deliver it, in ffprobe's
    order, all computed by ffmpeg: the stored bytes, except for H.264/H.265, whose packets
    are those ffmpeg's Matroska muxer writes after its own Annex-B to length-prefixed
    conversion (``-c copy``)."""
    hashes = ffprobe_data_hashes(path)
    for index, stream in enumerate(streams):
        if stream["codec_name"] not in ANNEX_B:
            continue
        with tempfile.TemporaryDirectory() as folder:
            remuxed = Path(folder) / "stream.mkv"
            ffmpeg("-fflags", "+genpts", "-i", path, "-map", f"0:{index}", "-c", "copy", remuxed)
            converted = iter(ffprobe_data_hashes(remuxed))
            at = [i for i, (stream_index, _) in enumerate(hashes) if stream_index == index]
            for i, (_, md5) in zip(at, converted, strict=True):
                hashes[i] = (index, md5)
    return hashes


async def assert_packets_match_ffprobe(
    path: Path, *, check_channels: bool = True, demuxer_class: type[Demuxer] | None = None
) -> Demuxer:
    """Same packets as ffprobe, in the same order: stream, pts, dts, data (MD5), key flag;
    the same codecs, time bases, sizes and sample formats. Read by ``demuxer_class`` or by
    detection.

    Timestamps count ffprobe's time_base (AVI's MP3 has 32/1225: a numerator other than 1).
    Where ffprobe has no pts (AVI stores no presentation order) ours is not compared here:
    the AVI tests compare it with the frame times of ffmpeg's decoder.
    ``check_channels=False`` where the container's header and the bitstream disagree and
    ffprobe believes the bitstream (MP3 in MP4 says stereo for mono frames).
    """
    demuxer, packets = await demux_source(FileSource(path), demuxer_class)
    streams = ffprobe_streams(path)
    assert [t.codec for t in demuxer.tracks] == [s["codec_name"] for s in streams]
    numerators = []
    for track, stream in zip(demuxer.tracks, streams, strict=True):
        numerator, denominator = map(int, stream["time_base"].split("/"))
        assert track.timescale == denominator
        numerators.append(numerator)
        if track.kind == "video":
            assert (track.width, track.height) == (stream["width"], stream["height"])
        else:
            assert track.sample_rate == int(stream["sample_rate"])
            assert track.channels == stream["channels"] or not check_channels
    ids = [track.id for track in demuxer.tracks]
    probe = ffprobe_packets(path)
    ours = [(ids.index(p.track_id), None if q.pts is None else p.pts, p.dts, md5_hash(p.data),
             p.is_key) for p, q in zip(packets, probe, strict=False)]  # fmt: skip
    theirs = [
        (p.stream_index, None if p.pts is None else p.pts * numerators[p.stream_index],
         p.dts * numerators[p.stream_index], md5, p.is_key)
        for p, (_, md5) in zip(probe, delivered_hashes(path, streams), strict=True)
    ]  # fmt: skip
    assert len(packets) == len(theirs)
    mismatches = [(i, a, b) for i, (a, b) in enumerate(zip(ours, theirs, strict=True)) if a != b]
    assert mismatches[:5] == [], (len(mismatches), mismatches[:5])
    return demuxer


async def assert_clean_or_format_error(
    source: Source, demuxer_class: type[Demuxer] | None = None
) -> None:
    """Demux damaged input to its end, by ``demuxer_class`` or by detection.

    Only two outcomes pass: packets (truncation warnings are expected and silenced), or a
    :class:`FormatError` whose message names the file (HLS: the playlist) and, once the
    format is known, the format, so a user learns which file broke and how. Any other
    exception fails; a hang is ended by the test's time-out.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            await demux_source(source, demuxer_class)
    except FormatError as exc:
        assert source.name in str(exc), str(exc)
        assert demuxer_class is None or exc.format, f"no format named: {exc}"
