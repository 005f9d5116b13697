"""The WAV writer: remuxed PCM keeps every sample (stream hashes), ffprobe and ffmpeg read
the output cleanly, and past the size limit the file becomes RF64 with a ds64 chunk."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import pytest

from demux_check import demux
from oracle import FIXTURES, decode_errors, make, stream_hashes
from pywebcodecs import convert_media
from pywebcodecs.errors import UnsupportedError
from pywebcodecs.formats import muxer_class
from pywebcodecs.sink import FileSink
from pywebcodecs.track import VideoTrack
from pywebcodecs.wave.muxer import WavMuxer

SINE = ["-f", "lavfi", "-i", "sine=duration=1:sample_rate=44100"]
INPUTS = {
    "pcm_u8": [*SINE, "-c:a", "pcm_u8"],
    "pcm_s16le": [*SINE, "-ac", "2", "-c:a", "pcm_s16le"],
    "pcm_s24le": [*SINE, "-ac", "2", "-c:a", "pcm_s24le"],
    "pcm_s32le": [*SINE, "-c:a", "pcm_s32le"],
    "pcm_f32le": [*SINE, "-ac", "2", "-c:a", "pcm_f32le"],
    "pcm_s16le-5.1": [*SINE, "-af", "pan=5.1|c0=c0|c1=c0|c2=c0|c3=c0|c4=c0|c5=c0",
                      "-c:a", "pcm_s16le"],
    "pcm_u8-odd": ["-f", "lavfi", "-i", "sine=duration=0.5:sample_rate=8001", "-c:a", "pcm_u8"],
}  # fmt: skip


async def remux(source: Path, target: Path, **options: int) -> None:
    demuxer, packets = await demux(source)
    sink = FileSink(target)
    muxer = WavMuxer(sink, **options)
    track_id = muxer.add_track(demuxer.tracks[0])
    for packet in packets:
        await muxer.write_packet(track_id, packet)
    await muxer.finish()
    sink.close()


def ffprobe_warnings(path: Path) -> str:
    cmd = ["ffprobe", "-v", "warning", str(path)]
    return subprocess.run(cmd, capture_output=True, text=True).stderr


@pytest.mark.parametrize("name", sorted(INPUTS))
async def test_remux_keeps_every_sample(name: str, tmp_path: Path) -> None:
    source = make(f"wave-mux-{name}.wav", *INPUTS[name])
    target = tmp_path / "out.wav"
    await remux(source, target)
    assert stream_hashes(target) == stream_hashes(source)
    assert ffprobe_warnings(target) == ""
    assert decode_errors(target) == ""
    assert target.stat().st_size % 2 == 0


async def test_past_the_size_limit_the_file_becomes_rf64(tmp_path: Path) -> None:
    source = make("wave-mux-pcm_s16le.wav", *INPUTS["pcm_s16le"])
    target = tmp_path / "big.wav"
    await remux(source, target, size_limit=1000)
    data = target.read_bytes()
    assert data[:4] == b"RF64" and data[4:8] == b"\xff\xff\xff\xff"
    kind, size, riff_size, data_size, frames = struct.unpack_from("<4sIQQQ", data, 12)
    assert (kind, size, riff_size) == (b"ds64", 28, len(data) - 8)
    assert (data_size, frames) == (44100 * 4, 44100)
    assert stream_hashes(target) == stream_hashes(source)
    assert ffprobe_warnings(target) == ""
    demuxer, packets = await demux(target)
    assert demuxer.tracks[0].duration == 44100
    assert sum(len(p.data) for p in packets) == 44100 * 4


async def test_below_the_limit_the_reserved_space_stays_junk(tmp_path: Path) -> None:
    source = make("wave-mux-pcm_u8.wav", *INPUTS["pcm_u8"])
    target = tmp_path / "small.wav"
    await remux(source, target)
    data = target.read_bytes()
    assert data[:4] == b"RIFF" and data[12:16] == b"JUNK"
    assert int.from_bytes(data[4:8], "little") == len(data) - 8


def test_wav_is_a_registered_output_that_refuses_video_and_other_codecs() -> None:
    assert muxer_class("wav") is WavMuxer
    with pytest.raises(UnsupportedError, match="cannot hold aac"):
        WavMuxer.check_codec("aac")
    video = VideoTrack(id=1, codec="h264", codec_string="avc1.42001e", timescale=90000,
                       width=16, height=16)  # fmt: skip
    with pytest.raises(UnsupportedError, match="video"):
        WavMuxer(FileSink("/dev/null")).add_track(video)


async def test_convert_media_copies_the_fixture_into_wav(tmp_path: Path) -> None:
    source = FIXTURES / "glitch-hop-is-dead.wav"
    out = tmp_path / "copy.wav"
    sink = FileSink(out)
    try:
        result = await convert_media(str(source), "wav", sink=sink)
    finally:
        sink.close()
    assert [(t.action, t.output_codec) for t in result.tracks] == [("copy", "pcm_s16le")]
    assert stream_hashes(out)[0] == stream_hashes(source)[0]  # [1] is the source's cover
    assert ffprobe_warnings(out) == "" and decode_errors(out) == ""
