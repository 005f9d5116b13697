"""The AVI reader against ffprobe, packet by packet, on files ffmpeg makes: timestamps,
key flags and the MD5 of every packet's data (H.264/H.265 as ffmpeg itself converts them
to length-prefixed NAL units)."""

from __future__ import annotations

import itertools
import struct
from fractions import Fraction
from pathlib import Path

import pytest

from demux_check import assert_packets_match_ffprobe, demux_source
from oracle import decode_errors, ffprobe_format, ffprobe_json, ffprobe_streams, make
from pywebcodecs import convert_media
from pywebcodecs.avi.demuxer import AviDemuxer
from pywebcodecs.avi.presentation import DEPTH_SCAN, DisplayKey, PresentationTimes
from pywebcodecs.codec_data import avc_codec_string, length_prefixed_to_annexb, split_annexb
from pywebcodecs.errors import FormatError
from pywebcodecs.reader import Reader
from pywebcodecs.sink import FileSink
from pywebcodecs.source import BytesSource, FileSource

VIDEO = ["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25:duration=2"]
AUDIO = ["-f", "lavfi", "-i", "sine=duration=2:sample_rate=44100"]

VARIANTS = {
    "h264-bframes-pcm.avi": [*VIDEO, *AUDIO, "-c:v", "libx264", "-bf", "2", "-c:a", "pcm_s16le"],
    "mpeg4-bframes-mp3.avi": [*VIDEO, *AUDIO, "-c:v", "mpeg4", "-bf", "2", "-g", "12",
                              "-c:a", "libmp3lame"],
    "mjpeg-mp3.avi": [*VIDEO, *AUDIO, "-c:v", "mjpeg", "-c:a", "libmp3lame"],
    "h264-aac.avi": [*VIDEO, *AUDIO, "-c:v", "libx264", "-g", "10", "-c:a", "aac"],
    "hevc.avi": [*VIDEO, "-c:v", "libx265", "-x265-params", "log-level=error", "-tag:v", "HEVC"],
    "pcm-u8-stereo.avi": [*AUDIO, "-c:a", "pcm_u8", "-ac", "2"],
    "mulaw-8k.avi": ["-f", "lavfi", "-i", "sine=duration=1:sample_rate=8000", "-c:a", "pcm_mulaw"],
    "pcm-f32.avi": [*AUDIO, "-c:a", "pcm_f32le"],
    "rawvideo.avi": ["-f", "lavfi", "-i", "testsrc2=size=32x24:rate=5:duration=1",
                     "-c:v", "rawvideo", "-pix_fmt", "bgr24"],
}  # fmt: skip


def variant(name: str) -> Path:
    return make(f"avi-{name}", *VARIANTS[name])


@pytest.mark.parametrize("name", sorted(VARIANTS))
async def test_generated_variants_match_ffprobe(name: str) -> None:
    await assert_packets_match_ffprobe(variant(name), demuxer_class=AviDemuxer)


def frame_times(path: Path) -> list[int | None]:
    """The time ffmpeg's decoder gives each frame of the first stream, in display order."""
    frames = ffprobe_json(path, "-select_streams", "v:0", "-show_frames",
                          "-show_entries", "frame=best_effort_timestamp")["frames"]  # fmt: skip
    return [frame.get("best_effort_timestamp") for frame in frames]


BFRAMES = ["h264-bframes-pcm.avi", "mpeg4-bframes-mp3.avi"]


@pytest.mark.parametrize("name", BFRAMES)
async def test_video_pts_are_the_frame_times_of_ffmpegs_decoder(name: str) -> None:
    """AVI stores decode order only; with B-frames each picture's pts is the time ffmpeg's
    decoder shows it at (the last frames it flushes have none: ours go on a frame apart)."""
    path = variant(name)
    demuxer, packets = await demux_source(FileSource(path), AviDemuxer)
    video = [p for p in packets if p.track_id == demuxer.tracks[0].id]
    pts = sorted(p.pts for p in video)
    theirs = frame_times(path)
    assert len(pts) == len(theirs) and None not in theirs[:-2]
    assert pts[: len(theirs) - 2] == theirs[:-2]
    assert pts == list(range(pts[0], pts[0] + len(pts))) and pts[0] > 0
    assert all(p.pts >= p.dts for p in video) and any(p.pts != p.dts for p in video)


@pytest.mark.parametrize("container", ["mkv", "mp4"])
async def test_a_copy_shows_b_frames_in_order(tmp_path: Path, container: str) -> None:
    """(Our MKV and MP4 writers do not take MPEG-4 Part 2, so only H.264 is copied.)"""
    path = variant("h264-bframes-pcm.avi")
    out = tmp_path / f"out.{container}"
    sink = FileSink(out)
    await convert_media(str(path), container, video_codec="copy", audio_codec="copy", sink=sink)
    sink.close()
    shown = [t for t in frame_times(out) if t is not None]
    assert len(frame_times(out)) == len(frame_times(path))
    assert all(a < b for a, b in itertools.pairwise(shown)), shown
    assert decode_errors(out) == ""


class ListedOrder:
    """Display keys given in advance, for :class:`PresentationTimes` alone."""

    warning = None
    declared_depth = 0

    def __init__(self, keys: list[DisplayKey]) -> None:
        self._keys = iter(keys)

    def key(self, data: bytes, nals: list[bytes]) -> DisplayKey | None:
        return next(self._keys)


def test_pictures_reordered_deeper_than_the_start_did_are_counted() -> None:
    """The depth comes from the first pictures; a swap after them cannot be shown in order
    any more: it is counted (the reader warns) and the times still go up."""
    keys = [(0, n) for n in range(DEPTH_SCAN)] + [(0, 100), (0, 99), (0, 101)]
    times = PresentationTimes(ListedOrder(keys), 3)
    indexes = [times.push(b"", [], 3 * n) for n in range(len(keys))]
    times.finish()
    pts = [times.pts(index) for index in indexes]
    assert times.depth == 0 and times.late == 1
    assert pts == [3 * n for n in range(len(keys))]


async def test_h264_packets_are_the_same_nal_units_length_prefixed() -> None:
    path = variant("h264-bframes-pcm.avi")
    demuxer, packets = await demux_source(FileSource(path), AviDemuxer)
    video = demuxer.tracks[0]
    first = next(p for p in packets if p.track_id == video.id)
    assert split_annexb(length_prefixed_to_annexb(first.data))[0][0] & 0x1F in (6, 7, 9)
    assert video.description is not None and video.codec_string == "avc1.64000b"
    assert avc_codec_string(video.description) == video.codec_string
    assert ffprobe_streams(path)[0]["profile"] == "High"


async def test_hevc_track_has_an_hvcc_description() -> None:
    demuxer, _ = await demux_source(FileSource(variant("hevc.avi")), AviDemuxer)
    video = demuxer.tracks[0]
    assert video.codec_string == "hvc1.1.6.L30.90"
    assert video.description is not None and video.description[0] == 1


async def test_aac_description_is_the_audio_specific_config() -> None:
    demuxer, _ = await demux_source(FileSource(variant("h264-aac.avi")), AviDemuxer)
    audio = demuxer.tracks[1]
    assert audio.codec_string == "mp4a.40.2"
    assert audio.description is not None and audio.description[:2] == bytes.fromhex("1208")


async def test_duration_and_frame_rate_come_from_the_stream_headers() -> None:
    path = variant("mjpeg-mp3.avi")
    demuxer, _ = await demux_source(FileSource(path), AviDemuxer)
    assert demuxer.duration == pytest.approx(float(ffprobe_format(path)["duration"]), abs=1e-6)
    assert demuxer.tracks[0].frame_rate == Fraction(ffprobe_streams(path)[0]["avg_frame_rate"])


async def test_open_reads_only_the_headers_the_index_and_the_first_video_chunk() -> None:
    path = make("avi-lossless.avi", "-f", "lavfi", "-i", "testsrc2=size=320x240:duration=2",
                "-c:v", "libx264", "-qp", "0")  # fmt: skip
    demuxer = AviDemuxer(await Reader.open(FileSource(path), window=4096))
    await demuxer.open()
    assert demuxer.reader.bytes_fetched < 64 * 1024 < path.stat().st_size / 4


async def test_an_unknown_fourcc_is_listed_with_a_note() -> None:
    data = bytearray(variant("mjpeg-mp3.avi").read_bytes())
    at = data.index(b"MJPG", data.index(b"strf"))
    data[at : at + 4] = b"ZZZZ"
    demuxer, packets = await demux_source(BytesSource(bytes(data), "odd.avi"), AviDemuxer)
    assert (demuxer.tracks[0].codec, demuxer.tracks[0].codec_string) == ("unknown", "ZZZZ")
    assert "codec 'ZZZZ' is unknown" in demuxer.warnings[0]
    assert len(packets) == 128


def with_avix(data: bytes) -> bytes:
    """The file followed by an OpenDML ``RIFF AVIX`` list whose movi repeats the first
    list's video chunks (as files over 1 GiB continue)."""
    start = data.index(b"movi") + 4
    end = data.index(b"idx1")
    chunks = bytearray()
    pos = start
    while pos < end:
        chunk_id, size = data[pos : pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        if chunk_id == b"00dc":
            chunks += data[pos : pos + 8 + size + (size & 1)]
        pos += 8 + size + (size & 1)
    movi = b"LIST" + struct.pack("<I", 4 + len(chunks)) + b"movi" + chunks
    return data + b"RIFF" + struct.pack("<I", 4 + len(movi)) + b"AVIX" + movi


async def test_packets_continue_into_opendml_avix_lists() -> None:
    data = variant("mjpeg-mp3.avi").read_bytes()
    _, plain = await demux_source(BytesSource(data), AviDemuxer)
    _, extended = await demux_source(BytesSource(with_avix(data)), AviDemuxer)
    video = [p for p in plain if p.track_id == 0]
    more = [p for p in extended if p.track_id == 0][len(video) :]
    assert [p.data for p in more] == [p.data for p in video]
    assert more[0].dts == 51 and all(p.is_key for p in more)


async def test_a_file_cut_inside_movi_keeps_the_complete_packets() -> None:
    data = variant("mjpeg-mp3.avi").read_bytes()
    _, full = await demux_source(BytesSource(data), AviDemuxer)
    with pytest.warns(UserWarning, match="cut off"):
        _, cut = await demux_source(BytesSource(data[: len(data) // 2]), AviDemuxer)
    assert 0 < len(cut) < len(full)
    assert [p.data for p in cut] == [p.data for p in full[: len(cut)]]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "file ends inside the RIFF header"),
        (b"RIFF\x04\x00\x00\x00WAVEfmt ", "expected 'RIFF....AVI '"),
        (b"RIFF\x04\x00\x00\x00AVI ", "no LIST hdrl"),
        (b"RIFF\x20\x00\x00\x00AVI LIST\xff\xff\xff\x7fhdrl", "LIST hdrl claims"),
    ],
)
async def test_broken_headers_raise_format_errors(data: bytes, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        await demux_source(BytesSource(data, "bad.avi"), AviDemuxer)


async def test_a_file_cut_before_the_first_parameter_sets_says_it_is_cut_off() -> None:
    """ffmpeg's AVI muxer reserves ~10 KiB of header room: a small download cut at half its
    size can end inside the first H.264 chunk, where the parameter sets are. The refusal
    says the file is cut off, not that the stream lacks parameter sets."""
    data = variant("h264-aac.avi").read_bytes()
    movi = data.index(b"movi") + 4
    first_chunk_size = struct.unpack_from("<I", data, movi + 4)[0]
    cut = data[: movi + 8 + first_chunk_size // 2]
    with (
        pytest.warns(UserWarning, match="cut off"),
        pytest.raises(FormatError, match=rf"cut.avi: avi: at byte {len(cut)}: the file is cut off "
                      r"before stream 0's first h264 parameter sets"),
    ):  # fmt: skip
        await demux_source(BytesSource(cut, "cut.avi"), AviDemuxer)
