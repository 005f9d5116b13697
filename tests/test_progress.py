"""Progress during a conversion (CPython copy mode): reported about ten times a second
while the input is read, with counts of what is already in the output, a rate and the
time left; the last report equals what ffprobe counts in the output."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

from oracle import ffprobe_packets, make
from pywebcodecs import ConversionProgress, convert_media
from pywebcodecs.sink import FileSink


class SlowSink(FileSink):
    """A disk that takes 5 ms per write, so that the run lasts about a second."""

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        await asyncio.sleep(0.005)
        await super().write(data)


def clip() -> Path:
    return make("progress-3s.mkv", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25:duration=3",
                "-f", "lavfi", "-i", "sine=duration=3", "-c:v", "libx264", "-preset",
                "ultrafast", "-g", "5", "-c:a", "flac")  # fmt: skip


async def test_progress_grows_during_the_run_and_ends_at_the_output(tmp_path: Path) -> None:
    out = tmp_path / "out.mkv"
    reports: list[ConversionProgress] = []
    sink = SlowSink(out)
    try:
        result = await convert_media(str(clip()), "mkv", sink=sink, on_progress=reports.append)
    finally:
        sink.close()
    during = [r for r in reports if not r.done]
    assert len(during) >= 3 and reports[-1].done and reports[-1] == result.progress
    seconds = reports[-1].elapsed_ms / 1000
    # About ten a second: never two within the interval (but the final one), and no long
    # silence.
    times = [r.elapsed_ms for r in reports[:-1]]
    assert all(later - earlier >= 99 for earlier, later in itertools.pairwise(times))
    assert len(during) >= seconds * 10 / 3
    assert any(r.video_frames > 0 and r.audio_frames > 0 and r.bytes_written > 0 for r in during)
    for field in ("fraction", "video_frames", "audio_frames", "bytes_written", "output_seconds"):
        values = [getattr(r, field) for r in reports]
        assert values == sorted(values), field
    assert any(0 < r.fraction < 0.9 and 0 < r.output_seconds < 2.9 for r in during)
    etas = [r.eta_ms for r in during if r.eta_ms is not None]
    assert etas and etas[-1] < etas[0] and reports[-1].eta_ms == 0
    assert all(r.rate > 0 for r in during if r.fraction > 0)
    # rate is input seconds per wall-clock second: 3 s of input over the whole run.
    assert abs(reports[-1].rate - 3 / seconds) < 0.2 * 3 / seconds
    counts = {"video": 0, "audio": 0}
    kinds = {0: "video", 1: "audio"}
    for packet in ffprobe_packets(out):
        counts[kinds[packet.stream_index]] += 1
    final = reports[-1]
    assert (final.video_frames, final.audio_frames) == (counts["video"], counts["audio"])
    assert final.video_frames == 75
    assert final.bytes_written == out.stat().st_size
    assert abs(final.output_seconds - 3) < 0.05
