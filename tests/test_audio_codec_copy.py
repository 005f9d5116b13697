"""Copying the audio codecs browsers cannot decode (AC-3, E-AC-3, DTS) and PCM between MP4,
MOV, MKV and WAV, and naming every codec right: each output is checked by ffprobe's
codec_name and sample entry / CodecID, and decoded whole by ffmpeg without an error."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oracle import decode_errors, ffprobe_streams, make, stream_hashes
from pywebcodecs import UnsupportedError, convert_media, parse_media
from pywebcodecs.ac3 import dac3_body, dec3_body, parse_syncframe
from pywebcodecs.dts import ddts_body, parse_core_frame
from pywebcodecs.isobmff.sample_entry_writer import with_in_band_config
from pywebcodecs.sink import FileSink
from pywebcodecs.track import AudioTrack

TONE = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=1", "-ac", "2"]
ENCODE = {"ac3": ["-c:a", "ac3"], "eac3": ["-c:a", "eac3"], "dts": ["-c:a", "dca", "-strict", "-2"]}
#: What ffprobe calls the MP4 sample entry each codec is written under.
MP4_TAGS = {"ac3": "ac-3", "eac3": "ec-3", "dts": "dtsc"}


def source(codec: str, container: str) -> Path:
    return make(f"copy-{codec}.{container}", *TONE, *ENCODE[codec])


async def copy(
    src: Path, out: Path, container: str, **options: str
) -> list[tuple[str, str | None]]:
    sink = FileSink(out)
    try:
        result = await convert_media(str(src), container, sink=sink, **options)
    finally:
        sink.close()
    return [(t.action, t.output_codec) for t in result.tracks]


def decoded_md5(path: Path) -> str:
    """The MD5 of the whole decoded audio as s32 stereo, whatever the sample format."""
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a",
           "-f", "s32le", "-ac", "2", "-"]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, check=True)
    return hashlib.md5(result.stdout).hexdigest()


#: (codec, source container, output container); DTS in MPEG-TS is the TS reader's part.
COPIES = [
    *((codec, src, out) for codec in ("ac3", "eac3", "dts")
      for src, out in (("mp4", "mkv"), ("mkv", "mp4"), ("mp4", "mp4"))),
    *((codec, "ts", out) for codec in ("ac3", "eac3") for out in ("mp4", "mkv")),
]  # fmt: skip


@pytest.mark.parametrize(("codec", "source_container", "target"), COPIES)
async def test_surround_codecs_copy_under_their_own_name(
    codec: str, source_container: str, target: str, tmp_path: Path
) -> None:
    src = source(codec, source_container)
    out = tmp_path / f"out.{target}"
    assert await copy(src, out, target) == [("copy", codec)]
    (stream,) = ffprobe_streams(out)
    assert stream["codec_name"] == codec
    assert (stream["sample_rate"], stream["channels"]) == ("48000", 2)
    if target == "mp4":
        assert stream["codec_tag_string"] == MP4_TAGS[codec]
    assert decode_errors(out) == ""
    assert stream_hashes(out) == stream_hashes(src)


async def test_dts_in_mp4a_is_read_as_dts_not_aac() -> None:
    """ffmpeg stores DTS in MP4 as ``mp4a`` with esds objectTypeIndication 0xA9."""
    src = source("dts", "mp4")
    assert ffprobe_streams(src)[0]["codec_tag_string"] == "mp4a"
    info = await parse_media(str(src))
    (track,) = info.tracks
    assert (track.codec, track.codec_string) == ("dts", "mp4a.a9")


async def test_an_unknown_object_type_keeps_its_own_name_and_is_never_copied_as_another(
    tmp_path: Path,
) -> None:
    data = bytearray(source("dts", "mp4").read_bytes())
    decoder_config = data.index(b"\x04", data.index(b"esds") + 8)  # DecoderConfigDescriptor
    at = data.index(b"\xa9", decoder_config)
    data[at] = 0xC0  # user private (MP4RA object types)
    path = tmp_path / "private.mp4"
    path.write_bytes(bytes(data))
    info = await parse_media(str(path))
    assert [(t.codec, t.codec_string) for t in info.tracks] == [("mp4a.c0", "mp4a.c0")]
    assert any("unknown object type 0xC0" in warning for warning in info.warnings)
    with pytest.raises(UnsupportedError, match=r"cannot hold mp4a\.c0"):
        await copy(path, tmp_path / "out.mkv", "mkv", audio_codec="copy")


@pytest.mark.parametrize("codec", ["ac3", "eac3"])
def test_dac3_and_dec3_equal_what_ffmpeg_writes(codec: str) -> None:
    """The box made from the first syncframe is byte for byte ffmpeg's (its movenc also
    writes it from the bitstream)."""
    data = source(codec, "mp4").read_bytes()
    name = b"dac3" if codec == "ac3" else b"dec3"
    at = data.index(name)
    ffmpeg_body = data[at + 4 : at - 4 + int.from_bytes(data[at - 4 : at], "big")]
    frame = data[data.index(b"\x0b\x77", data.index(b"mdat")) :]
    syncframe = parse_syncframe(frame)
    assert syncframe is not None
    ours = dac3_body(syncframe) if codec == "ac3" else dec3_body(frame[: syncframe.size])
    assert ours == ffmpeg_body


def test_ddts_describes_the_core_frame() -> None:
    data = source("dts", "mkv").read_bytes()
    core = parse_core_frame(data[data.index(b"\x7f\xfe\x80\x01") :])
    assert core is not None
    assert (core.sample_rate, core.channels, core.samples, core.lfe) == (48000, 2, 512, False)
    body = ddts_body(core, 1411200)
    assert len(body) == 20 and body[:4] == (48000).to_bytes(4, "big")
    assert body[-3:-1] == (0x2).to_bytes(2, "big")  # ChannelLayout: L and R


PCM = ["pcm_s16le", "pcm_s24le", "pcm_s32le", "pcm_f32le", "pcm_u8"]


@pytest.mark.parametrize("codec", PCM)
async def test_pcm_from_wav_copies_into_mp4_with_the_same_samples(
    codec: str, tmp_path: Path
) -> None:
    src = make(f"copy-{codec}.wav", *TONE, "-c:a", codec)
    out = tmp_path / "out.mp4"
    assert await copy(src, out, "mp4") == [("copy", codec)]
    (stream,) = ffprobe_streams(out)
    assert stream["codec_name"] == codec
    assert decode_errors(out) == ""
    assert decoded_md5(out) == decoded_md5(src)
    # ...and back: the MP4 reader names the sample entry it wrote the same way.
    (track,) = (await parse_media(str(out))).tracks
    assert track.codec == codec


@pytest.mark.parametrize(
    ("codec", "targets"),
    [("pcm_s16be", ("mkv", "mp4")), ("pcm_s24be", ("mkv", "mp4")),
     ("pcm_s24le", ("mkv", "mp4")), ("pcm_f32le", ("mkv", "mp4")),
     ("pcm_s8", ("mp4",))],  # ffmpeg writes it as 8-bit sowt: signed, not 16-bit
)  # fmt: skip
async def test_pcm_from_mov_copies_with_its_sample_format(
    codec: str, targets: tuple[str, ...], tmp_path: Path
) -> None:
    src = make(f"copy-{codec}.mov", *TONE, "-c:a", codec)
    (track,) = (await parse_media(str(src))).tracks
    assert track.codec == codec
    for target in targets:
        out = tmp_path / f"out.{target}"
        assert await copy(src, out, target) == [("copy", codec)]
        assert ffprobe_streams(out)[0]["codec_name"] == codec
        assert decoded_md5(out) == decoded_md5(src)


@pytest.mark.parametrize("codec", ["ac3", "eac3", "dts"])
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_a_damaged_first_frame_is_refused_by_name_never_crashes(
    codec: str, data: st.DataObject
) -> None:
    """The MP4 writer's box comes from the first packet: damage gives a description or an
    UnsupportedError naming the track, nothing else."""
    whole = source(codec, "mkv").read_bytes()
    sync = b"\x7f\xfe\x80\x01" if codec == "dts" else b"\x0b\x77"
    frame = bytearray(whole[whole.index(sync) :][:1200])
    del frame[data.draw(st.integers(0, len(frame))) :]
    for _ in range(data.draw(st.integers(0, 4))):
        if frame:
            frame[data.draw(st.integers(0, len(frame) - 1))] = data.draw(st.integers(0, 255))
    track = AudioTrack(id=3, codec=codec, codec_string=codec, timescale=48000,
                       sample_rate=48000, channels=2)  # fmt: skip
    try:
        described = with_in_band_config(track, bytes(frame))
    except UnsupportedError as exc:
        assert f"{codec} track 3" in str(exc)
    else:
        assert described.description
