"""Matroska tracks and attachments a conversion cannot carry (subtitles, fonts) and codecs
it cannot read (Video for Windows tracks): each named in a warning, with what ffprobe says
it is, rather than left out unsaid or called "unknown"."""

from __future__ import annotations

from pathlib import Path

from oracle import ffprobe_streams, make
from pywebcodecs.matroska.demuxer import MatroskaDemuxer
from pywebcodecs.reader import Reader
from pywebcodecs.source import FileSource
from pywebcodecs.track import Packet

VIDEO = ["-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10:duration=1"]
AUDIO = ["-f", "lavfi", "-i", "sine=duration=1:sample_rate=48000"]
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
SRT = "1\n00:00:00,000 --> 00:00:00,500\nHello\n"


async def demux(path: Path) -> tuple[MatroskaDemuxer, list[Packet]]:
    demuxer = MatroskaDemuxer(await Reader.open(FileSource(path)))
    await demuxer.open()
    return demuxer, [packet async for packet in demuxer.packets()]


async def test_subtitle_tracks_and_font_attachments_are_named_as_dropped(tmp_path: Path) -> None:
    srt = tmp_path / "a.srt"
    srt.write_text(SRT)
    path = make("matroska-subs-font.mkv", *VIDEO, *AUDIO, "-i", str(srt), "-i", str(srt),
                "-map", "0", "-map", "1", "-map", "2", "-map", "3", "-c:v", "libvpx",
                "-c:a", "libopus", "-c:s:0", "ass", "-c:s:1", "srt", "-attach", str(FONT),
                "-metadata:s:t", "mimetype=application/x-truetype-font")  # fmt: skip
    theirs = ffprobe_streams(path)
    assert [s["codec_name"] for s in theirs] == ["vp8", "opus", "ass", "subrip", "ttf"]
    demuxer, packets = await demux(path)
    assert [t.codec for t in demuxer.tracks] == ["vp8", "opus"]
    assert {p.track_id for p in packets} == {1, 2}
    assert demuxer.warnings == [
        "attachment 'DejaVuSans.ttf' (application/x-truetype-font) is dropped: only cover "
        "pictures are kept",
        "track 3 (subtitle, S_TEXT/ASS) is dropped: only audio and video tracks are converted",
        "track 4 (subtitle, S_TEXT/UTF8) is dropped: only audio and video tracks are converted",
    ]


async def test_a_video_for_windows_track_is_named_by_its_fourcc() -> None:
    path = make("matroska-vfw-mp42.mkv", *VIDEO, "-c:v", "msmpeg4v2")
    (theirs,) = ffprobe_streams(path)
    assert (theirs["codec_name"], theirs["codec_tag_string"]) == ("msmpeg4v2", "MP42")
    demuxer, _ = await demux(path)
    assert demuxer.tracks[0].codec_string == "V_MS/VFW/FOURCC MP42"  # the refusal names it
    assert demuxer.warnings == ["track 1: codec 'V_MS/VFW/FOURCC MP42' is not supported"]
