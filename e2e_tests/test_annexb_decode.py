"""H.264 stored Annex-B style (issue 8) decodes in real Chromium: the reader's rebuilt
avcC and length-prefixed samples are what the browser's VideoDecoder is given, where it
used to refuse the track ("this browser cannot decode h264 video")."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from media import summarize
from oracle import decode_errors
from pywebcodecs_host.headless import HeadlessEngine
from test_annexb_storage import annexb_mkv, annexb_mp4, annexb_packets


async def annexb_input(container: str, path: Path) -> Path:
    if container == "mp4":
        return await annexb_mp4("h264", path, "empty")
    track, packets = await annexb_packets("h264")
    path.write_bytes(annexb_mkv("h264", track, packets))
    return path


@pytest.mark.parametrize("container", ["mkv", "mp4"])
def test_annexb_h264_reencodes_to_vp8(
    engine: HeadlessEngine, tmp_path: Path, container: str
) -> None:
    # Playwright's sync API keeps an event loop running in this thread: build in another.
    with ThreadPoolExecutor(1) as pool:
        made = pool.submit(asyncio.run, annexb_input(container, tmp_path / f"in.{container}"))
        source = made.result(timeout=60)
    output = tmp_path / "out.webm"
    summary = engine.convert(source, output, container="webm", video_codec="vp8")
    assert summary["ok"], summary
    after = summarize(output)["video"]
    assert (after.codec, after.packets) == ("vp8", 25)
    assert decode_errors(output) == ""
