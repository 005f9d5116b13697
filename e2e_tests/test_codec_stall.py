"""A codec that stops answering fails the conversion with a clear error instead of hanging
it. The re-encoding session waits for room in the codecs' queues on their ``dequeue``
events, with one watchdog timer per stall period (not a timer per wait): this checks that
the watchdog still fires. Real Chromium; the decoder is a real ``VideoDecoder`` whose queue
looks full forever and which is never given a chunk, so it never answers."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser

from converted import h264_aac_clip
from harness import open_harness, stalled_conversion
from pywebcodecs_host.site_server import SiteServer


@pytest.mark.timeout(300)
def test_a_stalled_decoder_fails_naming_the_track_instead_of_hanging(
    browser: Browser, static_dir: Path
) -> None:
    with SiteServer(static_dir) as site:
        page = open_harness(browser, site.url, h264_aac_clip())
        try:
            options = '{ container: "webm", videoCodec: "vp8" }'
            answer = page.evaluate(stalled_conversion("VideoDecoder", options))
        finally:
            page.context.close()
    assert answer.get("name") == "CodecError", answer
    assert answer["message"] == (
        "h264-aac-320x240-2s.mp4: h264 track 1: the browser's codecs made no progress for 1.5 s"
    ), answer
    # The watchdog fires once the wait has lasted the stall period, not much later.
    assert 1500 <= answer["ms"] < 1500 + 20_000, answer
