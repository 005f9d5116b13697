"""Broadcast transport streams, which ffmpeg's muxer never writes, against ffprobe: no
access unit delimiters, several pictures per PES, pictures split over PES packets, IDR
pictures without the random_access_indicator, a recording that starts between keyframes,
AC-3/E-AC-3 declared the DVB and the ATSC ways, DTS, and broken timestamps. Each layout is
made from an ffmpeg file by :mod:`test_mpegts_remux`; copies into MP4/MKV must decode
without a single ffmpeg error."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from oracle import decode_errors, ffmpeg, ffprobe_json, ffprobe_packets, make
from pywebcodecs import convert_media
from pywebcodecs.mpegts.demuxer import MpegTsDemuxer
from pywebcodecs.sink import FileSink
from pywebcodecs.source import BytesSource, FileSource
from test_mpegts_check import (
    assert_matches_ffprobe,
    demux,
    ffmpeg_payloads,
    length_prefixed_nal_units,
)
from test_mpegts_remux import (
    AUDIO,
    AUDIO_PID,
    VIDEO_PID,
    PesPacket,
    clear_random_access_flags,
    packets,
    pid_of,
    read_pes,
    rewrite_pid,
    rewrite_pmt,
    split_pictures,
    without_aud,
)

_AUD_TYPES = {"h264": 9, "hevc": 35}


def nal_type(codec: str, nal: bytes) -> int:
    return nal[0] & 0x1F if codec == "h264" else nal[0] >> 1 & 0x3F


async def assert_copies_cleanly(src: Path, out: Path, container: str = "mp4") -> list[str]:
    """Copies every track of ``src`` into ``out``; ffmpeg decodes all of it without an
    error. Returns the conversion's warnings."""
    sink = FileSink(out)
    try:
        result = await convert_media(str(src), container, video_codec="copy",
                                     audio_codec="copy", sink=sink)  # fmt: skip
    finally:
        sink.close()
    assert decode_errors(out) == ""
    assert len(ffprobe_packets(out)) > 0
    return result.warnings


@pytest.mark.parametrize("codec", ["h264", "hevc"])
async def test_streams_without_delimiters_match_ffprobe_and_copy_cleanly(
    codec: str, tmp_path: Path
) -> None:
    path = without_aud(codec)
    demuxer, found = await assert_matches_ffprobe(MpegTsDemuxer, path, untimed_pts=False)
    video = [p for p in found if p.track_id == VIDEO_PID]
    types = {nal_type(codec, nal) for p in video for nal in length_prefixed_nal_units(p.data)}
    assert _AUD_TYPES[codec] not in types and len(video) == 50
    assert demuxer.warnings == []
    await assert_copies_cleanly(path, tmp_path / "copy.mp4")


@pytest.mark.parametrize("codec", ["h264", "hevc"])
async def test_pictures_split_over_several_pes_match_ffprobe(codec: str, tmp_path: Path) -> None:
    """Each picture in two PES packets, the second without a timestamp, cut mid-NAL."""
    path = tmp_path / "split.ts"
    path.write_bytes(split_pictures(without_aud(codec).read_bytes()))
    await assert_matches_ffprobe(MpegTsDemuxer, path, untimed_pts=False)
    await assert_copies_cleanly(path, tmp_path / "copy.mp4")


@pytest.mark.parametrize(
    "layout", ["3-per-pes", "1000-byte-chunks", "sparse-timestamps", "cut-in-start-codes"]
)
async def test_several_pictures_per_pes_are_cut_and_timed_like_the_original(
    layout: str, tmp_path: Path
) -> None:
    """The byte stream of an ffmpeg file repacked into PES packets of 3 pictures each, or of
    1000 bytes cut anywhere, each with the timestamps of the first picture that starts in
    it (ISO 13818-1 section 2.4.3.7), or one PES per picture with timestamps on every other
    one from the fourth, or one picture per PES but each PES cut inside the start code of
    its picture (3 bytes of it at the end of the PES before): ffprobe leaves the others
    untimed; the reader cuts the same pictures and times them as the original file had
    them (constant frame rate)."""
    original = without_aud("h264-video-only-no-bframes")
    data = original.read_bytes()
    pictures = read_pes(data, VIDEO_PID)
    regrouped = []
    if layout == "cut-in-start-codes":
        for p, after in zip(pictures, [*pictures[1:], None], strict=True):
            tail = b"" if after is None else after.payload[:3]
            regrouped.append(PesPacket(p.pts, p.dts, p.payload[3 if regrouped else 0 :] + tail))
    elif layout == "sparse-timestamps":
        for index, p in enumerate(pictures):
            timed = index >= 3 and index % 2
            regrouped.append(PesPacket(p.pts if timed else None, p.dts if timed else None,
                                       p.payload))  # fmt: skip
    elif layout == "3-per-pes":
        for at in range(0, len(pictures), 3):
            group = pictures[at : at + 3]
            payload = b"".join(p.payload for p in group)
            regrouped.append(PesPacket(group[0].pts, group[0].dts, payload))
    else:
        stream = b"".join(p.payload for p in pictures)
        starts, offset = {}, 0
        for picture in pictures:
            starts[offset] = picture
            offset += len(picture.payload)
        for at in range(0, len(stream), 1000):
            first = next((starts[o] for o in sorted(starts) if at <= o < at + 1000), None)
            pts = None if first is None else first.pts
            regrouped.append(PesPacket(pts, pts, stream[at : at + 1000]))
    path = tmp_path / "regrouped.ts"
    path.write_bytes(rewrite_pid(data, VIDEO_PID, regrouped))
    if layout != "cut-in-start-codes":
        untimed = sum(p.pts is None for p in ffprobe_packets(path))
        assert untimed >= len(pictures) // 3
    demuxer, _ = await assert_matches_ffprobe(
        MpegTsDemuxer, original, FileSource(path), untimed_pts=False
    )
    assert demuxer.warnings == []
    await assert_copies_cleanly(path, tmp_path / "copy.mp4")


async def test_keyframes_come_from_the_nal_types_not_the_random_access_flag(
    tmp_path: Path,
) -> None:
    path = tmp_path / "unflagged.ts"
    path.write_bytes(clear_random_access_flags(without_aud("h264").read_bytes()))
    _, found = await assert_matches_ffprobe(MpegTsDemuxer, path, untimed_pts=False)
    keys = [p for p in found if p.track_id == VIDEO_PID and p.is_key]
    assert len(keys) == 5  # 50 pictures, an IDR every 12


@pytest.mark.parametrize("codec", ["h264", "hevc"])
async def test_a_recording_cut_between_keyframes_starts_at_the_next_keyframe(
    codec: str, tmp_path: Path
) -> None:
    """Cut where the fourth picture's PES starts, the tables put back in front: the pictures
    before the next keyframe (and, after an H.265 CRA, its leading pictures) refer to
    pictures that are gone, so they are dropped with a warning; the audio is kept."""
    data = without_aud(codec).read_bytes()
    tables = [p for p in packets(data)[:8] if pid_of(p) in (0, 0x1000)]
    starts = [at for at in range(0, len(data), 188)
              if pid_of(data[at : at + 188]) == VIDEO_PID and data[at + 1] & 0x40]  # fmt: skip
    path = tmp_path / "cut.ts"
    path.write_bytes(b"".join(tables) + data[starts[3] :])
    video = [p for p in ffprobe_packets(path) if p.stream_index == 0]
    assert not video[0].is_key
    demuxer, found = await assert_matches_ffprobe(
        MpegTsDemuxer, path, untimed_pts=False, from_first_keyframe=True
    )
    dropped = len(video) - sum(p.track_id == VIDEO_PID for p in found)
    assert dropped >= video.index(next(p for p in video if p.is_key)) > 0
    assert demuxer.warnings == [
        f"PID {VIDEO_PID}: {dropped} pictures before the first keyframe were dropped (they "
        "refer to pictures before the file's start)"
    ]
    assert found[0].track_id == AUDIO_PID
    assert await assert_copies_cleanly(path, tmp_path / "copy.mp4") == demuxer.warnings


AC3_AUDIO = ["-f", "lavfi", "-i", "sine=duration=1:sample_rate=48000"]


def _dvb_descriptor_only(pid: int, stream_type: int, descriptors: bytes) -> tuple[int, bytes]:
    """Stream type 0x06 with only the DVB AC-3 (0x6A) / enhanced AC-3 (0x7A) descriptor."""
    tag = 0x7A if b"EAC3" in descriptors else 0x6A
    return 0x06, bytes([tag, 1, 0])


def _atsc_descriptor_only(pid: int, stream_type: int, descriptors: bytes) -> tuple[int, bytes]:
    """The ATSC stream type 0x81 / 0x87 with the ATSC AC-3 (0x81, A/52 annex A.4.3) or
    E-AC-3 (0xCC, annex G) audio descriptor and no registration descriptor."""
    if stream_type == 0x87:
        return 0x87, bytes([0xCC, 2, 0x80, 0x42])
    return 0x81, bytes([0x81, 4, 0x08, 0x28, 0x05, 0x00])


def _private_data_only(pid: int, stream_type: int, descriptors: bytes) -> tuple[int, bytes]:
    """Stream type 0x06 and no descriptor: the syncframes alone tell what it holds."""
    return 0x06, b""


#: name: (encoder options, ffmpeg muxer options, PMT rewrite)
AC3_LAYOUTS = {
    "ac3-atsc-registration": (["-c:a", "ac3"], [], None),
    "ac3-atsc-descriptor": (["-c:a", "ac3"], [], _atsc_descriptor_only),
    "ac3-dvb": (["-c:a", "ac3"], ["-mpegts_flags", "system_b"], None),
    "ac3-dvb-descriptor": (["-c:a", "ac3"], [], _dvb_descriptor_only),
    "ac3-private-data": (["-c:a", "ac3"], [], _private_data_only),
    "ac3-5.1-dvb": (["-c:a", "ac3", "-ac", "6"], ["-mpegts_flags", "system_b"], None),
    "eac3-atsc-registration": (["-c:a", "eac3"], [], None),
    "eac3-atsc-descriptor": (["-c:a", "eac3"], [], _atsc_descriptor_only),
    "eac3-dvb": (["-c:a", "eac3"], ["-mpegts_flags", "system_b"], None),
    "eac3-dvb-descriptor": (["-c:a", "eac3"], [], _dvb_descriptor_only),
    "eac3-private-data": (["-c:a", "eac3"], [], _private_data_only),
}


@pytest.mark.parametrize("name", sorted(AC3_LAYOUTS))
async def test_ac3_and_eac3_in_dvb_and_atsc_layouts(name: str, tmp_path: Path) -> None:
    encoder, muxer, rewrite = AC3_LAYOUTS[name]
    path = make(f"mpegts{'_'.join(['', *encoder, *muxer])}.ts", *AC3_AUDIO, *encoder, *muxer)
    if rewrite is not None:
        data = path.read_bytes()
        path = tmp_path / "rewritten.ts"
        path.write_bytes(rewrite_pmt(data, rewrite))
    demuxer, found = await assert_matches_ffprobe(MpegTsDemuxer, path, untimed_pts=False)
    (track,) = demuxer.tracks
    assert track.codec == name.split("-")[0]
    assert track.channels == (6 if "5.1" in name else 1) and len(found) >= 31
    await assert_copies_cleanly(path, tmp_path / "copy.mkv", "mkv")


#: DTS as ffmpeg writes it (stream type 0x82), and the DVB (0x06 with the DTS descriptor
#: 0x7B, ETSI EN 300 468 annex G) and registration ('DTS1') ways.
DTS_LAYOUTS = {
    "0x82": None,
    "dvb-descriptor": lambda pid, stream_type, descriptors: (0x06, bytes([0x7B, 1, 0])),
    "registration": lambda pid, stream_type, descriptors: (0x06, b"\x05\x04DTS1"),
}


@pytest.mark.parametrize("layout", sorted(DTS_LAYOUTS))
async def test_dts_beside_aac_matches_ffprobe_and_copies_cleanly(
    layout: str, tmp_path: Path
) -> None:
    path = make("mpegts-aac-dts.ts", *AUDIO, *AC3_AUDIO, "-map", "0", "-map", "1", "-c:a:0",
                "aac", "-c:a:1", "dca", "-strict", "-2", "-ac:a:1", "2")  # fmt: skip
    rewrite = DTS_LAYOUTS[layout]
    if rewrite is not None:
        data = path.read_bytes()
        path = tmp_path / "rewritten.ts"
        path.write_bytes(rewrite_pmt(data, lambda pid, *entry: (
            rewrite(pid, *entry) if pid == AUDIO_PID else entry)))  # fmt: skip
    demuxer, _ = await assert_matches_ffprobe(MpegTsDemuxer, path, untimed_pts=False)
    assert [t.codec for t in demuxer.tracks] == ["aac", "dts"] and demuxer.warnings == []
    await assert_copies_cleanly(path, tmp_path / "copy.mkv", "mkv")


async def test_mp3_frames_have_ffprobe_timestamps_and_durations() -> None:
    """The MP3 track lasts what its frames last: no frame gained or lost at either end."""
    path = make("mpegts-mp3-44k.ts", "-f", "lavfi", "-i", "sine=duration=2:sample_rate=44100",
                "-c:a", "libmp3lame")  # fmt: skip
    _, found = await assert_matches_ffprobe(MpegTsDemuxer, path, untimed_pts=False)
    probe = ffprobe_json(path, "-show_packets", "-show_entries", "packet=duration")["packets"]
    assert [p.duration for p in found] == [int(p["duration"]) for p in probe]


async def test_timestamps_going_backwards_are_moved_forward_with_a_warning() -> None:
    """One video and one audio PES stamped a second early (a damaged or spliced stream)."""
    data = without_aud("h264").read_bytes()
    for pid, stream_id in ((VIDEO_PID, 0xE0), (AUDIO_PID, 0xC0)):
        pes = read_pes(data, pid)
        broken = pes[len(pes) // 2]
        assert broken.pts is not None and broken.dts is not None
        pes[len(pes) // 2] = PesPacket(broken.pts - 90_000, broken.dts - 90_000, broken.payload)
        data = rewrite_pid(data, pid, pes, stream_id)
    demuxer, found = await demux(MpegTsDemuxer, BytesSource(data, "broken.ts"))
    for pid in (VIDEO_PID, AUDIO_PID):
        dts = [p.dts for p in found if p.track_id == pid]
        assert all(a < b for a, b in itertools.pairwise(dts)), pid
    assert demuxer.warnings == [
        f"PID {VIDEO_PID}: 1 video timestamps went backwards or repeated and were moved forward",
        f"PID {AUDIO_PID}: 1 audio timestamps went backwards or repeated and were moved forward",
    ]


async def test_a_cut_at_an_open_gop_keyframe_drops_its_leading_pictures(tmp_path: Path) -> None:
    """Cut at an I picture with a recovery point but no IDR: the B pictures after it that
    are shown before it refer to the GOP that was cut away, so they go too."""
    original = make("mpegts-open-gop-cut.ts", "-f", "lavfi", "-i",
                    "testsrc2=size=160x120:rate=25:duration=3", "-c:v", "libx264", "-bf", "3",
                    "-x264-params", "open-gop=1:keyint=30:min-keyint=30:scenecut=0")  # fmt: skip
    data = original.read_bytes()
    keys = [p for p in ffprobe_packets(original) if p.is_key]
    starts = [at for at in range(0, len(data), 188)
              if pid_of(data[at : at + 188]) == VIDEO_PID and data[at + 1] & 0x40]  # fmt: skip
    pes_pts = [p.pts for p in read_pes(data, VIDEO_PID)]
    tables = [p for p in packets(data)[:8] if pid_of(p) in (0, 0x1000)]
    path = tmp_path / "cut.ts"
    path.write_bytes(b"".join(tables) + data[starts[pes_pts.index(keys[-1].pts)] :])
    probe = ffprobe_packets(path)
    (first,) = ffmpeg_payloads(path, len(probe), annexb=True)[:1]
    assert probe[0].is_key and not any(nal_type("h264", n) == 5 for n in first[1])
    assert probe[1].pts < probe[0].pts  # a leading picture
    demuxer, found = await assert_matches_ffprobe(
        MpegTsDemuxer, path, untimed_pts=False, from_first_keyframe=True
    )
    dropped = len(probe) - len(found)
    assert dropped == 3 and demuxer.warnings == [
        f"PID {VIDEO_PID}: {dropped} pictures before the first keyframe were dropped (they "
        "refer to pictures before the file's start)"
    ]
    await assert_copies_cleanly(path, tmp_path / "copy.mp4")


async def test_eac3_dependent_substreams_join_their_independent_frame(tmp_path: Path) -> None:
    """Each E-AC-3 frame followed by a dependent substream frame (strmtyp 1, as 7.1 streams
    carry their extra channels): one packet per pair, as ffmpeg's parser makes them."""
    raw = make("eac3-stereo.eac3", *AC3_AUDIO, "-ac", "2", "-c:a", "eac3", "-f", "eac3")
    data = raw.read_bytes()
    paired = bytearray()
    size = 2 * ((data[2] & 0x07) << 8 | data[3]) + 2  # frmsiz of the constant-size frames
    for at in range(0, len(data), size):
        frame = data[at : at + size]
        paired += frame + frame[:2] + bytes([frame[2] & 0x3F | 0x40]) + frame[3:]
    pairs = tmp_path / "pairs.eac3"
    pairs.write_bytes(bytes(paired))
    path = tmp_path / "pairs.ts"
    ffmpeg("-i", pairs, "-c", "copy", path)
    demuxer, found = await assert_matches_ffprobe(MpegTsDemuxer, path, untimed_pts=False)
    assert {len(p.data) for p in found} == {2 * size} and demuxer.warnings == []


async def test_dts_hd_extension_substreams_stay_with_their_core_frame(tmp_path: Path) -> None:
    """Each DTS core frame followed by a 64-byte DTS-HD extension substream (ETSI TS 102 114
    section 7.5: sync, a 16-byte header, nuExtSSFsize 64): one packet per pair."""
    core = make("dts-core.dts", *AC3_AUDIO, "-ac", "2", "-c:a", "dca", "-strict", "-2")
    data = core.read_bytes()
    size = ((data[5] & 0x03) << 12 | data[6] << 4 | data[7] >> 4) + 1  # FSIZE
    header = (15 << 29 | 63 << 13).to_bytes(6, "big")  # header size 16, frame size 64
    substream = b"\x64\x58\x20\x25" + header + bytes(54)
    pairs = tmp_path / "pairs.dts"
    pairs.write_bytes(b"".join(data[at : at + size] + substream
                               for at in range(0, len(data), size)))  # fmt: skip
    path = tmp_path / "pairs.ts"
    ffmpeg("-i", pairs, "-c", "copy", path)
    demuxer, found = await assert_matches_ffprobe(MpegTsDemuxer, path, untimed_pts=False)
    assert {len(p.data) for p in found} == {size + 64} and demuxer.warnings == []
