"""Disk outputs as users meet them, in real Chromium: the Worker writing OPFS through a
``FileSystemSyncAccessHandle`` and deleting it when asked, a file the user picked (written,
never removed, an older longer file cut to the output), no file left behind by a failed
conversion, and a quota too small for the output (a DevTools quota override) failing
promptly with a clear error instead of hanging or writing half a file. Outputs are read
back from the page and checked by ffprobe/ffmpeg."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Route

from app_page import wait_for_file, wait_for_state
from converted import assert_converted, h264_aac_clip
from harness import open_harness, save_blob
from oracle import make
from pywebcodecs_host.site_server import SiteServer

#: A small quota (bytes) for the out-of-room tests: a 4 MiB chunk fits, the next does not.
QUOTA = 8 << 20

#: The page's helpers: ``ask(message)`` posts to one Worker and resolves with its answer;
#: ``opfsNames()`` lists the OPFS root; ``pickedHandle(name, bytes)`` stands for a file the
#: user picked (a handle in OPFS under a name of theirs, holding ``bytes`` bytes already).
HELPERS = """<script>
let worker, nextId = 1;
function ask(message) {
  worker ??= new Worker("./__probe-worker.mjs", { type: "module" });
  const id = message.id ?? nextId++;
  return new Promise((resolve) => {
    worker.addEventListener("message", function answer({ data }) {
      if (data.id !== id || !("ok" in data)) return;
      worker.removeEventListener("message", answer);
      resolve(data);
    });
    worker.postMessage({ ...message, id });
  });
}
async function opfsNames() {
  const names = [];
  for await (const name of (await navigator.storage.getDirectory()).keys()) names.push(name);
  return names.sort();
}
async function pickedHandle(name, size) {
  const directory = await navigator.storage.getDirectory();
  const handle = await directory.getFileHandle(name, { create: true });
  const writable = await handle.createWritable();
  await writable.write(new Uint8Array(size).fill(0xff));
  await writable.close();
  return handle;
}
</script>"""

#: The Worker as the site ships it, with its sync access handles counted: every answer
#: carries how many were made, which proves the OPFS output took the Worker's own path.
PROBE_SETUP = """let made = 0;
const create = FileSystemFileHandle.prototype.createSyncAccessHandle;
FileSystemFileHandle.prototype.createSyncAccessHandle = function (...args) {
  made += 1;
  return create.apply(this, args);
};
const post = self.postMessage.bind(self);
self.postMessage = (message, ...rest) =>
  post(message && "ok" in message ? { ...message, syncAccessHandles: made } : message, ...rest);
"""
PROBE_WORKER = 'import "./__probe-setup.mjs";\nimport "./convert-worker.mjs";\n'

#: The page's Worker as shipped, on a device that reports almost no memory: every input
#: counts as large, so the page gets OPFS outputs as it does for an input over 1 GiB.
TINY_MEMORY = (
    "Object.defineProperty(WorkerNavigator.prototype, 'deviceMemory', { get: () => 1e-6 });"
)
PAGE_WORKER = 'import "./__tiny-memory.mjs";\nimport "./convert-worker.mjs?as-shipped";\n'
OPFS_NAMES = """async () => {
  const names = [];
  for await (const name of (await navigator.storage.getDirectory()).keys()) names.push(name);
  return names.sort();
}"""


def broken_clip() -> Path:
    """An MP4 whose index is whole but whose media after the first third is zeroes: it
    opens (so the output file is made) and its video fails to decode part way."""
    path = h264_aac_clip().with_name("disk-broken.mp4")
    if not path.exists():
        fast = make("disk-faststart.mp4", "-i", str(h264_aac_clip()), "-c", "copy",
                    "-movflags", "+faststart")  # fmt: skip
        data = bytearray(fast.read_bytes())
        media = data.index(b"mdat") + 4
        start = media + (len(data) - media) // 3
        data[start:] = bytes(len(data) - start)
        path.write_bytes(data)
    return path


def noisy_clip() -> Path:
    """1 s of 640x360 noise at ~100 Mbit/s (about 13 MB): larger than :data:`QUOTA`."""
    return make(
        "disk-noisy-1s.mp4",
        "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30:duration=1",
        "-vf", "noise=alls=60:allf=t", "-c:v", "libx264", "-preset", "ultrafast", "-qp", "4",
    )  # fmt: skip


@pytest.fixture
def site(static_dir: Path) -> Iterator[SiteServer]:
    with SiteServer(static_dir) as server:
        yield server


def open_page(browser: Browser, site: SiteServer, input_file: Path, quota: int = 0) -> Page:
    """The harness page with ``input_file`` chosen, the probe Worker served beside
    ``convert-worker.mjs`` and, with ``quota``, the origin's storage quota overridden."""
    page = open_harness(browser, site.url, input_file, HELPERS)
    for name, body in (("__probe-worker.mjs", PROBE_WORKER), ("__probe-setup.mjs", PROBE_SETUP)):
        page.context.route(f"**/{name}", script(body))
    if quota:
        cdp = page.context.new_cdp_session(page)
        cdp.send("Storage.overrideQuotaForOrigin", {"origin": site.url, "quotaSize": quota})
    return page


def script(body: str) -> Callable[[Route], None]:
    """A route handler answering with the JS module ``body``."""

    def serve(route: Route) -> None:
        route.fulfill(status=200, content_type="text/javascript", body=body)

    return serve


def save_file(page: Page, expression: str, path: Path) -> Path:
    """Write the ``Blob``/``File`` the JS ``expression`` evaluates to (on the page) to ``path``."""
    encoded = page.evaluate(f"async () => blobBase64(await ({expression}))")
    path.write_bytes(base64.b64decode(encoded))
    return path


def plain(answer: Any) -> dict:
    """A worker's answer without its Blob, as JSON data."""
    return json.loads(json.dumps({k: v for k, v in answer.items() if k != "blob"}))


def test_the_worker_writes_opfs_through_a_sync_access_handle_and_removes_it_when_asked(
    browser: Browser, site: SiteServer, tmp_path: Path
) -> None:
    page = open_page(browser, site, h264_aac_clip())
    try:
        answer = page.evaluate("""async () => {
          const answer = await ask({ file: fileInput.files[0], container: "mkv", sink: "opfs" });
          window.output = answer.blob;
          return { ...answer, blob: null, name: answer.blob?.name,
                   isFile: answer.blob instanceof File, onDisk: await opfsNames() };
        }""")
        assert answer["ok"], answer
        assert answer["syncAccessHandles"] == 1
        assert answer["isFile"] and answer["name"].startswith("pywebcodecs-")
        assert answer["onDisk"] == [answer["name"]]
        save_file(page, "window.output", tmp_path / "out.mkv")
        removal = page.evaluate(
            "async () => ({ ...(await ask({ remove: true, id: 1 })), onDisk: await opfsNames() })"
        )
    finally:
        page.context.close()
    assert_converted(h264_aac_clip(), tmp_path / "out.mkv", "mkv")
    assert removal["ok"] and removal["removed"], removal
    assert removal["onDisk"] == []


def test_the_worker_writes_a_picked_file_and_leaves_it(
    browser: Browser, site: SiteServer, tmp_path: Path
) -> None:
    page = open_page(browser, site, h264_aac_clip())
    try:
        answer = page.evaluate("""async () => {
          const sink = await pickedHandle("holiday.webm", 0);
          const answer = await ask({ file: fileInput.files[0], container: "webm", sink });
          const removal = await ask({ remove: true, id: 1 });
          window.output = await sink.getFile();
          return { ...answer, blob: null, name: answer.blob?.name, removal,
                   onDisk: await opfsNames() };
        }""")
        save_file(page, "window.output", tmp_path / "holiday.webm")
    finally:
        page.context.close()
    assert answer["ok"], answer
    assert answer["name"] == "holiday.webm"
    assert answer["removal"] == {"id": 1, "ok": True, "removed": False, "syncAccessHandles": 0}
    assert answer["onDisk"] == ["holiday.webm"]
    assert_converted(h264_aac_clip(), tmp_path / "holiday.webm", "webm")


def test_a_picked_longer_file_is_cut_to_the_output_on_the_page_thread(
    browser: Browser, site: SiteServer, tmp_path: Path
) -> None:
    """convertMedia on the page's own thread into a picked file that already holds 8 MiB:
    the file ends up exactly the output (no old tail after it) and stays on disk."""
    page = open_page(browser, site, h264_aac_clip())
    try:
        answer = page.evaluate("""async () => {
          const { convertMedia } = await import("./engine.mjs");
          const sink = await pickedHandle("old-longer.mp4", 8 << 20);
          const result = await convertMedia(fileInput.files[0], { container: "mp4", sink });
          window.output = await sink.getFile();
          return { written: result.summary.bytes_written, size: window.output.size,
                   onDisk: await opfsNames() };
        }""")
        save_file(page, "window.output", tmp_path / "out.mp4")
    finally:
        page.context.close()
    assert answer["size"] == answer["written"] < 8 << 20, answer
    assert answer["onDisk"] == ["old-longer.mp4"]
    assert_converted(h264_aac_clip(), tmp_path / "out.mp4", "mp4")


def test_a_failed_conversion_leaves_no_file_in_opfs(browser: Browser, site: SiteServer) -> None:
    page = open_page(browser, site, broken_clip())
    try:
        answers = page.evaluate("""async () => {
          const { convertMedia } = await import("./engine.mjs");
          const file = fileInput.files[0];
          const options = { container: "webm", videoCodec: "vp8", sink: "opfs" };
          const worker = await ask({ file, ...options });
          const main = await convertMedia(file, options).then(
            () => null, (error) => ({ name: error.name, message: error.message }));
          return { worker: { ...worker, blob: null }, main, onDisk: await opfsNames() };
        }""")
    finally:
        page.context.close()
    assert not answers["worker"]["ok"] and answers["worker"]["errorName"] == "CodecError", answers
    assert answers["worker"]["syncAccessHandles"] == 1  # it had started writing to OPFS
    assert answers["main"]["name"] == "CodecError", answers
    assert answers["onDisk"] == []


@pytest.mark.parametrize("thread", ["worker", "page"])
def test_running_out_of_room_fails_naming_the_output_and_leaves_no_file(
    browser: Browser, site: SiteServer, thread: str
) -> None:
    """An output larger than the origin's quota: the Worker's sync access handle writes
    fewer bytes than asked (Chromium does not raise), the page's writable stream leaves the
    write unanswered; either way the conversion fails within the stall limit, names the
    output, and removes the partial file."""
    page = open_page(browser, site, noisy_clip(), quota=QUOTA)
    try:
        answer = page.evaluate(
            """async (thread) => {
          const file = fileInput.files[0];
          let answer;
          if (thread === "worker") {
            answer = await ask({ file, container: "mkv", sink: "opfs" });
          } else {
            const { convertMedia } = await import("./engine.mjs");
            answer = await convertMedia(file, { container: "mkv", sink: "opfs" }).then(
              () => ({ ok: true }),
              (error) => ({ ok: false, errorName: error.name, error: error.message }));
          }
          return { ...answer, blob: null, onDisk: await opfsNames() };
        }""",
            thread,
        )
    finally:
        page.context.close()
    assert not answer["ok"], answer
    assert answer["errorName"] == "StorageFullError", answer
    assert answer["error"].startswith(
        "not enough room in the browser's storage for the output pywebcodecs-"
    ), answer
    assert " MB written, quota " in answer["error"]
    assert answer["onDisk"] == []


def test_the_page_deletes_an_opfs_output_once_it_no_longer_offers_it(
    browser: Browser, site: SiteServer, tmp_path: Path
) -> None:
    """The converter page: converting again deletes the previous output's file; opening
    other files deletes the shown one; a batch keeps each file its download links need."""
    context = browser.new_context(service_workers="block")
    # The page creates its worker as convert-worker.mjs?wasm=message (engine-client.mjs).
    context.route("**/convert-worker.mjs?wasm=message", script(PAGE_WORKER))
    context.route("**/__tiny-memory.mjs", script(TINY_MEMORY))
    page = context.new_page()
    clip = h264_aac_clip()
    try:
        page.goto(f"{site.url}/index.html")
        page.set_input_files("#file-input", str(clip))
        assert wait_for_file(page, clip.name) == "ready"
        page.select_option("#container", "mkv")
        shown = []
        for _ in range(2):
            page.click("#convert")
            assert wait_for_state(page, "done", "failed") == "done"
            page.wait_for_function(f"({OPFS_NAMES})().then((names) => names.length === 1)")
            shown.append(page.evaluate(OPFS_NAMES))
        save_blob(page, "fetch(document.querySelector('#download').href).then((r) => r.blob())",
                  tmp_path / "again.mkv")  # fmt: skip
        page.set_input_files("#file-input", [str(clip), str(clip)])
        page.wait_for_function(
            "document.querySelector('#batch-status').textContent.startsWith('All 2 files')",
            timeout=300_000,
        )
        batch = page.evaluate(OPFS_NAMES)
        for index in range(2):
            link = f"document.querySelectorAll('#batch-list a')[{index}].href"
            save_blob(page, f"fetch({link}).then((r) => r.blob())", tmp_path / f"{index}.mkv")
    finally:
        context.close()
    assert shown[0] != shown[1] and shown[1][0].startswith("pywebcodecs-"), shown
    assert len(batch) == 2 and shown[1][0] not in batch, batch
    for output in ("again.mkv", "0.mkv", "1.mkv"):
        assert_converted(clip, tmp_path / output, "mkv")
