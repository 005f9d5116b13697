"""The AC-3/E-AC-3 syncframe header parser against ffprobe, on raw streams ffmpeg encodes:
every frame's size, and the rate, channels, samples and bit rate ffprobe reports."""

from __future__ import annotations

import pytest

from oracle import ffprobe_json, make
from pywebcodecs.ac3 import parse_syncframe

TONE = "sine=duration=0.5:sample_rate={rate}"
VARIANTS = {
    "ac3-48k-stereo": (48000, ["-ac", "2", "-c:a", "ac3", "-b:a", "192k", "-f", "ac3"]),
    "ac3-44k-5.1": (44100, ["-ac", "6", "-c:a", "ac3", "-b:a", "384k", "-f", "ac3"]),
    "ac3-32k-mono": (32000, ["-ac", "1", "-c:a", "ac3", "-b:a", "64k", "-f", "ac3"]),
    "eac3-48k-5.1": (48000, ["-ac", "6", "-c:a", "eac3", "-f", "eac3"]),
    "eac3-44k-mono": (44100, ["-ac", "1", "-c:a", "eac3", "-f", "eac3"]),
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_every_syncframe_header_agrees_with_ffprobe(name: str) -> None:
    rate, options = VARIANTS[name]
    path = make(f"{name}.{options[-1]}", "-f", "lavfi", "-i", TONE.format(rate=rate), *options)
    data = path.read_bytes()
    probe = ffprobe_json(path, "-show_streams", "-show_packets")
    (stream,) = probe["streams"]
    frames, pos = [], 0
    while pos < len(data):
        frame = parse_syncframe(data, pos)
        assert frame is not None, pos
        frames.append(frame)
        pos += frame.size
    assert pos == len(data)
    assert [f.size for f in frames] == [int(p["size"]) for p in probe["packets"]]
    for frame, packet in zip(frames, probe["packets"], strict=True):
        assert frame.samples == round(float(packet["duration_time"]) * rate)
    first = frames[0]
    assert first.codec == stream["codec_name"] == name.split("-")[0]
    assert (first.sample_rate, first.channels) == (int(stream["sample_rate"]), stream["channels"])
    if first.codec == "ac3":
        assert first.bit_rate == int(stream["bit_rate"])
        assert first.lfeon == ("5.1" in name)


@pytest.mark.parametrize(
    "header",
    [
        b"\x0b\x77\x00\x00\xc0\x40\x00\x00",  # fscod 3 (reserved)
        b"\x0b\x77\x00\x00\x26\x40\x00\x00",  # frmsizecod 38 (past table 5.18)
        b"\x0b\x77\x00\x00\x00\x88\x00\x00",  # bsid 17 (neither AC-3 nor E-AC-3)
        b"\x0b\x77\x00\x00\x00\x40\x00",  # too short to hold the header
        b"\x0b\x78\x00\x00\x00\x40\x00\x00",  # no sync word
    ],
)
def test_invalid_headers_are_refused(header: bytes) -> None:
    assert parse_syncframe(header) is None
