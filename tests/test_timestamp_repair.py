"""Timestamps no muxer could store are repaired once, in the interleaver, with a warning:
every packet still reaches the output, in order, and ffprobe reads the result."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from copy_fuzz import ffprobe_problem
from demux_check import demux
from oracle import decode_errors, ffprobe_packets, ffprobe_streams, make
from pywebcodecs import convert_media
from pywebcodecs.formats import muxer_class
from pywebcodecs.interleave import Interleaver
from pywebcodecs.sink import FileSink
from pywebcodecs.track import Packet

CLIP = ["-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10:duration=1",
        "-f", "lavfi", "-i", "sine=duration=1:sample_rate=48000",
        "-c:v", "libx264", "-bf", "2", "-g", "5", "-c:a", "libopus"]  # fmt: skip


def damage(packets: list[Packet], video_id: int) -> list[Packet]:
    """The video track's timestamps broken in every way the fuzz found, and one audio
    packet's (90 kHz-sized numbers in the tracks' own timescales)."""
    video = [p for p in packets if p.track_id == video_id]
    video[3].dts = video[2].dts - 50  # back a little
    video[4].pts = video[4].dts + 2**32 + 7  # a 33-bit offset: no ctts entry holds it
    video[5].duration = 2**40
    for later in video[6:]:  # the timeline jumps 20 s back, as at a splice
        later.pts -= 20 * 12800
        later.dts -= 20 * 12800
    video[1].pts = -5000  # before the start
    audio = [p for p in packets if p.track_id != video_id]
    audio[10].pts += 2**33  # one 33-bit jump forward and back (a flipped PES bit)
    audio[10].dts += 2**33
    return packets


@pytest.mark.parametrize("container", ["mp4", "mkv"])
async def test_broken_timestamps_are_repaired_with_warnings(tmp_path: Path, container: str) -> None:
    demuxer, packets = await demux(make("repair-clip.mkv", *CLIP))
    video_id = next(t.id for t in demuxer.tracks if t.kind == "video")
    out = tmp_path / f"out.{container}"
    sink = FileSink(out)
    interleaver = Interleaver(muxer_class(container)(sink), len(demuxer.tracks))
    for index, track in enumerate(demuxer.tracks):
        interleaver.set_track(index, track)
    ids = [t.id for t in demuxer.tracks]
    for packet in damage(packets, video_id):
        interleaver.push(ids.index(packet.track_id), packet)
        await interleaver.drain()
    await interleaver.finish()
    sink.close()

    assert ffprobe_problem(out, 2) is None
    written = ffprobe_packets(out)
    assert len(written) == len(packets)
    video_index = ids.index(video_id)
    video = [p for p in written if p.stream_index == video_index]
    dts = [p.dts for p in video if p.dts is not None]  # Matroska stores none; ffprobe guesses
    assert dts == sorted(dts)
    # Every presentation time is known and lies inside the 1 s clip: the 2^32 offset, the
    # 20 s jump back and the time before the start were all undone.
    time_base = Fraction(ffprobe_streams(out)[video_index]["time_base"])
    pts = [p.pts for p in video]
    assert None not in pts, pts
    assert all(0 <= t * time_base < 1 for t in pts if t is not None), pts
    # The frame moved to the start shares its time with the first one: ffmpeg notes that
    # when it re-times the decoded frames, and nothing else.
    errors = decode_errors(out).splitlines()
    assert [line for line in errors if "non monotonically increasing dts" not in line] == []
    warnings = "\n".join(interleaver.warnings)
    for repair in ("decode times went back", "timeline jumps", "presentation times lay over 2^31",
                   "durations did not fit", "presentation times lay before"):  # fmt: skip
        assert f"track {video_id} (h264): 1 {repair}" in warnings
    assert "(opus): 2 timeline jumps were closed up" in warnings


@pytest.mark.parametrize("container", ["mp4", "mkv"])
async def test_a_cluster_timestamp_gone_back_converts_with_a_warning(
    tmp_path: Path, container: str
) -> None:
    """A Matroska file whose second Cluster says it starts at 0: its audio goes back in
    time. Before the repair the MP4 writer stopped at "decode times must not go back"."""
    data = bytearray(make("repair-clip.mkv", *CLIP).read_bytes())
    cluster = data.index(b"\x1f\x43\xb6\x75", data.index(b"\x1f\x43\xb6\x75") + 4)
    timestamp = data.index(b"\xe7", cluster + 4)  # Cluster Timestamp: id, 1-byte size, value
    size = data[timestamp + 1] & 0x7F
    data[timestamp + 2 : timestamp + 2 + size] = bytes(size)
    broken = tmp_path / "cluster-back.mkv"
    broken.write_bytes(data)
    out = tmp_path / f"out.{container}"
    sink = FileSink(out)
    result = await convert_media(str(broken), container, sink=sink)
    sink.close()
    assert any(line.startswith("cluster-back.mkv: track 2 (opus): ")
               and "decode times went back" in line
               for line in result.warnings)  # fmt: skip
    assert ffprobe_problem(out, 2) is None
    assert len(ffprobe_packets(out)) == len(ffprobe_packets(broken))
