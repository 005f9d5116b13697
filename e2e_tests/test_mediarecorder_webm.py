"""A WebM as Chromium's MediaRecorder writes it (no Duration, no Cues, unknown sizes)
becomes seekable by a copy: same packets, with Duration and Cues added."""

from __future__ import annotations

import asyncio
import base64
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from playwright.sync_api import Browser

from oracle import ffprobe_format, ffprobe_json, ffprobe_streams, libvpx_decoded, stream_hashes
from pywebcodecs import convert_media
from pywebcodecs.sink import FileSink

RECORD_2S = """async () => {
  const canvas = document.createElement("canvas");
  canvas.width = 320; canvas.height = 240;
  const ctx = canvas.getContext("2d");
  const stream = canvas.captureStream(30);
  const recorder = new MediaRecorder(stream, { mimeType: "video/webm;codecs=vp8" });
  const parts = [];
  recorder.ondataavailable = (e) => parts.push(e.data);
  let frame = 0;
  const timer = setInterval(() => {
    ctx.fillStyle = `hsl(${(frame * 7) % 360} 80% 50%)`;
    ctx.fillRect(0, 0, 320, 240);
    ctx.fillStyle = "#fff";
    ctx.fillText(String(frame++), 20 + frame % 200, 120);
  }, 33);
  recorder.start(500);
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const stopped = new Promise((resolve) => { recorder.onstop = resolve; });
  recorder.stop();
  await stopped;
  clearInterval(timer);
  const bytes = new Uint8Array(await new Blob(parts).arrayBuffer());
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}"""


def record(browser: Browser, path: Path) -> Path:
    page = browser.new_page()
    page.goto("about:blank")
    path.write_bytes(base64.b64decode(page.evaluate(RECORD_2S)))
    page.close()
    return path


CUES = bytes.fromhex("1C53BB6B")


def alpha_modes(path: Path) -> list[str | None]:
    """Each stream's ALPHA_MODE tag as ffprobe shows it."""
    streams = ffprobe_streams(path)
    return [{k.lower(): v for k, v in s.get("tags", {}).items()}.get("alpha_mode") for s in streams]


def packets_with_alpha(path: Path) -> int:
    """How many packets carry a BlockAdditional (the alpha), as ffprobe demuxes them."""
    packets = ffprobe_json(path, "-show_packets", "-show_entries", "packet=side_data_list")
    return sum(
        any(d.get("side_data_type") == "Matroska BlockAdditional" for d in p["side_data_list"])
        for p in packets["packets"]
        if "side_data_list" in p
    )


def vint(data: bytes, at: int, keep_marker: bool) -> tuple[int, int]:
    """An EBML variable-size integer at ``at``: (value, length). IDs keep their marker bit."""
    length = 9 - data[at].bit_length()
    value = int.from_bytes(data[at : at + length], "big")
    return (value if keep_marker else value & ((1 << (7 * length)) - 1)), length


def segment_children(data: bytes) -> list[bytes]:
    """The IDs of the top-level elements inside the Segment, walked by their sizes (written
    here from the EBML spec, so the check does not lean on our own reader)."""
    _, id_length = vint(data, 0, keep_marker=True)
    header_size, size_length = vint(data, id_length, keep_marker=False)
    at = id_length + size_length + header_size  # past the EBML header, at the Segment
    _, id_length = vint(data, at, keep_marker=True)
    _, size_length = vint(data, at + id_length, keep_marker=False)
    at += id_length + size_length
    children = []
    while at < len(data):
        element, id_length = vint(data, at, keep_marker=True)
        size, size_length = vint(data, at + id_length, keep_marker=False)
        children.append(element.to_bytes(id_length, "big"))
        at += id_length + size_length + size
    return children


def test_copy_makes_a_mediarecorder_webm_seekable(browser: Browser, tmp_path: Path) -> None:
    recorded = record(browser, tmp_path / "recorded.webm")
    assert "duration" not in ffprobe_format(recorded)  # what MediaRecorder leaves out

    fixed = tmp_path / "fixed.webm"
    sink = FileSink(fixed)
    copy = convert_media(str(recorded), "webm", video_codec="copy", sink=sink)
    # Playwright's sync API owns this thread's event loop: run CPython's in another thread.
    with ThreadPoolExecutor(1) as pool:
        result = pool.submit(asyncio.run, copy).result()
    sink.close()

    assert [plan.action for plan in result.tracks] == ["copy"]
    assert stream_hashes(fixed) == stream_hashes(recorded)
    # Chromium writes AlphaMode 1 and the canvas's alpha beside each frame: both are kept.
    assert alpha_modes(fixed) == alpha_modes(recorded)
    assert packets_with_alpha(fixed) == packets_with_alpha(recorded)
    assert libvpx_decoded(fixed, "vp8") == libvpx_decoded(recorded, "vp8")
    duration = float(ffprobe_format(fixed)["duration"])
    assert 1.5 < duration < 2.6
    assert abs(duration - result.progress.output_seconds) < 0.05
    # Cues are there, and a seek lands on a keyframe.
    assert CUES in segment_children(fixed.read_bytes())
    seek = ffprobe_json(fixed, "-read_intervals", "1%+0.2", "-show_packets",
                        "-show_entries", "packet=pts_time,flags")["packets"]  # fmt: skip
    assert seek and "K" in seek[0]["flags"]
