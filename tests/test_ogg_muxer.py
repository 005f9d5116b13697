"""The Ogg writer: Opus, Vorbis and FLAC copied into Ogg from Ogg, WebM, Matroska and FLAC
inputs made by ffmpeg. ffprobe names the codec and the duration, and ffmpeg decodes as
many samples from the output as from the input (so pre-skip and end trimming, which Ogg
says through granule positions, come out right), without an error."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from oracle import decode_errors, ffprobe_format, ffprobe_packets, ffprobe_streams, make
from pywebcodecs import convert_media
from pywebcodecs.sink import FileSink

#: 1.013 s, so that the last frame of every codec is cut short.
TONE = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=1.013", "-ac", "2"]
INPUTS = {
    "opus.ogg": ["-c:a", "libopus", "-b:a", "64k"],
    "opus.webm": ["-c:a", "libopus", "-b:a", "64k"],
    "vorbis.ogg": ["-c:a", "libvorbis", "-q:a", "2"],
    "vorbis.mka": ["-c:a", "libvorbis", "-q:a", "2"],
    "flac.flac": ["-c:a", "flac"],
    "flac.ogg": ["-c:a", "flac"],
}


def decoded_samples(path: Path) -> int:
    """Samples per channel ffmpeg decodes from the file's audio."""
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a",
           "-f", "s16le", "-ac", "1", "-"]  # fmt: skip
    return len(subprocess.run(cmd, capture_output=True, check=True).stdout) // 2


async def copy_to_ogg(src: Path, out: Path) -> None:
    sink = FileSink(out)
    try:
        result = await convert_media(str(src), "ogg", sink=sink)
    finally:
        sink.close()
    assert [t.action for t in result.tracks] == ["copy"]
    assert result.mime_type == "audio/ogg"


@pytest.mark.parametrize("name", INPUTS)
async def test_copy_keeps_codec_duration_and_every_sample(name: str, tmp_path: Path) -> None:
    src = make(f"ogg-in-{name}", *TONE, *INPUTS[name])
    out = tmp_path / "out.ogg"
    await copy_to_ogg(src, out)
    (stream,) = ffprobe_streams(out)
    assert stream["codec_name"] == ffprobe_streams(src)[0]["codec_name"]
    assert ffprobe_format(out)["format_name"] == "ogg"
    assert decode_errors(out) == ""
    assert decoded_samples(out) == decoded_samples(src)
    frame = 1024 / 48000  # longer than any of these codecs' frames as ffmpeg writes them
    assert float(ffprobe_format(out)["duration"]) == pytest.approx(1.013, abs=frame)


async def test_a_packet_larger_than_a_page_continues_on_the_next(tmp_path: Path) -> None:
    """FLAC frames of 16384 samples of 4-channel noise are ~100 kB, more than the 65 025
    bytes one page can hold: they are laced across pages and read back whole."""
    src = make(
        "ogg-in-big-frames.flac",
        "-f", "lavfi", "-i", "aevalsrc=random(0)|random(1)|random(2)|random(3):s=48000:d=1",
        "-c:a", "flac", "-frame_size", "16384",
    )  # fmt: skip
    out = tmp_path / "out.ogg"
    await copy_to_ogg(src, out)
    sizes = [p.size for p in ffprobe_packets(out)]
    assert max(sizes) > 65025
    assert sizes == [p.size for p in ffprobe_packets(src)]
    assert decode_errors(out) == ""
    assert decoded_samples(out) == decoded_samples(src)


async def test_video_is_dropped_and_said_so(tmp_path: Path) -> None:
    src = make(
        "ogg-in-with-video.webm",
        "-f", "lavfi", "-i", "testsrc2=size=64x64:rate=10:duration=1", *TONE,
        "-c:v", "libvpx", "-c:a", "libopus", "-shortest",
    )  # fmt: skip
    sink = FileSink(tmp_path / "out.ogg")
    try:
        result = await convert_media(str(src), "ogg", sink=sink)
    finally:
        sink.close()
    assert [(t.kind, t.action) for t in result.tracks] == [("video", "drop"), ("audio", "copy")]
    assert "OGG file holds no video" in result.tracks[0].note
    assert [s["codec_name"] for s in ffprobe_streams(tmp_path / "out.ogg")] == ["opus"]
