"""A LAME-tagged MP3's priming and padding, against ffmpeg: the tag's delay and padding as
ffprobe's debug log prints them, the packets before 0 as far as ffprobe's start time, the
audio ending where ffmpeg's gapless decode ends; and copies into MP4 (the priming hidden
by an edit list, as ffmpeg's copy does) and Matroska (kept, the padding dropped by
DiscardPadding, as ffmpeg's copy does), measured by ffmpeg's decode."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from demux_check import demux
from oracle import FIXTURES, ffmpeg, ffprobe_json, ffprobe_streams, make
from pywebcodecs import convert_media
from pywebcodecs.mp3.demuxer import Mp3Demuxer
from pywebcodecs.sink import FileSink
from pywebcodecs.track import NANOSECONDS, AudioTrack

TIMESCALE = 14_112_000  # ffmpeg's MP3 time base


def lame_mp3(rate: int, channels: int, mode: str) -> Path:
    bitrate = ["-b:a", "64k"] if mode == "cbr" else ["-q:a", "5"]
    return make(f"gapless-{rate}-{channels}-{mode}.mp3", "-f", "lavfi", "-i",
                f"sine=frequency=440:duration=1.3:sample_rate={rate}", "-ac", str(channels),
                "-c:a", "libmp3lame", *bitrate)  # fmt: skip


def ffmpeg_pads(path: Path) -> tuple[int, int]:
    """The LAME tag's (delay, padding), from ffprobe's debug log."""
    log = subprocess.run(["ffprobe", "-v", "debug", str(path)], capture_output=True, text=True)
    found = re.search(r"\] pad (\d+) (\d+)", log.stderr)
    assert found, log.stderr[-2000:]
    return int(found[1]), int(found[2])


def decoded_samples(path: Path) -> int:
    """Samples per channel ffmpeg decodes from the first audio stream."""
    frames = ffprobe_json(path, "-select_streams", "a:0", "-show_frames",
                          "-show_entries", "frame=nb_samples")["frames"]  # fmt: skip
    return sum(int(frame["nb_samples"]) for frame in frames)


CASES = [(rate, channels, mode) for rate in (8000, 11025, 22050, 44100, 48000)
         for channels in (1, 2) for mode in ("cbr", "vbr")]  # fmt: skip


@pytest.mark.parametrize(("rate", "channels", "mode"), CASES)
async def test_priming_and_padding_are_ffmpegs(rate: int, channels: int, mode: str) -> None:
    path = lame_mp3(rate, channels, mode)
    delay, padding = ffmpeg_pads(path)
    demuxer, packets = await demux(path)
    assert isinstance(demuxer, Mp3Demuxer)
    (track,) = demuxer.tracks
    assert isinstance(track, AudioTrack)
    step = TIMESCALE // rate
    assert track.priming == delay + 529
    assert track.lead_in == int(ffprobe_streams(path)[0]["start_pts"]) == -packets[0].pts
    # The audio is what ffmpeg decodes, 0 to the end of the last packet that holds any;
    # the padding after it is noted as discarded, to the last decoded sample.
    end = max(p.pts + p.duration for p in packets)
    assert end == decoded_samples(path) * step
    discarded = sum(p.discard_padding for p in packets)
    assert discarded == (padding - 529) * step * NANOSECONDS // TIMESCALE
    kept = [p for p in packets if p.pts < end]
    assert all(p.discard_padding == 0 for p in kept[:-1])


async def test_the_fixture_lame_tag_is_read() -> None:
    """A file LAME 3.100 itself wrote (VBR, joint stereo), not ffmpeg."""
    path = FIXTURES / "Toothsome-Meme.VBRv2.mp3"
    delay, _ = ffmpeg_pads(path)
    demuxer, packets = await demux(path)
    (track,) = demuxer.tracks
    assert isinstance(track, AudioTrack) and track.priming == delay + 529
    assert max(p.pts + p.duration for p in packets) == decoded_samples(path) * (
        TIMESCALE // track.sample_rate
    )


async def copy(source: Path, out: Path) -> Path:
    sink = FileSink(out)
    try:
        await convert_media(str(source), out.suffix[1:], sink=sink)
    finally:
        sink.close()
    return out


@pytest.mark.parametrize("rate", [22050, 44100])
async def test_a_copy_into_mp4_hides_the_priming_by_its_edit_list(
    rate: int, tmp_path: Path
) -> None:
    """As ffmpeg's own copy: it starts at 0 and decodes to the same samples (ffmpeg's
    decoder does not apply an edit's end); ours also ends the edit at the padding."""
    source = lame_mp3(rate, 2, "vbr")
    ours = await copy(source, tmp_path / "ours.mp4")
    theirs = tmp_path / "theirs.mp4"
    ffmpeg("-i", source, "-c", "copy", theirs)
    (stream,) = ffprobe_streams(ours)
    assert float(stream["start_time"]) == 0
    assert int(stream["duration_ts"]) == decoded_samples(source)  # counted at the rate
    assert decoded_samples(ours) == decoded_samples(theirs)


async def test_a_copy_into_matroska_keeps_the_priming_and_drops_the_padding(
    tmp_path: Path,
) -> None:
    """Matroska has no way to skip an MP3's priming (CodecDelay is Opus's): ffmpeg's copy
    keeps it and drops the padding by DiscardPadding, and so does ours."""
    source = lame_mp3(44100, 2, "cbr")
    ours = await copy(source, tmp_path / "ours.mkv")
    theirs = tmp_path / "theirs.mkv"
    ffmpeg("-i", source, "-c", "copy", theirs)
    assert decoded_samples(ours) == decoded_samples(theirs) == decoded_samples(source) + 1105
