"""Every way JS hands options to the engine, with options left out, ``null`` and
``undefined``: the Web Worker, ``convertMedia`` and ``loadEngine`` of ``engine.mjs``.
Outputs are checked by ffprobe/ffmpeg (``converted.assert_converted``). The headless
runner behind ``pywebcodecs convert`` is tested in ``test_cli.py``, the page (its choices
left automatic, no API key) in ``test_readme.py`` with the README's PyScript tags."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser

from converted import assert_converted, h264_aac_clip
from harness import open_harness, save_blob
from oracle import ffprobe_streams
from pywebcodecs_host.site_server import SiteServer

WORKER = """async () => {
  const worker = new Worker("./convert-worker.mjs", { type: "module" });
  const file = fileInput.files[0];
  const messages = [
    { id: 1, file },
    { id: 2, file, container: null, videoCodec: null, audioCodec: null, rotate: null,
      resize: null, apiKey: null },
    { id: 3, file, container: "mkv", videoCodec: undefined, audioCodec: undefined,
      rotate: undefined, apiKey: undefined },
    { id: 4, file, rotate: NaN },
    { id: 5 },
  ];
  const answers = {};
  await new Promise((resolve) => {
    worker.onmessage = async ({ data }) => {
      if (data.progress) return;
      answers[data.id] = data;
      if (Object.keys(answers).length === messages.length) resolve();
    };
    worker.onerror = (event) => { answers.error = String(event.message); resolve(); };
    for (const message of messages) worker.postMessage(message);
  });
  worker.terminate();
  window.blobs = [1, 2, 3].map((id) => answers[id]?.blob);
  return JSON.parse(JSON.stringify(answers, (key, value) => key === "blob" ? null : value));
}"""


def run_script(browser: Browser, static_dir: Path, script: str, outputs: list[Path]) -> Any:
    """Run ``script`` on a harness page with the clip chosen in ``fileInput``; returns its
    answer once the Blobs it left in ``window.blobs`` (saved to ``outputs``, in order) are
    checked as conversions of the clip into their files' containers."""
    with SiteServer(static_dir) as site:
        page = open_harness(browser, site.url, h264_aac_clip())
        try:
            answer = page.evaluate(script)
            for index, path in enumerate(outputs):
                save_blob(page, f"window.blobs[{index}]", path)
        finally:
            page.context.close()
    for output in outputs:
        assert_converted(h264_aac_clip(), output, output.suffix[1:])
    return answer


@pytest.mark.timeout(300)
def test_the_worker_takes_left_out_null_and_undefined_options(
    browser: Browser, static_dir: Path, tmp_path: Path
) -> None:
    outputs = [tmp_path / "1.webm", tmp_path / "2.webm", tmp_path / "3.mkv"]
    answers = run_script(browser, static_dir, WORKER, outputs)
    assert "error" not in answers, answers["error"]
    for key in "123":
        assert answers[key]["ok"], answers[key]
        assert answers[key]["summary"]["video_frames"] == 60
    assert not answers["4"]["ok"] and answers["4"]["errorName"] == "OptionError"
    assert "rotate must be a whole number, got NaN" in answers["4"]["error"]
    assert not answers["5"]["ok"] and "no input" in answers["5"]["error"]


CONVERT_MEDIA = """async () => {
  const { convertMedia } = await import("./engine.mjs");
  const file = fileInput.files[0];
  const failure = (options) => convertMedia(file, options).then(
    () => null, (error) => ({ name: error.name, message: error.message }));
  const results = [
    await convertMedia(file),
    await convertMedia(file, null),
    await convertMedia(file, { container: "mp4", videoCodec: undefined, audioCodec: null,
                               apiKey: undefined, onProgress: null, signal: undefined }),
  ];
  window.blobs = results.map((result) => result.blob);
  return {
    mimeTypes: results.map((result) => result.mimeType),
    tracks: results.map((result) => result.tracks.map((track) => track.action)),
    nan: await failure({ resize: [NaN, 240] }),
    snake: await failure({ video_codec: "vp9" }),
    codec: await failure({ videoCodec: 9 }),
  };
}"""


@pytest.mark.timeout(300)
def test_convert_media_takes_left_out_null_and_undefined_options(
    browser: Browser, static_dir: Path, tmp_path: Path
) -> None:
    outputs = [tmp_path / "1.webm", tmp_path / "2.webm", tmp_path / "3.mp4"]
    answer = run_script(browser, static_dir, CONVERT_MEDIA, outputs)
    assert answer["mimeTypes"] == ["video/webm", "video/webm", "video/mp4"]
    assert answer["tracks"][2] == ["copy", "copy"]
    assert answer["nan"] == {
        "name": "OptionError",
        "message": "resize width must be a whole number, got NaN",
    }
    assert answer["snake"]["name"] == "OptionError"
    assert "unknown option 'video_codec' (did you mean videoCodec?)" in answer["snake"]["message"]
    assert answer["codec"] == {
        "name": "OptionError",
        "message": "videoCodec must be a string, got 9",
    }


DIRECT_CALL = """async () => {
  const { loadEngine } = await import("./engine.mjs");
  const pyodide = await loadEngine();
  const convertMedia = pyodide.pyimport("pywebcodecs").convert_media;
  const file = fileInput.files[0];
  const results = [
    await convertMedia.callKwargs(file, "mkv", { video_codec: null, audio_codec: null,
        rotate: null, resize: null, api_key: null, on_progress: null, signal: null }),
    await convertMedia.callKwargs(file, { video_codec: "vp8", resize: [160, null],
        rotate: null, api_key: null }),
  ];
  window.blobs = results.map((result) => result.save());
  return results.map((result) => result.warnings.toJs());
}"""


@pytest.mark.timeout(300)
def test_convert_media_called_from_js_takes_null_keywords_and_arrays(
    browser: Browser, static_dir: Path, tmp_path: Path
) -> None:
    """JS calling ``convert_media`` itself: ``null`` means the default (as a left-out
    option does) and ``[160, null]`` is a resize to 160 wide."""
    outputs = [tmp_path / "1.mkv", tmp_path / "2.webm"]
    run_script(browser, static_dir, DIRECT_CALL, outputs)
    streams = ffprobe_streams(outputs[1])
    assert [(s["codec_name"], s.get("width"), s.get("height")) for s in streams] == [
        ("vp8", 160, 120),
        ("opus", None, None),
    ]


LOAD_ENGINE = """async () => {
  const { loadEngine } = await import("./engine.mjs");
  const pyodide = await loadEngine();
  const convert = pyodide.runPython(`
from pywebcodecs import convert_media
from pywebcodecs.browser.js_api import conversion_options

async def convert(file, options=None):
    return (await convert_media(file, **conversion_options(options))).save()
convert`);
  const file = fileInput.files[0];
  window.blobs = [await convert(file), await convert(file, null),
                  await convert(file, { container: "mkv", videoCodec: null, rotate: undefined })];
  return { same: pyodide === await loadEngine() };
}"""


@pytest.mark.timeout(300)
def test_python_from_load_engine_takes_null_and_undefined_options(
    browser: Browser, static_dir: Path, tmp_path: Path
) -> None:
    outputs = [tmp_path / "1.webm", tmp_path / "2.webm", tmp_path / "3.mkv"]
    answer = run_script(browser, static_dir, LOAD_ENGINE, outputs)
    assert answer == {"same": True}  # one engine per page, however often it is asked for


ENCODER_HINTS = """async () => {
  const { convertMedia } = await import("./engine.mjs");
  const file = fileInput.files[0];
  const failure = (options) => convertMedia(file, options).then(
    () => null, (error) => ({ name: error.name, message: error.message }));
  const result = await convertMedia(file, { container: "webm", videoCodec: "vp8",
    hardwareAcceleration: "prefer-software", latencyMode: "realtime" });
  window.blobs = [result.blob];
  return {
    tracks: result.tracks.map((track) => [track.action, track.output_codec]),
    hardware: await failure({ videoCodec: "vp8", hardwareAcceleration: "fast" }),
    latency: await failure({ videoCodec: "vp8", latencyMode: "fastest" }),
  };
}"""


@pytest.mark.timeout(300)
def test_convert_media_takes_hardware_acceleration_and_latency_mode(
    browser: Browser, static_dir: Path, tmp_path: Path
) -> None:
    """The encoder hints reach a real re-encode (a software VP8 encoder in realtime mode
    still writes every frame: ffprobe's count), and a value WebCodecs does not define is
    an OptionError naming the option and its choices."""
    answer = run_script(browser, static_dir, ENCODER_HINTS, [tmp_path / "hints.webm"])
    assert answer["tracks"] == [["reencode", "vp8"], ["reencode", "opus"]]
    assert answer["hardware"] == {
        "name": "OptionError",
        "message": "hardware_acceleration must be one of no-preference, prefer-hardware, "
        "prefer-software, got 'fast'",
    }
    assert answer["latency"] == {
        "name": "OptionError",
        "message": "latency_mode must be one of quality, realtime, got 'fastest'",
    }
