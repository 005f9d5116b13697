"""Copied packets cut to a trim window (pywebcodecs.trim) in CPython, and a copy-only
trim end to end, checked by ffprobe."""

import asyncio
from pathlib import Path

import pytest

from oracle import ffprobe_json, make
from pywebcodecs import convert_media
from pywebcodecs.frame_plan import TrimWindow
from pywebcodecs.sink import FileSink
from pywebcodecs.track import Packet
from pywebcodecs.trim import PacketTrim


def video(pts: int, key: bool = False) -> Packet:
    return Packet(1, pts, pts, 1, key, b"")


def kept(trim: PacketTrim, packets: list[Packet]) -> list[int]:
    out = [p for packet in packets for p in trim.push(packet)] + trim.finish()
    return [p.pts for p in out]


def test_copied_video_starts_at_the_key_frame_before_the_start() -> None:
    # 1 frame per unit, key frames every 10: the window 15..25 needs the group from 10.
    packets = [video(i, key=i % 10 == 0) for i in range(40)]
    trim = PacketTrim(TrimWindow(15, 25), timescale=1, is_video=True)
    assert kept(trim, packets) == list(range(10 - 15, 25 - 15))


def test_copied_video_ends_at_the_last_packet_decoded_before_the_end() -> None:
    packets = [video(i, key=i == 0) for i in range(30)]
    assert kept(PacketTrim(TrimWindow(None, 12), 1, True), packets) == list(range(12))


def test_a_start_inside_the_last_group_keeps_it_when_the_input_ends() -> None:
    packets = [video(i, key=i % 10 == 0) for i in range(30)]
    assert kept(PacketTrim(TrimWindow(25, None), 1, True), packets) == list(range(-5, 5))


def test_copied_audio_is_cut_at_the_packet_boundary_nearest_each_end() -> None:
    packets = [Packet(2, i * 1024, i * 1024, 1024, True, b"") for i in range(100)]
    trim = PacketTrim(TrimWindow(1.0, 1.5), timescale=48000, is_video=False)
    out = kept(trim, packets)
    # 1.0 s = 46.875 packets: the nearest boundary is packet 47; 1.5 s = 70.3 → up to 70.
    assert out[0] == 47 * 1024 - 48000 and out[-1] == 69 * 1024 - 48000


def test_copy_trim_of_an_mp4_is_timed_from_its_start(tmp_path: Path) -> None:
    source = make(
        "trim-copy-source.mp4",
        "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30:duration=3",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=3",
        "-c:v", "libx264", "-g", "30", "-bf", "0", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-shortest",
    )  # fmt: skip
    output = tmp_path / "cut.mkv"
    result = asyncio.run(convert_media(str(source), "mkv", video_codec="copy",
                                       audio_codec="copy", trim=(1.0, 2.0),
                                       sink=FileSink(output)))  # fmt: skip
    assert [t.action for t in result.tracks] == ["copy", "copy"]
    frames = ffprobe_json(output, "-show_entries", "packet=pts_time,flags",
                          "-select_streams", "v")["packets"]  # fmt: skip
    assert float(frames[0]["pts_time"]) == pytest.approx(0, abs=0.001)
    assert frames[0]["flags"].startswith("K")
    assert len(frames) == 30  # the key frame at 1.0 s up to the last before 2.0 s
