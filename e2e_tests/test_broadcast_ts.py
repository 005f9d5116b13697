"""A broadcast-style transport stream (H.264 with B-frames, no access unit delimiters, each
picture split over two PES packets; AAC) re-encoded to WebM in real Chromium: the
browser's decoder gets whole pictures, so no picture fails to decode and none is lost."""

from __future__ import annotations

from pathlib import Path

import pytest

from media import summarize
from oracle import decode_errors
from pywebcodecs_host.headless import HeadlessEngine
from test_mpegts_remux import split_pictures, without_aud


def test_ts_without_delimiters_reencodes_to_webm(engine: HeadlessEngine, tmp_path: Path) -> None:
    source = tmp_path / "broadcast.ts"
    source.write_bytes(split_pictures(without_aud("h264").read_bytes()))
    output = tmp_path / "broadcast.webm"
    summary = engine.convert(source, output, container="webm", video_codec="vp8",
                             audio_codec="opus")  # fmt: skip
    assert summary["ok"], summary
    before, after = summarize(source), summarize(output)
    assert (after["video"].codec, after["audio"].codec) == ("vp8", "opus")
    assert after["video"].packets == before["video"].packets == 50
    assert summary["video_frames"] == 50
    assert after["video"].end == pytest.approx(2.0, abs=0.04)  # 50 pictures at 25 fps
    assert decode_errors(output) == ""
