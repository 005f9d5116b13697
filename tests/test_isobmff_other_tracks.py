"""MP4/MOV tracks that are neither audio nor video, as phones, cameras and editors write
them (subtitles, chapter lists, timecodes): the conversion drops them, and each is named
in a warning with what ffprobe says it is, never left out unsaid."""

from __future__ import annotations

import pytest

from demux_check import demux
from oracle import ffprobe_streams, make

VIDEO = ["-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10:duration=1"]
AUDIO = ["-f", "lavfi", "-i", "sine=duration=1:sample_rate=48000"]
CODECS = ["-c:v", "libx264", "-c:a", "aac"]
SRT = "1\n00:00:00,000 --> 00:00:00,500\nHello\n\n2\n00:00:00,500 --> 00:00:01,000\nWorld\n"
CHAPTERS = (";FFMETADATA1\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=500\ntitle=One\n"
            "[CHAPTER]\nTIMEBASE=1/1000\nSTART=500\nEND=1000\ntitle=Two\n")  # fmt: skip


@pytest.mark.parametrize(
    ("name", "extra", "args", "expected"),
    [
        ("subtitles.mp4", SRT, ["-map", "0", "-map", "1", "-map", "2", *CODECS, "-c:s", "mov_text"],
         {3: "subtitle 'tx3g'"}),
        ("chapters.mp4", CHAPTERS, ["-map", "0", "-map", "1", "-map_chapters", "2", *CODECS],
         {3: "chapter list 'text'"}),
        ("timecode-chapters.mov", CHAPTERS, ["-map", "0", "-map", "1", "-map_chapters", "2",
                                             *CODECS, "-timecode", "01:00:00:00"],
         {3: "chapter list 'text'", 4: "timecode 'tmcd'"}),
    ],
)  # fmt: skip
async def test_each_track_left_out_is_named_in_a_warning(
    tmp_path, name: str, extra: str, args: list[str], expected: dict[int, str]
) -> None:
    side = tmp_path / ("extra.srt" if extra is SRT else "chapters.txt")
    side.write_text(extra)
    path = make(f"isobmff-other-{name}", *VIDEO, *AUDIO, "-i", str(side), *args)
    theirs = [s for s in ffprobe_streams(path) if s["codec_type"] not in ("video", "audio")]
    assert sorted(int(s["id"], 16) for s in theirs) == sorted(expected)
    demuxer, packets = await demux(path)
    assert [t.kind for t in demuxer.tracks] == ["video", "audio"]
    assert {p.track_id for p in packets} == {1, 2}
    assert demuxer.warnings == [
        f"{path.name}: track {track} ({what}) is dropped: only audio and video tracks are converted"
        for track, what in expected.items()
    ]
