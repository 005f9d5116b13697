"""The WAV reader against ffprobe, packet by packet, on the fixture and on every sample
format ffmpeg writes; tags, cover art, RF64, odd chunk padding and broken files."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from demux_check import assert_clean_or_format_error, assert_packets_match_ffprobe, demux
from oracle import FIXTURES, ffprobe_packets, ffprobe_streams, make
from pywebcodecs import parse_media
from pywebcodecs.errors import FormatError
from pywebcodecs.formats import open_demuxer
from pywebcodecs.reader import Reader
from pywebcodecs.source import BytesSource
from pywebcodecs.wave.demuxer import WavDemuxer

SINE = ["-f", "lavfi", "-i", "sine=duration=1:sample_rate=44100"]
STEREO = [*SINE, "-ac", "2"]

VARIANTS = {
    "u8.wav": [*SINE, "-c:a", "pcm_u8"],
    "s16.wav": [*STEREO, "-c:a", "pcm_s16le"],
    "s24.wav": [*STEREO, "-c:a", "pcm_s24le"],
    "s32.wav": [*SINE, "-c:a", "pcm_s32le"],
    "f32.wav": [*STEREO, "-c:a", "pcm_f32le"],
    "f64.wav": [*SINE, "-c:a", "pcm_f64le"],
    "mulaw.wav": [*SINE, "-ar", "8000", "-c:a", "pcm_mulaw"],
    "extensible-5.1.wav": [*SINE, "-af", "pan=5.1|c0=c0|c1=c0|c2=c0|c3=c0|c4=c0|c5=c0",
                           "-c:a", "pcm_s16le"],
    "rf64.wav": [*STEREO, "-c:a", "pcm_s16le", "-rf64", "always"],
    "info-tags.wav": [*SINE, "-metadata", "title=Tïtle", "-metadata", "artist=Someone",
                      "-c:a", "pcm_s16le"],
    "u8-odd-frames.wav": ["-f", "lavfi", "-i", "sine=duration=0.5:sample_rate=8001",
                          "-c:a", "pcm_u8"],
}  # fmt: skip

CODEC_STRINGS = {"u8.wav": "pcm-u8", "s16.wav": "pcm-s16", "s24.wav": "pcm-s24",
                 "s32.wav": "pcm-s32", "f32.wav": "pcm-f32", "mulaw.wav": "ulaw"}  # fmt: skip


def variant(name: str) -> Path:
    return make(f"wave-{name}", *VARIANTS[name])


@pytest.mark.parametrize("name", sorted(VARIANTS))
async def test_generated_variants_match_ffprobe(name: str) -> None:
    demuxer = await assert_packets_match_ffprobe(variant(name))
    assert demuxer.tracks[0].packet_count == len(ffprobe_packets(variant(name)))
    assert demuxer.format_name == "wav"
    if name in CODEC_STRINGS:
        assert demuxer.tracks[0].codec_string == CODEC_STRINGS[name]


async def test_fixture_audio_packets_match_ffprobe_and_its_jpeg_is_a_cover() -> None:
    # ffprobe lists the id3 chunk's picture as a second (attached picture) stream; here it
    # is a cover image, so only the audio stream's packets are compared.
    path = FIXTURES / "glitch-hop-is-dead.wav"
    demuxer, packets = await demux(path)
    probe = ffprobe_packets(path)
    ours = [(p.pts, p.dts, len(p.data), p.is_key) for p in packets]
    theirs = [(p.pts, p.dts, p.size, p.is_key) for p in probe if p.stream_index == 0]
    assert ours == theirs
    assert [i.mime_type for i in demuxer.images] == ["image/jpeg"]
    picture = next(p for p in probe if p.stream_index == 1)
    assert len(demuxer.images[0].data) == picture.size
    assert demuxer.images[0].data[:3] == b"\xff\xd8\xff"
    assert demuxer.tags["title"] == "Glitch Hop Is Dead" and demuxer.tags["artist"] == "GRiZ"
    assert demuxer.tags["track"] == "19"
    assert demuxer.duration == pytest.approx(9.637188, abs=1e-6)


async def test_a_piped_wav_without_sizes_reads_to_the_end(tmp_path: Path) -> None:
    # Written to a pipe, ffmpeg cannot patch the RIFF and data sizes and leaves 0xFFFFFFFF.
    path = tmp_path / "piped.wav"
    with path.open("wb") as out:
        cmd = ["ffmpeg", "-v", "error", *SINE, "-c:a", "pcm_s16le", "-f", "wav", "-"]
        subprocess.run(cmd, stdout=out, check=True)
    assert path.read_bytes()[4:8] == b"\xff" * 4
    demuxer = await assert_packets_match_ffprobe(path)
    assert demuxer.tracks[0].duration == 44100


async def test_list_info_chunk_gives_tags() -> None:
    demuxer, _ = await demux(variant("info-tags.wav"))
    assert demuxer.tags["title"] == "Tïtle" and demuxer.tags["artist"] == "Someone"


def wav_bytes(*chunks: bytes, riff: bytes = b"RIFF") -> bytes:
    body = b"WAVE" + b"".join(chunks)
    return riff + struct.pack("<I", len(body)) + body


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack("<4sI", kind, len(body)) + body + b"\0" * (len(body) & 1)


FMT_MONO_U8 = chunk(b"fmt ", struct.pack("<HHIIHH", 1, 1, 8000, 8000, 1, 8))


async def open_bytes(data: bytes, name: str = "test.wav") -> tuple[object, list]:
    demuxer = await open_demuxer(await Reader.open(BytesSource(data, name=name)))
    return demuxer, [p async for p in demuxer.packets()]


async def test_odd_sized_chunks_are_padded_to_even() -> None:
    # An odd LIST chunk before fmt, and an odd data chunk followed by another chunk.
    info = chunk(b"LIST", b"INFO" + chunk(b"INAM", b"abc"))
    data = wav_bytes(chunk(b"JUNK", b"x"), info, FMT_MONO_U8, chunk(b"data", bytes(range(5))),
                     chunk(b"LIST", b"INFO" + chunk(b"IART", b"me\0")))  # fmt: skip
    demuxer, packets = await open_bytes(data)
    assert [p.data for p in packets] == [bytes(range(5))]
    assert demuxer.tags == {"title": "abc", "artist": "me"}


async def test_rf64_sizes_come_from_ds64() -> None:
    ds64 = chunk(b"ds64", struct.pack("<QQQI", 0, 6, 6, 0))
    data = wav_bytes(ds64, FMT_MONO_U8, struct.pack("<4sI", b"data", 0xFFFFFFFF) + bytes(8),
                     riff=b"RF64")  # fmt: skip
    demuxer, packets = await open_bytes(data)
    assert [len(p.data) for p in packets] == [6]
    assert demuxer.tracks[0].duration == 6


async def test_cut_off_data_yields_the_complete_packets_with_a_warning() -> None:
    data = variant("s16.wav").read_bytes()
    with pytest.warns(UserWarning, match="cut off"):
        demuxer, packets = await open_bytes(data[: len(data) // 2 + 1])
    assert sum(len(p.data) for p in packets) % 4 == 0
    assert 0 < len(packets) < 44100 * 4 // 4096 + 1
    assert demuxer.warnings


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"RIFF\0\0\0\0WAVE", "no fmt chunk"),
        (wav_bytes(FMT_MONO_U8), "no data chunk"),
        (wav_bytes(chunk(b"fmt ", bytes(8))), "needs at least 16"),
        (
            wav_bytes(chunk(b"fmt ", struct.pack("<HHIIHH", 0x55, 1, 8000, 1000, 1, 0))),
            "unsupported WAV sample format",
        ),
        (wav_bytes(chunk(b"fmt ", struct.pack("<HHIIHH", 1, 0, 8000, 0, 0, 8))), "0 channels"),
        (wav_bytes(struct.pack("<4sI", b"fmt ", 0x7FFFFFFF)), "past the end"),
        (wav_bytes(struct.pack("<4sI", b"LIST", 0xFFFFFFFF)), "past the end"),
        (wav_bytes(FMT_MONO_U8, chunk(b"ds64", b""), riff=b"RF64"), "ds64 chunk of 0 bytes"),
    ],
)
async def test_broken_files_give_specific_errors(data: bytes, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        await open_bytes(data, "bad.wav")


async def test_many_empty_chunks_are_bounded() -> None:
    data = wav_bytes(FMT_MONO_U8, chunk(b"JUNK", b"") * 20_000)
    with pytest.raises(FormatError, match="more than 10000 chunks"):
        await open_bytes(data)


FUZZ_INPUT = make("wave-fuzz.wav", "-f", "lavfi", "-i", "sine=duration=0.2:sample_rate=8000",
                  "-metadata", "title=x", "-c:a", "pcm_s16le")  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
async def test_mutated_files_give_format_errors_or_packets(data: st.DataObject) -> None:
    original = bytearray(FUZZ_INPUT.read_bytes())
    for _ in range(data.draw(st.integers(0, 8))):
        at = data.draw(st.integers(0, min(len(original) - 1, 120)))
        original[at] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(original)))
    await assert_clean_or_format_error(BytesSource(bytes(original[:cut]), "fuzz.wav"), WavDemuxer)


@pytest.mark.parametrize("name", ["s16.wav", "s24.wav", "u8.wav"])
async def test_a_cut_file_is_probed_as_the_samples_present_with_a_warning(
    name: str, tmp_path: Path
) -> None:
    """parse_media of a WAV cut in half: ffprobe's duration of the cut file, not the one
    the header declares, and the cut named among the warnings. ffprobe counts a sample
    frame cut in two, we do not: half a sample apart. (For RF64 ffprobe states the ds64
    size, and for float PCM the fact chunk's count, so it is no oracle there.)"""
    data = variant(name).read_bytes()
    path = tmp_path / f"cut-{name}"
    path.write_bytes(data[: len(data) // 2 + 1])
    with pytest.warns(UserWarning, match="cut off"):
        info = await parse_media(str(path))
    stream = ffprobe_streams(path)[0]
    assert info.duration == pytest.approx(float(stream["duration"]), abs=1.5 / 44100)
    (track,) = info.tracks
    assert track.duration_seconds == pytest.approx(float(stream["duration"]), abs=1.5 / 44100)
    assert track.packet_count == len(ffprobe_packets(path))
    (warning,) = info.warnings
    assert f"cut-{name}" in warning and "data chunk is cut off" in warning
