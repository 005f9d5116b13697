"""The MP3 reader against ffprobe, packet by packet: LAME VBR/CBR with and without a
Xing/Info frame, MPEG-2 and 2.5 rates, Layer II, junk between frames, ID3v2.2/2.3/2.4
tags (unsynchronisation, extended header, footer, a 1 MB cover), ID3v1, broken files."""

from __future__ import annotations

import random
import struct
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from demux_check import assert_packets_match_ffprobe, demux
from oracle import (
    FIXTURES,
    decode_errors,
    ffprobe_format,
    ffprobe_packets,
    ffprobe_streams,
    make,
    stream_hashes,
)
from pywebcodecs import convert_media
from pywebcodecs.errors import FormatError
from pywebcodecs.formats import SNIFF_SIZE, demuxer_classes, open_demuxer
from pywebcodecs.id3 import id3v2_size
from pywebcodecs.mp3.demuxer import Mp3Demuxer
from pywebcodecs.mpegts.audio_frames import forbidden_layer2_mode
from pywebcodecs.reader import Reader
from pywebcodecs.sink import FileSink
from pywebcodecs.source import BytesSource, FileSource
from pywebcodecs.track import Packet

SINE = ["-f", "lavfi", "-i", "sine=duration=1.5:sample_rate=44100"]

VARIANTS = {
    "cbr.mp3": [*SINE, "-c:a", "libmp3lame", "-b:a", "128k"],
    "cbr-10s.mp3": ["-f", "lavfi", "-i", "sine=duration=10", "-c:a", "libmp3lame", "-b:a", "128k"],
    "vbr.mp3": [*SINE, "-ac", "2", "-c:a", "libmp3lame", "-q:a", "4"],
    "no-xing.mp3": [*SINE, "-c:a", "libmp3lame", "-write_xing", "0"],
    "mpeg2-mono.mp3": [*SINE, "-ar", "22050", "-c:a", "libmp3lame"],
    "mpeg25.mp3": [*SINE, "-ar", "8000", "-c:a", "libmp3lame"],
    "id3v23-v1.mp3": [*SINE, "-c:a", "libmp3lame", "-id3v2_version", "3", "-write_id3v1", "1",
                      "-metadata", "title=Tïtle", "-metadata", "artist=Someone",
                      "-metadata", "date=2021"],
    "layer2.mp2": [*SINE, "-c:a", "mp2"],
}  # fmt: skip


def variant(name: str) -> Path:
    return make(f"mp3-{name}", *VARIANTS[name])


class Mp3AsFfprobe(Mp3Demuxer):
    """Our packets dated as ffprobe dates them: it shows a LAME tag's priming as the
    stream's ``start_time`` with packets from 0, we as packets from minus the priming (the
    MP4 reader's way with AAC's edit list, which the engine cuts before 0)."""

    async def packets(self) -> AsyncIterator[Packet]:
        lead_in = self.tracks[0].lead_in
        async for packet in super().packets():
            packet.pts += lead_in
            packet.dts += lead_in
            yield packet


async def match_ffprobe(path: Path) -> Mp3Demuxer:
    """ffprobe's packets (moved by the priming), and its start_time is the priming."""
    demuxer = await assert_packets_match_ffprobe(path, demuxer_class=Mp3AsFfprobe)
    assert isinstance(demuxer, Mp3Demuxer)
    assert demuxer.tracks[0].lead_in == ffprobe_start(path)
    return demuxer


def ffprobe_start(path: Path) -> int:
    """ffprobe's start time (the LAME tag's priming) in its time base, 1/14112000 s."""
    return int(ffprobe_streams(path)[0].get("start_pts", 0))


@pytest.mark.parametrize("name", sorted(VARIANTS))
async def test_generated_variants_match_ffprobe(name: str) -> None:
    demuxer = await match_ffprobe(variant(name))
    assert demuxer.format_name == "mp3"
    assert demuxer.tracks[0].codec_string == ("mp4a.6B" if name.endswith(".mp2") else "mp3")


async def test_fixture_matches_ffprobe_and_takes_its_duration_from_the_xing_frame() -> None:
    path = FIXTURES / "Toothsome-Meme.VBRv2.mp3"
    demuxer = await match_ffprobe(path)
    assert demuxer.duration == pytest.approx(float(ffprobe_format(path)["duration"]), abs=1e-6)
    assert demuxer.tags["date"] == "2023-09-15 16:58"  # TYER + TDAT + TIME, as ffprobe joins


async def test_opening_reads_the_head_and_tail_not_the_frames_between() -> None:
    """The fixture ten times over, joined by ffmpeg (its new Xing frame counts them all): the
    duration comes from the Xing frame, so opening never walks the frames."""
    source = FIXTURES / "Toothsome-Meme.VBRv2.mp3"
    path = make("mp3-ten-times.mp3", "-stream_loop", "9", "-i", str(source), "-c", "copy")
    reader = await Reader.open(FileSource(path), window=64 * 1024)
    demuxer = await open_demuxer(reader)
    assert demuxer.duration == pytest.approx(float(ffprobe_format(path)["duration"]), abs=1e-6)
    assert reader.bytes_fetched <= 4 * reader.window < reader.size / 10


async def test_id3v2_and_id3v1_tags_are_read() -> None:
    demuxer, _ = await demux(variant("id3v23-v1.mp3"))
    assert demuxer.tags["title"] == "Tïtle" and demuxer.tags["artist"] == "Someone"
    assert demuxer.tags["date"] == "2021"


async def test_junk_between_frames_goes_with_the_next_frame_as_in_ffprobe(
    tmp_path: Path,
) -> None:
    data = variant("cbr.mp3").read_bytes()
    at = data.find(b"\xff\xfb", 2000)
    path = tmp_path / "junk.mp3"
    path.write_bytes(data[:at] + b"\x00junk\xff\xfb\x00garbage" * 3 + data[at:])
    await match_ffprobe(path)


async def test_cut_off_last_frame_is_dropped_with_a_warning(tmp_path: Path) -> None:
    # ffprobe delivers the partial last frame as a packet; we keep only whole frames.
    path = tmp_path / "cut.mp3"
    data = variant("cbr.mp3").read_bytes()
    path.write_bytes(data[:-100])
    with pytest.warns(UserWarning, match="cut off"):
        _, packets = await demux(path)
    theirs = ffprobe_packets(path)
    lead_in = ffprobe_start(path)
    assert [(p.pts + lead_in, len(p.data)) for p in packets] == [
        (p.pts, p.size) for p in theirs[:-1]
    ]


async def test_vbri_frame_is_skipped_and_gives_the_duration(tmp_path: Path) -> None:
    data = variant("no-xing.mp3").read_bytes()
    start = id3v2_size(data) or 0
    first = Mp3Demuxer.parse_frame(data, start)
    assert first is not None
    vbri = bytearray(first.end - start)
    vbri[:4] = data[start : start + 4]
    vbri[36:54] = b"VBRI" + struct.pack(">HHHII", 1, 0, 75, 0, 1000)
    path = tmp_path / "vbri.mp3"
    path.write_bytes(data[:start] + vbri + data[start:])
    demuxer = await match_ffprobe(path)
    assert demuxer.duration == pytest.approx(1000 * 1152 / 44100)


async def test_junk_before_the_first_frame_is_skipped(tmp_path: Path) -> None:
    data = variant("cbr.mp3").read_bytes()
    start = id3v2_size(data) or 0
    path = tmp_path / "lead.mp3"
    path.write_bytes(data[:start] + b"\xff\xff\xff noise \x00\xff\xe0\x00" * 3 + data[start:])
    # ffmpeg looks for the Xing frame only right after the ID3 tag, so it decodes the
    # priming here; we find the frame after the junk and still drop it.
    demuxer = await assert_packets_match_ffprobe(path, demuxer_class=Mp3AsFfprobe)
    assert ffprobe_start(path) == 0
    assert demuxer.tracks[0].lead_in == ffprobe_start(variant("cbr.mp3"))


def syncsafe(value: int) -> bytes:
    return bytes((value >> shift) & 0x7F for shift in (21, 14, 7, 0))


def id3_frame(version: int, frame_id: bytes, body: bytes, flags: int = 0) -> bytes:
    if version == 2:
        return frame_id + len(body).to_bytes(3, "big") + body
    size = syncsafe(len(body)) if version == 4 else len(body).to_bytes(4, "big")
    return frame_id + size + flags.to_bytes(2, "big") + body


def id3_tag(version: int, frames: bytes, flags: int = 0, extended: bytes = b"") -> bytes:
    body = extended + frames
    tag = b"ID3" + bytes([version, 0, flags]) + syncsafe(len(body)) + body
    return tag + (b"3DI" + tag[3:10] if flags & 0x10 else b"")


def bare_frames() -> bytes:
    """The CBR variant's audio without its ID3v2 tag."""
    data = variant("cbr.mp3").read_bytes()
    return data[id3v2_size(data) or 0 :]


def apic(version: int, picture: bytes) -> bytes:
    if version == 2:
        return id3_frame(2, b"PIC", b"\x00JPG\x03cover\x00" + picture)
    return id3_frame(version, b"APIC", b"\x00image/jpeg\x00\x03cover\x00" + picture)


TAG_CASES = {
    "v2.2": id3_tag(2, id3_frame(2, b"TT2", b"\x00Title") + id3_frame(2, b"TP1", b"\x03Artist")
                    + apic(2, b"\xff\xd8\xff\xe0jpeg")),
    "v2.3-utf16": id3_tag(3, id3_frame(3, b"TIT2", b"\x01" + "Title".encode("utf-16"))
                          + id3_frame(3, b"TPE1", b"\x00Artist") + apic(3, b"\xff\xd8\xffjpeg")),
    "v2.3-unsynchronised": id3_tag(3, (id3_frame(3, b"TIT2", b"\x00Title")
                                       + id3_frame(3, b"TPE1", b"\x00Artist")
                                       + apic(3, b"\xff\xd8\xffjpeg")).replace(b"\xff",
                                                                               b"\xff\x00"),
                                   flags=0x80),
    "v2.3-extended": id3_tag(3, id3_frame(3, b"TIT2", b"\x00Title")
                             + id3_frame(3, b"TPE1", b"\x00Artist")
                             + apic(3, b"\xff\xd8\xffjpeg"), flags=0x40,
                             extended=struct.pack(">IHI", 6, 0, 0)),
    "v2.4-footer": id3_tag(4, id3_frame(4, b"TIT2", b"\x03Title")
                           + id3_frame(4, b"TPE1", b"\x03Artist")
                           + apic(4, b"\xff\xd8\xffjpeg"), flags=0x10 | 0x40,
                           extended=syncsafe(6) + b"\x01\x00"),
    "v2.4-frame-unsync": id3_tag(4, id3_frame(4, b"TIT2", b"\x03Title")
                                 + id3_frame(4, b"TPE1", b"\x03Artist")
                                 + id3_frame(4, b"APIC", b"\x00image/jpeg\x00\x03cover\x00"
                                             b"\xff\x00\xd8\xff\x00\xffjpeg", flags=0x0002)),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(TAG_CASES))
async def test_id3v2_versions_and_flags_give_tags_cover_and_ffprobe_packets(
    case: str, tmp_path: Path
) -> None:
    path = tmp_path / "tagged.mp3"
    path.write_bytes(TAG_CASES[case] + bare_frames())
    demuxer, packets = await demux(path)
    theirs = [p for p in ffprobe_packets(path) if p.stream_index == 0]  # 1: the picture
    lead_in = ffprobe_start(path)
    assert [(p.pts + lead_in, len(p.data)) for p in packets] == [(p.pts, p.size) for p in theirs]
    assert (demuxer.tags["title"], demuxer.tags["artist"]) == ("Title", "Artist")
    assert demuxer.images[0].mime_type == "image/jpeg"
    assert demuxer.images[0].data[:3] == b"\xff\xd8\xff"


async def test_a_one_megabyte_cover_is_read(tmp_path: Path) -> None:
    picture = b"\xff\xd8\xff\xe0" + random.Random(1).randbytes(1_100_000)
    frames = id3_frame(4, b"TIT2", b"\x03Title") + apic(4, picture)
    path = tmp_path / "cover.mp3"
    path.write_bytes(id3_tag(4, frames) + bare_frames())
    demuxer, packets = await demux(path)
    assert [image.data for image in demuxer.images] == [picture]
    theirs = [p for p in ffprobe_packets(path) if p.stream_index == 0]
    lead_in = ffprobe_start(path)
    assert [(p.pts + lead_in, len(p.data)) for p in packets] == [(p.pts, p.size) for p in theirs]


async def open_bytes(data: bytes, name: str = "test.mp3") -> list:
    demuxer = await open_demuxer(await Reader.open(BytesSource(data, name=name)))
    return [p async for p in demuxer.packets()]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\x00" * 5000, "no MPEG audio frame found"),
        (b"ID3\x03\x00\x00\x00\x00\x7f\x7f", "ends inside the ID3v2 tag"),
        (
            b"ID3\x03\x00\x40\x00\x00\x00\x02\x00\x00" + b"\xff\xfb\x90\x64" * 8,
            "extended header is cut off",
        ),
    ],
)
async def test_broken_files_give_specific_errors(data: bytes, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        await open_bytes(data, "bad.mp3")


async def test_the_fixture_copies_into_mp4_with_the_same_frames(tmp_path: Path) -> None:
    source = FIXTURES / "Toothsome-Meme.VBRv2.mp3"
    out = tmp_path / "copy.mp4"
    sink = FileSink(out)
    try:
        await convert_media(str(source), "mp4", sink=sink)
    finally:
        sink.close()
    assert stream_hashes(out) == stream_hashes(source)
    assert decode_errors(out) == ""


@pytest.mark.parametrize("container", ["mkv", "mp4"])
async def test_a_frame_cut_by_a_bad_join_is_dropped_with_a_warning(
    container: str, tmp_path: Path
) -> None:
    """Frame 20 cut in half with frame 21 glued on: ffmpeg's decoder stumbles on it; the
    reader drops it, says so, and the copy decodes cleanly."""
    data = variant("cbr.mp3").read_bytes()
    _, frames = await demux(variant("cbr.mp3"))
    cut = frames[20].data
    at = data.index(cut)
    path = tmp_path / "joined.mp3"
    path.write_bytes(data[: at + len(cut) // 2] + data[at + len(cut) :])
    assert decode_errors(path) != ""
    demuxer, packets = await demux(path)
    assert [p.data for p in packets] == [f.data for f in frames if f is not frames[20]]
    (warning,) = demuxer.warnings
    assert "joined.mp3" in warning and "bad join" in warning and str(at) in warning
    out = tmp_path / f"copy.{container}"
    sink = FileSink(out)
    try:
        result = await convert_media(str(path), container, sink=sink)
    finally:
        sink.close()
    assert any("bad join" in w for w in result.warnings)
    assert decode_errors(out) == ""


def junk_then_frames(frames_of: Path, junk_size: int) -> bytes:
    """``junk_size`` random bytes (some of them 0xFF sync bytes), then the frames of
    ``frames_of`` without its ID3v2 tag: no tag says that an MPEG audio file follows."""
    data = frames_of.read_bytes()
    junk = random.Random(junk_size).randbytes(junk_size)
    return junk + data[id3v2_size(data) or 0 :]


@pytest.mark.parametrize(
    ("name", "junk_size"), [("cbr.mp3", 700), ("layer2.mp2", 2000), ("cbr-10s.mp3", 60_000)]
)
async def test_junk_before_the_first_frame_without_a_tag_is_skipped_with_a_warning(
    name: str, junk_size: int, tmp_path: Path
) -> None:
    """Up to 64 KiB of junk, when the frames fill at least half of the first 128 KiB (a
    longer file for the most junk), as ffmpeg's probe asks."""
    path = tmp_path / f"junk-{name}"
    path.write_bytes(junk_then_frames(variant(name), junk_size))
    demuxer, _ = await demux(path)
    assert isinstance(demuxer, Mp3Demuxer)
    (warning,) = demuxer.warnings
    assert f"junk-{name}" in warning and f"{junk_size} bytes before the first" in warning
    await assert_packets_match_ffprobe(path, demuxer_class=Mp3AsFfprobe)


def other_files() -> dict[str, bytes]:
    """Files that hold MPEG audio or look like noise but are not MP3 files."""
    rng = random.Random(11)
    files = {f"random-{i}.bin": rng.randbytes(64 << 10) for i in range(8)}
    files["sync-bytes.bin"] = bytes(rng.choice((0xFF, 0xFB, 0xE3, 0x90)) for _ in range(1 << 16))
    files["pcm.raw"] = make("sine-s16le.raw", *SINE, "-f", "s16le").read_bytes()
    files["image.jpg"] = make("testsrc.jpg", "-f", "lavfi", "-i", "testsrc=size=320x240",
                              "-frames:v", "1").read_bytes()  # fmt: skip
    return files


@pytest.mark.parametrize("name", sorted(other_files()))
async def test_other_files_are_not_taken_for_mp3(name: str) -> None:
    with pytest.raises(FormatError, match="not a media file"):
        await open_bytes(other_files()[name], name)


@pytest.mark.parametrize(
    ("name", "args", "container"),
    [
        ("mp3-in.wav", ["-c:a", "libmp3lame"], "wav"),
        ("mp2-in.ts", ["-c:a", "mp2", "-f", "mpegts"], "mpegts"),
        ("aac.aac", ["-c:a", "aac", "-f", "adts"], "adts"),
        ("mp3-in.avi", ["-c:a", "libmp3lame"], "avi"),
    ],
)
def test_other_formats_holding_mpeg_audio_keep_their_format(
    name: str, args: list[str], container: str
) -> None:
    """Detection picks the real format (whose reader may then refuse the file, as the WAV
    reader refuses MP3 in WAV), not MP3 for the frames further on."""
    head = make(name, *SINE, *args).read_bytes()[:SNIFF_SIZE]
    taken = next(cls for cls in demuxer_classes() if cls.sniff(head))
    assert taken.format_name == container


@pytest.mark.parametrize(
    ("channels", "bitrate", "forbidden"),
    [
        (1, "384k", "384 kbit/s in mono"),
        (1, "224k", "224 kbit/s in mono"),
        (2, "80k", "80 kbit/s in two channels"),
        (1, "192k", None),
        (1, "80k", None),
        (2, "384k", None),
    ],
)
async def test_layer2_bitrates_a_mode_may_not_use_are_told(
    channels: int, bitrate: str, forbidden: str | None
) -> None:
    """ISO/IEC 11172-3's table of Layer II bitrate and mode combinations: ffmpeg writes
    the forbidden ones too, so they come from it, read by the reader."""
    path = make(f"layer2-{channels}ch-{bitrate}.mp2", *SINE, "-ac", str(channels), "-c:a", "mp2",
                "-b:a", bitrate)  # fmt: skip
    _, packets = await demux(path)
    told = forbidden_layer2_mode(packets[0].data)
    if forbidden is None:
        assert told is None
    else:
        assert told is not None and forbidden in told and "ISO/IEC 11172-3" in told
