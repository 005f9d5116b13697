"""The page when things do not go as planned, walked as a person would in real Chromium:
a file chosen before the engine is ready, another file chosen mid-conversion, a file
dropped outside the drop zone, a truncated or broken input, a stale result, codecs this
browser cannot encode, a keyboard instead of a mouse, the main thread kept free, and
several files at once.

One page (one engine start) serves the module's tests in order; each test starts by
choosing a file, which puts the page back at the start of its state machine. Outputs are
checked with ffprobe/ffmpeg.
"""

from __future__ import annotations

import base64
import shutil
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Dialog, Page, Route
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from app_page import (
    CONVERT_MS,
    DESKTOP,
    has_pyscript_error_box,
    record_state,
    wait_for_file,
    wait_for_state,
)
from converted import h264_aac_clip
from harness import save_blob
from media import summarize
from oracle import FIXTURES, decode_errors, ffprobe_packets, ffprobe_streams, hd_720p_20s, make
from pywebcodecs.encoding import (
    AUDIO_ENCODERS,
    DEFAULT_VIDEO_CODECS,
    PCM_ENCODERS,
    VIDEO_ENCODERS,
    audio_encoder_config,
    video_encoder_config,
)
from pywebcodecs.formats import MUXERS
from pywebcodecs_host.site_server import SiteServer

#: The page and the errors (uncaught exceptions) it has raised so far.
App = tuple[Page, list[str]]


def small_clip() -> Path:
    """2 s, 320x240 VP8 + Opus WebM: fast to convert (copied into WebM)."""
    return make(
        "page-clip.webm",
        "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30:duration=2",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=2",
        "-c:v", "libvpx", "-b:v", "300k", "-c:a", "libopus", "-shortest",
    )  # fmt: skip


def hd_clip() -> Path:
    """3 s of 1280x720 H.264 + AAC: a WebM needs both re-encoded, which takes a while."""
    return h264_aac_clip("1280x720", 3)


HELD_ENGINE: list[Route] = []
RELEASED: list[bool] = []


def hold_engine(route: Route) -> None:
    """Hold Pyodide's wasm request until :func:`release_engine` (then let any through)."""
    if RELEASED:
        route.continue_()
    else:
        HELD_ENGINE.append(route)


def release_engine() -> None:
    RELEASED.append(True)
    while HELD_ENGINE:
        HELD_ENGINE.pop().continue_()


@pytest.fixture(scope="module")
def site(static_dir: Path) -> Iterator[SiteServer]:
    """The page's origin; it also serves the inputs a test opens by link."""
    with SiteServer(static_dir) as site:
        yield site


@pytest.fixture(scope="module")
def app(browser: Browser, site: SiteServer) -> Iterator[App]:
    """The page just opened (engine not yet ready), and the page errors it raises."""
    context = browser.new_context(accept_downloads=True, viewport=DESKTOP)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # Pyodide's wasm is held back until the first test has chosen its file, so that
    # the engine is still starting then, however fast this machine boots it.
    context.route("**/pyodide.asm.wasm", hold_engine)
    page.goto(f"{site.url}/index.html")
    try:
        yield page, errors
    finally:
        release_engine()
    context.close()


def choose(page: Page, path: Path, *, accept: bool | None = None) -> list[str]:
    """Choose ``path`` in the file input; ``accept`` answers a confirmation if one comes.
    Returns the confirmation texts shown."""
    asked: list[str] = []

    def answer(dialog: Dialog) -> None:
        asked.append(dialog.message)
        if accept:
            dialog.accept()
        else:
            dialog.dismiss()

    page.on("dialog", answer)
    try:
        page.set_input_files("#file-input", str(path))
        for _ in range(50 if accept is not None else 0):  # the dialog may come a bit later
            if asked:
                break
            page.wait_for_timeout(100)
    finally:
        page.remove_listener("dialog", answer)
    return asked


def download(page: Page, tmp_path: Path) -> tuple[str, Path]:
    with page.expect_download() as event:
        page.click("#download")
    saved = tmp_path / event.value.suggested_filename
    event.value.save_as(saved)
    return event.value.suggested_filename, saved


def test_a_file_chosen_before_the_engine_is_ready_is_read_once_it_is(app: App) -> None:
    page, errors = app
    assert page.get_attribute("body", "data-engine") != "ready"
    record_state(page, "idle-loading")
    choose(page, small_clip())
    assert wait_for_state(page, "inspecting", timeout=5_000) == "inspecting"
    try:
        assert HELD_ENGINE, "the engine's wasm request was not held"
        assert "still starting" in page.inner_text("#info-body")
        record_state(page, "inspecting")
    finally:
        release_engine()
    assert wait_for_file(page, "page-clip.webm") == "ready"
    assert page.get_attribute("body", "data-engine") == "ready"
    assert "Engine ready" in page.inner_text("#engine-status")
    assert page.inner_text("#info-body table").count("vp8") == 1
    # The poster: the first frame, drawn (not blank: testsrc2 is colourful).
    page.wait_for_selector("#poster:not([hidden])")
    assert page.evaluate("""() => {
      const c = document.querySelector('#poster');
      const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      return c.width === 320 && data.some((v, i) => i % 4 !== 3 && v > 0);
    }""")
    record_state(page, "ready")
    assert errors == []


def test_a_file_dropped_anywhere_opens_and_never_navigates(app: App) -> None:
    page, errors = app
    url = page.url
    data = base64.b64encode(small_clip().read_bytes()).decode()
    prevented = page.evaluate(
        """(data) => {
          const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
          const transfer = new DataTransfer();
          transfer.items.add(new File([bytes], "dropped.webm", { type: "video/webm" }));
          const target = document.querySelector("header h1");  // outside every panel
          const send = (type) => !target.dispatchEvent(
            new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
          return { enter: send("dragenter"), over: send("dragover"), drop: send("drop") };
        }""",
        data,
    )
    # A drop the page does not take (default not prevented) makes the tab open the file.
    assert prevented == {"enter": True, "over": True, "drop": True}
    assert wait_for_file(page, "dropped.webm") == "ready"
    assert page.url == url
    assert page.is_hidden("#drop-overlay")
    assert errors == []


def test_only_codecs_this_browser_encodes_are_offered(app: App) -> None:
    page, _ = app
    choose(page, hd_clip())
    assert wait_for_file(page, "h264-aac-1280x720-3s.mp4") == "ready"
    (video,) = (s for s in ffprobe_streams(hd_clip()) if s["codec_type"] == "video")
    fps = float(Fraction(video["avg_frame_rate"]))  # "30/1"
    configs = {
        "video": {c: video_encoder_config(c, 1280, 720, fps) for c in sorted(VIDEO_ENCODERS)},
        "audio": {c: audio_encoder_config(c, 48000, 2)
                  for c in sorted(AUDIO_ENCODERS - PCM_ENCODERS)},
    }  # fmt: skip
    supported = page.evaluate(
        """async (configs) => {
          const out = { video: [], audio: [] };
          for (const [kind, Encoder] of [["video", VideoEncoder], ["audio", AudioEncoder]]) {
            for (const [codec, config] of Object.entries(configs[kind])) {
              const answer = await Encoder.isConfigSupported(config).catch(() => null);
              if (answer?.supported) out[kind].push(codec);
            }
          }
          return out;
        }""",
        configs,
    )
    for container in ("mkv", "webm", "mp4"):
        page.select_option("#container", container)
        holds = MUXERS[container].codecs
        for track_id, kind in ((1, "video"), (2, "audio")):
            values = page.eval_on_selector_all(
                f"#track-{track_id} option", "options => options.map((o) => o.value)"
            )
            offered = set(values) - {"", "copy", "drop"}
            # PCM needs no browser encoder: the engine writes the decoded samples itself.
            encodable = set(supported[kind]) | (PCM_ENCODERS if kind == "audio" else set())
            assert offered == encodable & holds, (container, kind, values)
            assert ("copy" in values) == (("h264" if kind == "video" else "aac") in holds)
    # "Automatic" says what it will pick: WebM cannot hold H.264, so the first default
    # video codec the browser encodes.
    page.select_option("#container", "webm")
    first = next(c for c in DEFAULT_VIDEO_CODECS["webm"] if c in supported["video"])
    label = page.inner_text("#track-1 option[value='']")
    assert label == f"automatic: \u2192 {first.upper()}", label
    assert f"video \u2192 {first.upper()}" in page.inner_text("#automatic-summary")


def test_changing_file_mid_conversion_asks_then_converts_only_the_new_one(
    app: App, tmp_path: Path
) -> None:
    page, errors = app
    choose(page, small_clip())
    assert wait_for_file(page, "page-clip.webm") == "ready"
    page.click("#convert")
    assert wait_for_state(page, "done", "failed", "cancelled") == "done"
    name, first = download(page, tmp_path)
    assert name == "page-clip-converted.webm"  # never the input's own name
    assert summarize(first)["video"].packets == 60

    # A new file clears the old result at once.
    choose(page, hd_720p_20s())
    assert page.is_hidden("#result")
    assert wait_for_file(page, "720p30-20s.mp4") == "ready"
    page.click("#convert")
    assert page.evaluate("document.activeElement.id") == "status"
    page.wait_for_function("document.querySelector('#progress').value > 0", timeout=CONVERT_MS)
    # Saying no to the confirmation keeps the conversion going.
    asked = choose(page, small_clip(), accept=False)
    assert len(asked) == 1 and "page-clip.webm" in asked[0]
    assert page.get_attribute("body", "data-state") == "converting"
    assert page.is_visible("#progress") and page.is_hidden("#result")
    assert page.get_attribute("#progress", "aria-label") == "Conversion progress"
    box = page.evaluate("""() => {
      const r = document.querySelector('#progress-box').getBoundingClientRect();
      return { top: r.top, bottom: r.bottom, height: innerHeight };
    }""")
    assert box["top"] >= 0 and box["bottom"] <= box["height"], box  # kept in view
    detail = page.inner_text("#progress-detail")
    assert "frames" in detail and "real time" in detail and "left" in detail, detail
    record_state(page, "converting")
    page.click("#cancel")
    assert wait_for_state(page, "done", "failed", "cancelled") == "cancelled"
    assert page.inner_text("#status") == "Cancelled."
    assert page.is_hidden("#result") and page.is_hidden("#progress-box")
    record_state(page, "cancelled")

    # Saying yes cancels the running conversion; the new file is the one converted.
    page.click("#convert")
    page.wait_for_function("document.querySelector('#progress').value > 0", timeout=CONVERT_MS)
    asked = choose(page, small_clip(), accept=True)
    assert len(asked) == 1
    assert wait_for_file(page, "page-clip.webm") == "ready"
    page.click("#convert")
    assert wait_for_state(page, "done", "failed", "cancelled") == "done"
    name, second = download(page, tmp_path / "second")
    assert name == "page-clip-converted.webm"
    (stream,) = (s for s in ffprobe_streams(second) if s["codec_type"] == "video")
    assert (stream["width"], stream["height"]) == (320, 240)
    assert summarize(second)["video"].packets == 60
    assert decode_errors(second) == ""
    assert errors == []


def test_a_truncated_input_converts_with_a_visible_warning(app: App, tmp_path: Path) -> None:
    page, errors = app
    data = small_clip().read_bytes()
    cut = tmp_path / "cut.webm"
    cut.write_bytes(data[: len(data) // 2])
    choose(page, cut)
    assert wait_for_file(page, "cut.webm") == "ready"
    page.click("#convert")
    assert wait_for_state(page, "done", "failed", "cancelled") == "done"
    assert page.inner_text("#status") == "Done."
    assert page.is_visible("#result-warnings")
    assert "cut short" in page.inner_text("#warning-list")
    page.click("#warning-list details summary")
    assert "file ends" in page.inner_text("#warning-list details pre")
    record_state(page, "done-with-warning")
    assert not has_pyscript_error_box(page)
    _, saved = download(page, tmp_path)
    # Every whole video packet of the cut input is kept, as ffprobe reads the cut input.
    video_index = next(s["index"] for s in ffprobe_streams(cut) if s["codec_type"] == "video")
    whole = [p for p in ffprobe_packets(cut) if p.stream_index == video_index]
    assert summarize(saved)["video"].packets == len(whole)
    assert decode_errors(saved) == ""
    assert errors == []


def test_a_failed_conversion_says_why_in_plain_words(app: App) -> None:
    page, errors = app
    choose(page, FIXTURES / "frames.webm")  # video only
    assert wait_for_file(page, "frames.webm") == "ready"
    page.select_option("#container", "wav")
    assert "removed" in page.inner_text("#automatic-summary")
    page.click("#convert")
    assert wait_for_state(page, "done", "failed", "cancelled") == "failed"
    assert page.inner_text("#status") == "The conversion failed."
    assert page.get_attribute("#status", "class") == "error"
    assert page.evaluate("document.activeElement.id") == "failure-heading"
    plain = page.inner_text("#failure-body .error")
    assert "frames.webm" in plain and "track" in plain, plain
    assert page.is_hidden("#failure-body details pre") and page.is_hidden("#result")
    page.click("#failure-body details summary")
    assert "no track left to write to WAV" in page.inner_text("#failure-body details pre")
    record_state(page, "failed")
    assert errors == []


def test_keyboard_only_conversion_keeps_the_main_thread_free(app: App, tmp_path: Path) -> None:
    """Every step by keyboard: the file picker, the Convert button, the download; focus
    goes to the status when converting starts and to the result at the end. Meanwhile no
    task on the page's thread takes 50 ms or more (the engine runs in a Worker)."""
    page, errors = app
    page.evaluate("document.activeElement?.blur()")

    def tab_to(element_id: str) -> None:
        for _ in range(40):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement?.id") == element_id:
                return
        pytest.fail(f"Tab never reaches #{element_id}")

    tab_to("file-input")
    # Space on the focused input opens the picker; a loaded headless Chromium now and then
    # lets a key press by without it, so the key is pressed again (still only keys).
    for attempt in range(3):
        try:
            with page.expect_file_chooser(timeout=10_000) as chooser:
                page.keyboard.press("Space")
            break
        except PlaywrightTimeoutError:
            assert attempt < 2, "Space on #file-input never opened the file picker"
            assert page.evaluate("document.activeElement?.id") == "file-input"
    chooser.value.set_files(str(hd_clip()))
    assert wait_for_file(page, "h264-aac-1280x720-3s.mp4") == "ready"
    page.evaluate("""() => {
      window.longTasks = [];
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) longTasks.push(entry.duration);
      }).observe({ type: "longtask" });
    }""")
    tab_to("container")
    page.keyboard.type("WebM")  # a closed select takes type-ahead
    assert page.input_value("#container") == "webm"
    tab_to("convert")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "status"
    assert wait_for_state(page, "done", "failed", "cancelled") == "done"
    assert page.evaluate("document.activeElement.id") == "result-heading"
    long_tasks = page.evaluate("longTasks")
    tab_to("download")
    with page.expect_download() as event:
        page.keyboard.press("Enter")
    saved = tmp_path / event.value.suggested_filename
    event.value.save_as(saved)
    assert event.value.suggested_filename == "h264-aac-1280x720-3s.webm"
    after = summarize(saved)
    assert (after["video"].codec, after["audio"].codec) in {("vp8", "opus"), ("vp9", "opus"),
                                                            ("av1", "opus")}  # fmt: skip
    assert after["video"].packets == summarize(hd_clip())["video"].packets
    assert decode_errors(saved) == ""
    assert long_tasks == [] or max(long_tasks) < 50, long_tasks
    assert errors == []


def test_several_files_are_converted_in_turn_each_with_its_result(app: App, tmp_path: Path) -> None:
    page, errors = app
    broken = tmp_path / "broken.webm"
    broken.write_bytes(small_clip().read_bytes()[:200])
    page.evaluate("document.querySelector('#container').value = 'mkv'")
    page.set_input_files(
        "#file-input", [str(small_clip()), str(broken), str(FIXTURES / "frames.webm")]
    )
    page.wait_for_function(
        "document.querySelector('#batch-status').textContent.startsWith('All 3 files')",
        timeout=CONVERT_MS,
    )
    items = page.locator("#batch-list li")
    assert items.count() == 3
    assert "cannot be read" in items.nth(1).inner_text()
    links = page.eval_on_selector_all("#batch-list a", "links => links.map((a) => a.download)")
    assert links == ["page-clip.mkv", "frames.mkv"]
    record_state(page, "batch-done")
    sources = [small_clip(), FIXTURES / "frames.webm"]
    for index, (name, source) in enumerate(zip(links, sources, strict=True)):
        link = f"document.querySelectorAll('#batch-list a')[{index}]"
        saved = save_blob(page, f"fetch({link}.href).then((r) => r.blob())", tmp_path / name)
        before, after = summarize(source), summarize(saved)
        assert {kind: s.packets for kind, s in after.items()} == {
            kind: s.packets for kind, s in before.items()
        }
        assert decode_errors(saved) == ""
    assert errors == []


def test_trim_and_channels_reach_the_output(app: App, tmp_path: Path) -> None:
    page, errors = app
    choose(page, small_clip())  # 2 s, mono Opus
    assert wait_for_file(page, "page-clip.webm") == "ready"
    page.select_option("#container", "mkv")
    page.select_option("#track-1", "vp8")  # re-encoded: cut at the frame shown at 0.5 s
    page.fill("#trim-start", "0.5")
    page.fill("#trim-end", "1.5")
    page.select_option("#channels", "2")
    page.click("#convert")
    assert wait_for_state(page, "done", "failed", "cancelled") == "done"
    _, saved = download(page, tmp_path)
    for field in ("#trim-start", "#trim-end"):
        page.fill(field, "")
    page.select_option("#channels", "")
    after = summarize(saved)
    frame = 1 / 30
    assert after["video"].end - after["video"].start == pytest.approx(1.0, abs=frame)
    assert after["audio"].end - after["audio"].start == pytest.approx(1.0, abs=0.021)  # Opus
    (audio,) = (s for s in ffprobe_streams(saved) if s["codec_type"] == "audio")
    assert audio["channels"] == 2
    assert decode_errors(saved) == ""
    assert errors == []


def test_crop_is_checked_in_plain_words_then_reaches_the_output(app: App, tmp_path: Path) -> None:
    page, errors = app
    clip = tmp_path / "to-crop.webm"  # a name of its own: the page may hold small_clip
    shutil.copyfile(small_clip(), clip)
    choose(page, clip)  # 320x240
    assert wait_for_file(page, clip.name) == "ready"
    page.select_option("#container", "webm")
    crop = {"#crop-left": "200", "#crop-top": "20", "#crop-width": "200", "#crop-height": "160"}
    for field, value in crop.items():
        page.fill(field, value)
    page.click("#convert")  # 200 + 200 is past the 320 pixels of the picture
    assert page.is_visible("#crop-error")
    assert "past the edge of the picture, which is 320\u00d7240" in page.inner_text("#crop-error")
    assert page.get_attribute("body", "data-state") == "ready"
    record_state(page, "crop-refused")
    page.fill("#crop-left", "40")
    page.dispatch_event("#crop-left", "change")
    assert not page.is_visible("#crop-error")
    assert page.eval_on_selector("#track-1 option[value=copy]", "o => o.disabled")
    page.click("#convert")
    assert wait_for_state(page, "done", "failed", "cancelled") == "done"
    _, saved = download(page, tmp_path)
    for field in crop:
        page.fill(field, "")
    (video,) = (s for s in ffprobe_streams(saved) if s["codec_type"] == "video")
    assert (video["width"], video["height"]) == (200, 160)
    assert decode_errors(saved) == ""
    assert errors == []


def test_a_pasted_link_is_read_by_ranges_and_converted(
    app: App, site: SiteServer, tmp_path: Path
) -> None:
    """A link to a clip on this origin, pasted into the link field and opened with Enter:
    the page reads it (by ranges, from the server) and converts it like a chosen file."""
    page, errors = app
    clip = tmp_path / "linked-clip.webm"  # a name of its own: the page may hold small_clip
    shutil.copyfile(small_clip(), clip)
    url = site.add_input(clip.name, clip)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.url)
    page.evaluate("(url) => navigator.clipboard.writeText(url)", url)
    page.focus("#url-input")
    page.keyboard.press("ControlOrMeta+V")  # a real paste: the page's paste listener runs
    assert page.input_value("#url-input") == url
    page.keyboard.press("Enter")
    assert wait_for_file(page, clip.name) == "ready"
    page.select_option("#container", "mkv")
    page.click("#convert")
    assert wait_for_state(page, "done", "failed", "cancelled") == "done"
    record_state(page, "done-from-link")
    name, saved = download(page, tmp_path)
    assert name != clip.name and name.endswith(".mkv")
    streams = ffprobe_streams(saved)
    assert [s["codec_name"] for s in streams] == ["vp8", "opus"]
    assert summarize(saved)["video"].packets == summarize(clip)["video"].packets
    assert decode_errors(saved) == ""
    assert errors == []
