"""MPEG-TS as recorders and broadcasts leave it: TS packets lost on the way (continuity
counter gaps) and AAC in LATM/LOAS, each checked against ffprobe's view of the file."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from oracle import ffprobe_streams, make
from pywebcodecs.mpegts.demuxer import MpegTsDemuxer
from pywebcodecs.source import BytesSource, FileSource
from test_mpegts_check import demux

VIDEO = ["-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10:duration=1"]
AUDIO = ["-f", "lavfi", "-i", "sine=duration=1:sample_rate=48000"]
AUDIO_PID = 257


def _packets(data: bytes) -> list[bytes]:
    return [data[i : i + 188] for i in range(0, len(data), 188)]


def _pid(packet: bytes) -> int:
    return (packet[1] & 0x1F) << 8 | packet[2]


def without_audio_packets(data: bytes) -> tuple[bytes, int]:
    """``data`` (ffmpeg's TS, audio on PID 257) without three audio TS packets that do not
    start a PES, spread over the file; and the offset of the first one left out."""
    packets = _packets(data)
    middles = [i for i, p in enumerate(packets) if _pid(p) == AUDIO_PID and not p[1] & 0x40]
    lost = set(middles[len(middles) // 4 :: len(middles) // 3][:3])
    return b"".join(p for i, p in enumerate(packets) if i not in lost), min(lost) * 188


def _aac_frames(path: Path) -> set[bytes]:
    """The raw AAC frames of the file's audio, as PyAV (ffmpeg) demuxes them: ADTS frames,
    whose 7-byte header (9 with a CRC) our reader strips."""
    with av.open(str(path)) as container:
        frames = [bytes(p) for p in container.demux(audio=0) if p.size]
    return {frame[7 if frame[1] & 1 else 9 :] for frame in frames}


async def test_pes_packets_that_lost_ts_packets_are_dropped_with_a_warning() -> None:
    """Three audio TS packets that do not start a PES are cut out: the PES they belonged to
    would reach the decoder with a hole (an AAC decoder in WebCodecs stops for good on such
    a frame). Every frame delivered is one of the intact file's, byte for byte."""
    path = make("mpegts-h264-aac-64x48.ts", *VIDEO, *AUDIO, "-c:v", "libx264", "-c:a", "aac")
    damaged, first = without_audio_packets(path.read_bytes())
    demuxer, ours = await demux(MpegTsDemuxer, BytesSource(damaged, name="cut.ts"))
    intact = _aac_frames(path)
    audio = [p for p in ours if p.track_id == AUDIO_PID]
    assert audio and all(p.data in intact for p in audio)
    assert len(audio) < len(intact)
    (warning,) = [w for w in demuxer.warnings if "continuity" in w]
    assert f"cut.ts: mpegts: at byte {first}: PID 257 (audio): TS packets are missing" in warning
    assert "the 3 PES packets they belonged to were dropped" in warning
    video = [p for p in ours if p.track_id == 256]
    assert len(video) == 10  # untouched


async def test_a_repeated_ts_packet_is_read_once() -> None:
    """A packet sent twice with the same continuity_counter (allowed, section 2.4.3.3)."""
    path = make("mpegts-h264-aac-64x48.ts", *VIDEO, *AUDIO, "-c:v", "libx264", "-c:a", "aac")
    packets = _packets(path.read_bytes())
    again = next(i for i, p in enumerate(packets) if _pid(p) == AUDIO_PID and not p[1] & 0x40)
    doubled = b"".join(packets[: again + 1]) + b"".join(packets[again:])
    _, clean = await demux(MpegTsDemuxer, FileSource(path))
    demuxer, ours = await demux(MpegTsDemuxer, BytesSource(doubled))
    assert ours == clean and not demuxer.warnings


@pytest.mark.parametrize("rate", [48000, 22050])
async def test_latm_aac_is_a_listed_track_with_no_packets(rate: int) -> None:
    """AAC in LATM/LOAS (stream_type 0x11, DVB-T2 and ISDB): no browser decodes it and no
    output holds it, so the track is listed with ffprobe's codec name, rate and channels
    (the conversion then refuses it by name, or drops it when asked) instead of being
    skipped unsaid; the video is read as usual."""
    path = make(f"mpegts-latm-{rate}.ts", *VIDEO, "-f", "lavfi", "-i",
                f"sine=duration=1:sample_rate={rate}", "-ac", "2", "-c:v", "libx264",
                "-c:a", "aac", "-mpegts_flags", "latm")  # fmt: skip
    theirs = ffprobe_streams(path)[1]
    assert theirs["codec_name"] == "aac_latm"
    demuxer, ours = await demux(MpegTsDemuxer, FileSource(path))
    video, audio = demuxer.tracks
    assert (audio.codec, audio.codec_string) == ("aac_latm", "aac_latm")
    assert (audio.sample_rate, audio.channels) == (int(theirs["sample_rate"]), theirs["channels"])
    assert {p.track_id for p in ours} == {video.id} and not demuxer.warnings
