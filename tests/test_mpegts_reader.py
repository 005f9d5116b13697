"""The MPEG-TS reader against ffprobe, packet by packet, on files ffmpeg makes."""

from __future__ import annotations

from pathlib import Path

import pytest

from oracle import ffprobe_json, make
from pywebcodecs.errors import FormatError
from pywebcodecs.mpegts.demuxer import MpegTsDemuxer
from pywebcodecs.reader import Reader
from pywebcodecs.source import BytesSource, FileSource
from test_mpegts_check import assert_matches_ffprobe, demux

VIDEO = ["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25:duration=2"]
AUDIO = ["-f", "lavfi", "-i", "sine=duration=2:sample_rate=44100"]

VARIANTS = {
    "h264-bframes-aac.ts": [*VIDEO, *AUDIO, "-c:v", "libx264", "-bf", "2", "-c:a", "aac"],
    "hevc-mp3.ts": [*VIDEO, *AUDIO, "-c:v", "libx265", "-x265-params", "log-level=error",
                    "-c:a", "libmp3lame"],
    "mp2-48k.ts": ["-f", "lavfi", "-i", "sine=duration=2:sample_rate=48000", "-c:a", "mp2"],
    "aac-48k-stereo.ts": ["-f", "lavfi", "-i", "sine=duration=2:sample_rate=48000", "-ac", "2",
                          "-c:a", "aac"],
    "two-audio.ts": [*VIDEO, *AUDIO, "-f", "lavfi", "-i", "sine=duration=2:frequency=800",
                     "-map", "0", "-map", "1", "-map", "2", "-c:v", "libx264", "-g", "10",
                     "-c:a", "aac", "-metadata:s:a:1", "language=fra"],
    "open-gop.ts": ["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25:duration=3",
                    "-c:v", "libx264", "-bf", "3", "-x264-params",
                    "open-gop=1:keyint=30:min-keyint=30:scenecut=0"],
    "m2ts.m2ts": [*VIDEO, *AUDIO, "-c:v", "libx264", "-c:a", "aac", "-f", "mpegts",
                  "-mpegts_m2ts_mode", "1"],
}  # fmt: skip


def variant(name: str) -> Path:
    return make(f"mpegts-{name}", *VARIANTS[name])


@pytest.mark.parametrize("name", sorted(VARIANTS))
async def test_generated_variants_match_ffprobe(name: str) -> None:
    await assert_matches_ffprobe(MpegTsDemuxer, variant(name), untimed_pts=False)


async def test_timestamps_continue_across_the_33_bit_wrap() -> None:
    """Starting 0.3 s before the 2^33 wrap: ffmpeg moves the early values negative."""
    path = make("mpegts-wrap.ts", *VIDEO, *AUDIO, "-c:v", "libx264", "-c:a", "aac",
                "-output_ts_offset", "95442")  # fmt: skip
    _, packets = await assert_matches_ffprobe(MpegTsDemuxer, path, untimed_pts=False)
    assert packets[0].pts < 0 < packets[-1].pts


async def test_open_reads_only_the_start_and_the_end() -> None:
    path = make("mpegts-large.ts", "-f", "lavfi", "-i", "testsrc2=size=640x480:duration=4",
                "-c:v", "libx264", "-qp", "0", "-preset", "ultrafast")  # fmt: skip
    demuxer = MpegTsDemuxer(await Reader.open(FileSource(path), window=64 * 1024))
    await demuxer.open()
    assert demuxer.reader.bytes_fetched < 1 << 20 < path.stat().st_size / 2
    assert demuxer.duration == pytest.approx(3.96, abs=0.01)
    assert demuxer.tracks[0].codec_string == "avc1.f4001e"


async def test_track_fields_from_the_pmt_and_the_first_frames() -> None:
    demuxer, _ = await demux(MpegTsDemuxer, FileSource(variant("two-audio.ts")))
    video, first, second = demuxer.tracks
    assert [t.id for t in demuxer.tracks] == [256, 257, 258]
    assert video.codec_string.startswith("avc1.") and video.description is not None
    assert first.codec_string == "mp4a.40.2" and first.description == bytes.fromhex("1208")
    assert second.language == "fra"


async def test_a_file_cut_in_the_middle_keeps_the_complete_packets() -> None:
    data = variant("h264-bframes-aac.ts").read_bytes()
    _, full = await demux(MpegTsDemuxer, BytesSource(data))
    with pytest.warns(UserWarning, match="ends inside"):
        _, cut = await demux(MpegTsDemuxer, BytesSource(data[: len(data) // 2 + 100]))
    assert 0 < len(cut) < len(full)
    assert all(p in full for p in cut)


async def test_garbage_between_packets_is_skipped_by_resyncing() -> None:
    data = bytearray(variant("mp2-48k.ts").read_bytes())
    _, clean = await demux(MpegTsDemuxer, BytesSource(bytes(data)))
    middle = len(data) // 2 // 188 * 188
    damaged = bytes(data[:middle]) + b"\x00" * 50 + bytes(data[middle:])
    demuxer, packets = await demux(MpegTsDemuxer, BytesSource(damaged))
    assert any("lost packet sync" in w for w in demuxer.warnings)
    assert len(clean) - 2 <= len(packets) <= len(clean)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x47" + b"\x00" * 187, "no 0x47 sync byte"),
        ((b"\x47\x1f\xff\x10" + b"\xff" * 184) * 8, "no PAT/PMT in the first 1504 bytes"),
        ((b"\x47\x1f\xff\x10" + b"\xff" * 184) * 2 + b"\x47", "no PAT/PMT in the first 377 bytes"),
    ],
)
async def test_broken_streams_raise_format_errors(data: bytes, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        await demux(MpegTsDemuxer, BytesSource(data, "bad.ts"))


async def test_a_pmt_with_a_bad_crc_is_refused_with_its_offset() -> None:
    data = bytearray(variant("mp2-48k.ts").read_bytes()[: 188 * 40])
    for at in range(0, len(data), 188):
        if data[at + 1] & 0x1F == 0x10 and data[at + 2] == 0x00:  # the PMT on PID 4096
            data[at + 20] ^= 0xFF
    # ffmpeg writes the SDT, the PAT, then the PMT: the third packet.
    with pytest.raises(FormatError, match="at byte 376: CRC_32 mismatch in the table_id 2 section"):
        await demux(MpegTsDemuxer, BytesSource(bytes(data), "bad.ts"))


async def test_video_pictures_last_one_frame_step_as_ffprobe_shows() -> None:
    """A muxer ends a track at its latest pts plus that picture's duration; with B-frames
    the picture shown last is not the one decoded last, so each needs its own duration
    (the first is 0: no step is known yet)."""
    path = variant("h264-bframes-aac.ts")
    demuxer, packets = await demux(MpegTsDemuxer, FileSource(path))
    video = [p for p in packets if p.track_id == demuxer.tracks[0].id]
    durations = ffprobe_json(path, "-select_streams", "v", "-show_entries", "packet=duration")
    theirs = [int(p["duration"]) for p in durations["packets"]]
    assert [p.duration for p in video] == [0, *theirs[1:]]
