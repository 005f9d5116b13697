"""The MP4/MOV reader against ffprobe, packet by packet, on the fixtures and on files
ffmpeg makes for each variant the reader handles."""

from __future__ import annotations

import struct
from pathlib import Path

import av
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from demux_check import assert_clean_or_format_error, assert_packets_match_ffprobe, demux
from oracle import FIXTURES, ffprobe_json, ffprobe_streams, make
from pywebcodecs.errors import FormatError
from pywebcodecs.isobmff.demuxer import IsobmffDemuxer
from pywebcodecs.reader import Reader
from pywebcodecs.source import BytesSource, FileSource
from pywebcodecs.track import ColorInfo, VideoTrack

VIDEO = ["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25:duration=2"]
AUDIO = ["-f", "lavfi", "-i", "sine=duration=2:sample_rate=44100"]

VARIANTS = {
    "bframes.mp4": [*VIDEO, *AUDIO, "-c:v", "libx264", "-bf", "2", "-c:a", "aac"],
    "fragmented.mp4": [*VIDEO, *AUDIO, "-c:v", "libx264", "-g", "10", "-c:a", "aac",
                       "-movflags", "frag_keyframe+empty_moov"],
    "fragmented-base-moof.mp4": [*VIDEO, *AUDIO, "-c:v", "libx264", "-g", "10", "-c:a", "aac",
                                 "-movflags", "frag_keyframe+empty_moov+default_base_moof"],
    "quicktime.mov": [*VIDEO, *AUDIO, "-c:v", "libx264", "-c:a", "aac"],
    "odd-size.mp4": ["-f", "lavfi", "-i", "testsrc2=size=162x122:rate=30:duration=1",
                     "-c:v", "libx264"],
    # testsrc2 rounds sizes to even, and 4:2:0 H.264 cannot be odd: scale, then 4:4:4.
    "odd-161x121.mp4": [*VIDEO, "-vf", "scale=161:121", "-c:v", "libx264",
                        "-pix_fmt", "yuv444p"],
    "avc3.mp4": [*VIDEO, "-c:v", "libx264", "-tag:v", "avc3"],
    "hev1.mp4": [*VIDEO, "-c:v", "libx265", "-x265-params", "log-level=error"],
    "two-audio.mp4": [*VIDEO, *AUDIO, "-f", "lavfi", "-i", "sine=duration=2:frequency=800",
                      "-map", "0", "-map", "1", "-map", "2", "-c:v", "libx264", "-c:a", "aac"],
    "hevc.mp4": [*VIDEO, "-c:v", "libx265", "-x265-params", "log-level=error", "-tag:v", "hvc1"],
    "vp9.mp4": [*VIDEO, "-c:v", "libvpx-vp9"],
    "av1.mp4": ["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25:duration=1",
                "-c:v", "libaom-av1", "-cpu-used", "8"],
    "opus.mp4": [*AUDIO, "-c:a", "libopus"],
    "flac.mp4": [*AUDIO, "-c:a", "flac", "-strict", "-2"],
    "mp3.mp4": [*AUDIO, "-c:a", "libmp3lame"],
    "ac3.mp4": [*AUDIO, "-c:a", "ac3"],
    "pcm.mov": [*AUDIO, "-c:a", "pcm_s16le"],
    "mono-8k.m4a": ["-f", "lavfi", "-i", "sine=duration=1:sample_rate=8000", "-c:a", "aac"],
    "surround-96k.mp4": ["-f", "lavfi", "-i", "sine=duration=1:sample_rate=96000", "-af",
                         "pan=5.1|c0=c0|c1=c0|c2=c0|c3=c0|c4=c0|c5=c0", "-c:a", "aac"],
}  # fmt: skip


#: Variants the MP4 writer holds only through the copy tests (test_audio_codec_copy.py).
READ_ONLY_VARIANTS = {
    f"pcm-{codec}.mov": [*AUDIO, "-c:a", codec]
    for codec in ("pcm_s16be", "pcm_s24be", "pcm_s24le", "pcm_s32be", "pcm_f32be", "pcm_f32le",
                  "pcm_u8", "pcm_mulaw", "pcm_alaw")
} | {
    "eac3.mp4": [*AUDIO, "-c:a", "eac3"],
    "mp3.mov": ["-f", "lavfi", "-i", "sine=duration=2:sample_rate=44100", "-ac", "2",
                "-c:a", "libmp3lame"],
    "pcm-stereo-48k.mov": ["-f", "lavfi", "-i", "sine=duration=1:sample_rate=48000", "-ac", "2",
                           "-c:a", "pcm_s16le"],
    # Past 65535 Hz a QuickTime sound description needs version 2 (lpcm and its flags).
    "pcm-96k.mov": ["-f", "lavfi", "-i", "sine=duration=1:sample_rate=96000", "-c:a", "pcm_s24le"],
    "pcm-96k-float.mov": ["-f", "lavfi", "-i", "sine=duration=1:sample_rate=96000",
                          "-c:a", "pcm_f32be"],
}  # fmt: skip


#: Timelines and layouts: edit lists, negative composition offsets, fragment indexes.
TIMELINE_VARIANTS = {
    "delayed-audio.mp4": [*VIDEO, "-itsoffset", "0.5", *AUDIO, "-c:v", "libx264", "-c:a", "aac"],
    "negative-cts.mp4": [*VIDEO, "-c:v", "libx264", "-bf", "2", "-movflags",
                         "negative_cts_offsets"],
    "fragmented-negative-cts.mp4": [*VIDEO, "-c:v", "libx264", "-bf", "2", "-g", "10",
                                    "-movflags", "frag_keyframe+empty_moov+negative_cts_offsets"],
    "fragmented-first-in-moov.mp4": [*VIDEO, *AUDIO, "-c:v", "libx264", "-g", "10", "-c:a", "aac",
                                     "-movflags", "frag_keyframe"],
    "fragmented-sidx.mp4": [*VIDEO, "-c:v", "libx264", "-g", "10", "-movflags",
                            "frag_keyframe+empty_moov+default_base_moof+global_sidx"],
    "dash.mp4": [*VIDEO, *AUDIO, "-c:v", "libx264", "-g", "10", "-c:a", "aac", "-movflags",
                 "dash+frag_keyframe"],
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(TIMELINE_VARIANTS))
async def test_timeline_variants_match_ffprobe(name: str) -> None:
    await assert_packets_match_ffprobe(make(f"isobmff-{name}", *TIMELINE_VARIANTS[name]))


@pytest.mark.parametrize("name", sorted(READ_ONLY_VARIANTS))
async def test_read_only_codec_variants_match_ffprobe(name: str) -> None:
    await assert_packets_match_ffprobe(make(f"isobmff-{name}", *READ_ONLY_VARIANTS[name]))


@pytest.mark.parametrize("name", ["video.mp4", "edts.mp4"])
async def test_fixtures_match_ffprobe(name: str) -> None:
    await assert_packets_match_ffprobe(FIXTURES / name)


@pytest.mark.parametrize("name", sorted(VARIANTS))
async def test_generated_variants_match_ffprobe(name: str) -> None:
    path = make(f"isobmff-{name}", *VARIANTS[name])
    await assert_packets_match_ffprobe(path, check_channels=name != "mp3.mp4")


async def test_aac_priming_from_the_edit_list_starts_audio_before_zero() -> None:
    demuxer, packets = await demux(make("isobmff-bframes.mp4", *VARIANTS["bframes.mp4"]))
    audio = next(t for t in demuxer.tracks if t.kind == "audio")
    first = next(p for p in packets if p.track_id == audio.id)
    assert first.pts == -1024
    video = next(t for t in demuxer.tracks if t.kind == "video")
    assert min(p.pts for p in packets if p.track_id == video.id) == 0
    assert min(p.dts for p in packets if p.track_id == video.id) < 0


async def test_colour_and_pixel_aspect_come_from_colr_and_pasp() -> None:
    path = make("isobmff-colour.mp4", *VIDEO, "-vf", "setsar=4/3", "-c:v", "libx264",
                "-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709",
                "-color_range", "pc")  # fmt: skip
    demuxer, _ = await demux(path)
    track = demuxer.tracks[0]
    assert isinstance(track, VideoTrack)
    assert track.color == ColorInfo("bt709", "bt709", "bt709", True)
    assert track.pixel_aspect == (4, 3) and track.display_width == 160 * 4 // 3
    stream = ffprobe_streams(path)[0]
    assert stream["sample_aspect_ratio"] == "4:3" and stream["color_range"] == "pc"


def rotated(path: Path, out: Path) -> Path:
    """A copy with the video tkhd matrix set to a 90° clockwise display rotation."""
    data = bytearray(path.read_bytes())
    at = data.index(b"tkhd")
    matrix = at + 4 + 4 + (32 if data[at + 4] == 1 else 20) + 16
    struct.pack_into(">9i", data, matrix, 0, 65536, 0, -65536, 0, 0, 0, 0, 1 << 30)
    out.write_bytes(data)
    return out


async def test_rotation_comes_from_the_track_matrix(tmp_path: Path) -> None:
    path = rotated(make("isobmff-bframes.mp4", *VARIANTS["bframes.mp4"]), tmp_path / "r.mp4")
    side_data = ffprobe_json(path, "-show_streams")["streams"][0]["side_data_list"][0]
    assert side_data["rotation"] == -90  # ffprobe counts counter-clockwise
    demuxer, _ = await demux(path)
    assert demuxer.tracks[0].rotation == 90


def ffmpeg_extradata(path: Path) -> list[bytes]:
    with av.open(str(path)) as container:
        return [bytes(stream.codec_context.extradata or b"") for stream in container.streams]


@pytest.mark.parametrize(
    "name",
    ["bframes.mp4", "quicktime.mov", "hevc.mp4", "av1.mp4", "opus.mp4", "flac.mp4",
     "mono-8k.m4a", "surround-96k.mp4", "fragmented.mp4"],
)  # fmt: skip
async def test_descriptions_are_the_decoder_configs_ffmpeg_reads(name: str) -> None:
    path = make(f"isobmff-{name}", *VARIANTS[name])
    demuxer, _ = await demux(path)
    for track, extradata in zip(demuxer.tracks, ffmpeg_extradata(path), strict=True):
        assert track.description is not None
        if track.codec == "flac":  # WebCodecs wants the stream marker and block header too
            assert track.description[:4] == b"fLaC" and track.description[8:] == extradata
        else:
            assert track.description == extradata


@pytest.mark.parametrize(
    ("name", "prefix", "has_description"),
    [("avc3.mp4", "avc3.", True), ("hev1.mp4", "hev1.", True), ("hevc.mp4", "hvc1.", True)],
)
async def test_in_band_parameter_set_entries_keep_their_codec_string_prefix(
    name: str, prefix: str, has_description: bool
) -> None:
    demuxer, _ = await demux(make(f"isobmff-{name}", *VARIANTS[name]))
    track = demuxer.tracks[0]
    assert track.codec_string.startswith(prefix)
    assert (track.description is not None) == has_description


CONTAINER_BOXES = {b"moov", b"trak", b"mdia", b"minf", b"stbl"}


def stco_to_co64(body: bytes) -> bytes:
    """The boxes in ``body`` with every stco rewritten as a co64 holding the same offsets."""
    out, pos = b"", 0
    while pos < len(body):
        size, kind = struct.unpack_from(">I4s", body, pos)
        inner = body[pos + 8 : pos + size]
        if kind in CONTAINER_BOXES:
            inner = stco_to_co64(inner)
        elif kind == b"stco":
            (count,) = struct.unpack_from(">I", inner, 4)
            offsets = struct.unpack_from(f">{count}I", inner, 8)
            kind, inner = b"co64", inner[:8] + struct.pack(f">{count}Q", *offsets)
        out += struct.pack(">I4s", len(inner) + 8, kind) + inner
        pos += size
    return out


async def test_64_bit_chunk_offsets_read_like_32_bit_ones(tmp_path: Path) -> None:
    # ffmpeg writes co64 only past 4 GiB; with the moov at the end, growing it moves nothing.
    original = make("isobmff-bframes.mp4", *VARIANTS["bframes.mp4"])
    data = original.read_bytes()
    at = data.index(b"moov") - 4
    assert at + int.from_bytes(data[at : at + 4], "big") == len(data)
    co64 = tmp_path / "co64.mp4"
    co64.write_bytes(data[:at] + stco_to_co64(data[at:]))
    assert b"co64" in co64.read_bytes() and b"stco" not in co64.read_bytes()
    await assert_packets_match_ffprobe(co64)
    _, ours = await demux(co64)
    _, theirs = await demux(original)
    assert ours == theirs


def cover_png() -> Path:
    return make("isobmff-cover.png", "-f", "lavfi", "-i", "color=c=red:size=8x8",
                "-frames:v", "1")  # fmt: skip


async def test_itunes_tags_and_cover_art_are_read() -> None:
    path = make("isobmff-tagged.m4a", "-f", "lavfi", "-i", "sine=duration=0.5",
                "-i", str(cover_png()), "-map", "0", "-map", "1", "-c:a", "aac",
                "-c:v", "png", "-disposition:v", "attached_pic", "-metadata", "title=Tïtle",
                "-metadata", "artist=Someone", "-metadata", "album=Disc")  # fmt: skip
    demuxer, _ = await demux(path)
    assert demuxer.container == "m4a"
    assert demuxer.tags["title"] == "Tïtle"
    assert demuxer.tags["artist"] == "Someone" and demuxer.tags["album"] == "Disc"
    assert [image.mime_type for image in demuxer.images] == ["image/png"]
    assert demuxer.images[0].data.startswith(b"\x89PNG")


async def test_quicktime_user_data_tags_are_read() -> None:
    path = make("isobmff-tagged.mov", "-f", "lavfi", "-i", "sine=duration=0.5", "-c:a", "aac",
                "-metadata", "title=Tïtle", "-metadata", "artist=Someone")  # fmt: skip
    demuxer, _ = await demux(path)
    assert demuxer.container == "mov"
    assert demuxer.tags["title"] == "Tïtle" and demuxer.tags["artist"] == "Someone"


async def test_avc3_without_parameter_sets_anywhere_has_no_description_and_a_warning(
    tmp_path: Path,
) -> None:
    """ffmpeg's avc3 keeps the parameter sets in the avcC only; with its SPS count zeroed
    they are nowhere, which the reader says instead of failing to open."""
    data = bytearray(make("isobmff-avc3.mp4", *VARIANTS["avc3.mp4"]).read_bytes())
    data[data.index(b"avcC") + 4 + 5] = 0xE0  # numOfSequenceParameterSets = 0
    path = tmp_path / "in-band.mp4"
    path.write_bytes(data)
    demuxer, _ = await demux(path)
    assert demuxer.tracks[0].description is None
    assert any("no parameter sets in its first 8 samples" in w for w in demuxer.warnings)


@pytest.mark.parametrize(
    ("box", "field_at", "value"),
    [("stsc", 12, 0xFFFFFFFF), ("stsz", 8, 0x7FFFFFFF), ("stts", 8, 0xFFFFFFFF)],
)
async def test_huge_counts_in_pcm_tables_stay_bounded_by_the_sizes_table(
    box: str, field_at: int, value: int, tmp_path: Path
) -> None:
    # PCM's stsz has one constant size; a lying samples-per-chunk must not make 4 billion
    # samples appear, nor a lying sample count more than the chunks hold.
    data = bytearray(make("isobmff-pcm.mov", *VARIANTS["pcm.mov"]).read_bytes())
    struct.pack_into(">I", data, data.index(box.encode()) + 4 + field_at, value)
    path = tmp_path / "lying.mov"
    path.write_bytes(data)
    try:
        _, packets = await demux(path)
    except FormatError:
        return
    assert len(packets) <= 2 * 44100 // 1024 + 1


class RecordingSource(FileSource):
    """A file source that remembers the ranges it was asked for."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.reads: list[tuple[int, int]] = []

    async def read(self, offset: int, size: int) -> bytes:
        self.reads.append((offset, size))
        return await super().read(offset, size)


def mdat_payload(data: bytes) -> tuple[int, int]:
    """(start, end) of the first mdat box's payload."""
    at = 0
    while data[at + 4 : at + 8] != b"mdat":
        at += int.from_bytes(data[at : at + 4], "big")
    size = int.from_bytes(data[at : at + 4], "big")
    if size == 1:
        return at + 16, at + int.from_bytes(data[at + 8 : at + 16], "big")
    return at + 8, at + size


@pytest.mark.parametrize(("name", "most"), [("quicktime.mov", 64), ("fastart.mp4", 0)])
async def test_header_parsing_fetches_no_media_data(name: str, most: int) -> None:
    # With a 64-byte window, only the first window may reach into the media data of a file
    # whose moov comes last, and nothing may when the moov comes first.
    args = VARIANTS.get(name) or [*VIDEO, "-c:v", "libx264", "-movflags", "+faststart"]
    path = make(f"isobmff-{name}", *args)
    start, end = mdat_payload(path.read_bytes())
    source = RecordingSource(path)
    demuxer = IsobmffDemuxer(await Reader.open(source, window=64))
    await demuxer.open()
    assert demuxer.tracks[0].packet_count == 50 and demuxer.tracks[0].keyframe_count >= 1
    media = sum(max(0, min(end, at + size) - max(start, at)) for at, size in source.reads)
    assert media <= most


async def test_cut_off_mdat_yields_the_complete_packets_with_a_warning(tmp_path: Path) -> None:
    source = make("isobmff-fastart.mp4", *VIDEO, "-c:v", "libx264", "-movflags", "+faststart")
    data = source.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) * 2 // 3])
    with pytest.warns(UserWarning, match="cut off"):
        demuxer, packets = await demux(cut)
    assert 0 < len(packets) < demuxer.tracks[0].packet_count
    assert demuxer.warnings


@pytest.mark.parametrize("inside", ["moof", "mdat"])
async def test_cut_off_fragmented_file_yields_the_complete_fragments(
    inside: str, tmp_path: Path
) -> None:
    data = make("isobmff-fragmented.mp4", *VARIANTS["fragmented.mp4"]).read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: data.rindex(inside.encode(), 0, len(data) // 2) + 20])
    with pytest.warns(UserWarning, match="past the end|cut off"):
        demuxer, packets = await demux(cut)
    _, whole = await demux(make("isobmff-fragmented.mp4", *VARIANTS["fragmented.mp4"]))
    assert 0 < len(packets) < len(whole)
    assert packets == whole[: len(packets)]
    assert demuxer.warnings


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"\x00\x00\x00\x08ftyp", "no moov box"),
        (b"\x00\x00\x00\x04ftyp", "less than its own header"),
        (b"\x00\x00\x00\x10ftypisom\x00\x00\x00\x00\x7f\xff\xff\xffmoov", "past the end"),
        (b"\x00\x00\x00\x01moov\x7f\xff\xff\xff\xff\xff\xff\xff", "past the end"),
    ],
)
async def test_broken_files_give_specific_errors(data: bytes, message: str) -> None:
    from pywebcodecs.formats import open_demuxer
    from pywebcodecs.reader import Reader

    with pytest.raises(FormatError, match=message):
        await open_demuxer(await Reader.open(BytesSource(data, name="bad.mp4")))


async def test_deep_nesting_is_refused() -> None:
    from pywebcodecs.formats import open_demuxer
    from pywebcodecs.reader import Reader

    depth = 10_000
    body = b""
    for _ in range(depth):
        body = struct.pack(">I4s", len(body) + 8, b"trak") + body
    moov = struct.pack(">I4s", len(body) + 8, b"moov") + body
    mvhd = struct.pack(">I4s", 108, b"mvhd") + bytes(4) + struct.pack(">IIII", 0, 0, 1000, 0)
    mvhd += bytes(108 - len(mvhd))
    moov = struct.pack(">I4s", len(body) + 8 + 108, b"moov") + mvhd + body
    with pytest.raises(FormatError):
        await open_demuxer(await Reader.open(BytesSource(moov, name="deep.mp4")))


FUZZ_INPUTS = {
    "fuzz.mp4": ["-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10:duration=2", "-f", "lavfi",
                 "-i", "sine=duration=2", "-c:v", "libx264", "-bf", "2", "-c:a", "aac",
                 "-movflags", "+faststart"],
    "fuzz-fragmented.mp4": ["-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10:duration=2",
                            "-c:v", "libx264", "-g", "5", "-movflags", "frag_keyframe+empty_moov"],
    "fuzz-v2.mov": ["-f", "lavfi", "-i", "sine=duration=0.5:sample_rate=96000",
                    "-c:a", "pcm_f32be", "-movflags", "+faststart"],
    "fuzz-opus.mp4": ["-f", "lavfi", "-i", "sine=duration=1", "-c:a", "libopus",
                      "-movflags", "+faststart"],
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(FUZZ_INPUTS))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
async def test_mutated_files_give_format_errors_or_packets(name: str, data: st.DataObject) -> None:
    original = bytearray(make(f"isobmff-{name}", *FUZZ_INPUTS[name]).read_bytes())
    for _ in range(data.draw(st.integers(0, 8))):
        # Most flips land in the boxes at the front, where the parsing happens.
        at = data.draw(st.integers(0, min(len(original) - 1, 6000)))
        original[at] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(original)))
    source = BytesSource(bytes(original[:cut]), name="fuzz.mp4")
    await assert_clean_or_format_error(source, IsobmffDemuxer)
