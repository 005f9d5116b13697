"""The README is tested as written: every fenced example in README.md runs here.

- ``sh`` lines run as a user types them, in a temporary folder that holds the README's
  file names (``input.mp4``: a short H.264 + AAC clip made by ffmpeg) and links to this
  checkout's ``.venv``, ``build_scripts`` and ``static``; outputs are checked by ffprobe.
  Two lines are not run as they stand: ``serve`` gets a free port instead of the README's
  (which another program may hold) and is stopped once it answers; the benchmarks are
  big runs (minutes), so only their ``--help`` runs. ``./run.sh`` and ``./test.sh`` must
  exist and be executable (running them is what the suite itself is).
- ``js`` snippets run unmodified in Chromium on a page of the built ``static/`` served by
  ``python -m http.server``, which ignores ``Range`` requests as many simple hosts do;
  the page defines the names the snippets take from their surroundings (``fileInput``,
  ``file``, ``video``, ``showProgress``, ``alert``).
- the ``html`` (PyScript) snippet replaces the app page's own PyScript tags, and that page
  converts with every choice left automatic.

A block of a kind this module does not know how to run fails its test: no silent skip.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from converted import assert_converted, h264_aac_clip
from harness import open_harness, save_blob
from oracle import ffprobe_streams

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
RUN_MS = 240_000
CONTAINERS = ("webm", "mp4", "mkv", "wav")


@dataclass(frozen=True)
class Block:
    heading: str
    line: int
    language: str
    text: str

    @property
    def id(self) -> str:
        """``the-two-commands-sh-13``: the section, the language and the line."""
        section = re.sub(r"[^a-z0-9]+", "-", self.heading.lower()).strip("-")
        return f"{section}-{self.language}-{self.line}"


def readme_blocks() -> list[Block]:
    blocks: list[Block] = []
    heading, opened, body = "", None, []
    for number, line in enumerate(README.read_text().splitlines(), start=1):
        if opened is None and line.startswith("#"):
            heading = line.lstrip("#").strip()
        elif opened is None and line.startswith("```"):
            opened, body = (number, line[3:].strip()), []
        elif opened is not None and line.startswith("```"):
            blocks.append(Block(heading, opened[0], opened[1], "\n".join(body) + "\n"))
            opened = None
        elif opened is not None:
            body.append(line)
    assert opened is None, f"README.md: the block at line {opened[0]} is never closed"
    return blocks


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_http(url: str, process: subprocess.Popen[bytes], seconds: float = 60) -> bytes:
    deadline = time.monotonic() + seconds
    while True:
        assert process.poll() is None, f"the server exited with {process.returncode}"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return bytes(response.read())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.fixture(scope="module")
def plain_site(static_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``static/`` (plus ``input.mp4``) behind ``python -m http.server``: no ``Range``."""
    root = tmp_path_factory.mktemp("plain-site")
    for entry in static_dir.iterdir():
        (root / entry.name).symlink_to(entry)
    shutil.copy(h264_aac_clip(), root / "input.mp4")
    port = free_port()
    command = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    server = subprocess.Popen(command, cwd=root, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for_http(f"{url}/engine.mjs", server)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


# ---------------------------------------------------------------- sh lines


def sh_folder(tmp_path: Path) -> Path:
    for name in (".venv", "build_scripts", "static"):
        (tmp_path / name).symlink_to(REPO / name)
    shutil.copy(h264_aac_clip(), tmp_path / "input.mp4")
    return tmp_path


def run_line(line: str, cwd: Path, created_keys: list[str]) -> None:
    argv = shlex.split(line, comments=True)
    if not argv:
        return
    if argv[0] in ("./run.sh", "./test.sh") and len(argv) == 1:
        script = REPO / argv[0]
        assert script.is_file() and os.access(script, os.X_OK), f"{argv[0]} is not executable"
    elif argv[:2] == [".venv/bin/pywebcodecs", "convert"]:
        run_convert(argv, cwd)
    elif argv[:2] == [".venv/bin/pywebcodecs", "probe"]:
        run_probe(argv, cwd)
    elif argv[:2] == [".venv/bin/pywebcodecs", "serve"]:
        run_serve(argv, cwd)
    elif argv[:2] == [".venv/bin/pywebcodecs", "keys"]:
        run_keys(argv, cwd, created_keys)
    elif argv[0] == ".venv/bin/python" and argv[1].startswith("build_scripts/"):
        result = subprocess.run([*argv, "--help"], cwd=cwd, capture_output=True, text=True,
                                timeout=120)  # fmt: skip
        assert result.returncode == 0, result.stderr
    else:
        pytest.fail(f"README.md: no way to run this line in test_readme.py: {line!r}")


def run_convert(argv: list[str], cwd: Path) -> None:
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    source, output = cwd / argv[2], cwd / argv[3]
    if "--json" in argv:
        assert json.loads(result.stdout.strip().splitlines()[-1])["ok"] is True
    options = {arg: argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg.startswith("--")}
    container = options.get("--container", output.suffix[1:])
    assert_converted(source, output, container, video=options.get("--video-codec"),
                     audio=options.get("--audio-codec"))  # fmt: skip
    output.unlink()


def run_probe(argv: list[str], cwd: Path) -> None:
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    streams = ffprobe_streams(cwd / argv[2])
    if "--json" in argv:
        info = json.loads(result.stdout)
        assert [t["codec"] for t in info["tracks"]] == [s["codec_name"] for s in streams]
    else:
        assert all(s["codec_name"] in result.stdout for s in streams), result.stdout


def run_serve(argv: list[str], cwd: Path) -> None:
    port = free_port()
    if "--port" in argv:
        argv[argv.index("--port") + 1] = str(port)
    else:
        argv += ["--port", str(port)]
    server = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)  # fmt: skip
    try:
        page = wait_for_http(f"http://127.0.0.1:{port}/", server)
        assert b"pywebcodecs" in page
    finally:
        server.terminate()
        server.wait(timeout=10)


def run_keys(argv: list[str], cwd: Path, created_keys: list[str]) -> None:
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    if argv[2] == "create":
        created_keys.append(answer["public_key"])
    elif argv[2] == "list":
        listed = json.dumps(answer)
        assert all(key in listed for key in created_keys), (created_keys, listed)


# ---------------------------------------------------------------- js and html in Chromium

HARNESS = """<script>
window.readme = { progress: [], alerts: [] };
window.file = undefined;
window.showProgress = (fraction) => readme.progress.push(fraction);
window.alert = (message) => readme.alerts.push(String(message));
window.addEventListener("error", (event) => { readme.error = String(event.message); });
window.addEventListener("unhandledrejection", (event) => {
  readme.error = String(event.reason?.message ?? event.reason);
});
</script>"""

# After the snippet, in the same module: what it left behind, for the test to check.
EPILOGUE = """
window.readme.blob = typeof blob === "undefined" ? null : blob;
window.readme.done = true;
"""


def expected_output(snippet: str) -> tuple[str, str | None, str | None]:
    """The container and codecs a snippet asks for (quoted names in its text)."""
    found = re.findall(r'"(' + "|".join(CONTAINERS) + r')"', snippet)
    assert found, "the snippet names no container"
    video = re.search(r'video_?[cC]odec\s*[=:]\s*"(\w+)"', snippet)
    audio = re.search(r'audio_?[cC]odec\s*[=:]\s*"(\w+)"', snippet)
    return found[0], video and video.group(1), audio and audio.group(1)


def run_js(block: Block, browser: Browser, site: str, tmp_path: Path) -> None:
    page = open_harness(browser, site, h264_aac_clip(), HARNESS)
    try:
        page.evaluate("() => { window.file = fileInput.files[0]; }")
        if "engine.mjs" in block.text and block.text.lstrip().startswith("import"):
            page.add_script_tag(content=block.text + EPILOGUE, type="module")
            page.wait_for_function("readme.done || readme.error", timeout=RUN_MS)
            blob = "readme.blob ?? fetch(video.src).then((r) => r.blob())"
        elif "new Worker(" in block.text:
            page.add_script_tag(content=block.text)
            page.wait_for_function(
                "video.src.startsWith('blob:') || readme.alerts.length || readme.error",
                timeout=RUN_MS,
            )
            blob = "fetch(video.src).then((r) => r.blob())"
            assert page.evaluate("readme.progress.length") > 0, "no progress was shown"
        else:
            pytest.fail(f"README.md line {block.line}: no way to run this js snippet")
        assert page.evaluate("readme.error ?? readme.alerts[0] ?? null") is None
        container, video, audio = expected_output(block.text)
        output = save_blob(page, blob, tmp_path / f"out.{container}")
    finally:
        page.context.close()
    assert_converted(h264_aac_clip(), output, container, video, audio)


def run_pyscript(block: Block, browser: Browser, site: str, tmp_path: Path) -> None:
    """The snippet as the body of a page of the built site: once its ``#status`` says
    "Ready.", the clip is chosen in its ``#file-input`` and its ``video`` must end up
    holding the conversion the snippet asks for."""
    if "pyscript/core.js" not in block.text:
        pytest.fail(f"README.md line {block.line}: no way to run this html snippet")
    html = ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>readme</title>'
            f"</head><body>{block.text}</body></html>")  # fmt: skip
    page = browser.new_context().new_page()
    page.route("**/__readme.html",
               lambda route: route.fulfill(body=html, content_type="text/html"))  # fmt: skip
    try:
        page.goto(f"{site}/__readme.html")
        page.wait_for_function("document.querySelector('#status')?.textContent === 'Ready.'",
                               timeout=RUN_MS)  # fmt: skip
        page.set_input_files("#file-input", str(h264_aac_clip()))
        page.wait_for_function("video.src.startsWith('blob:')", timeout=RUN_MS)
        container, video, audio = expected_output(block.text)
        output = save_blob(page, "fetch(video.src).then((r) => r.blob())",
                           tmp_path / f"out.{container}")  # fmt: skip
    finally:
        page.context.close()
    assert_converted(h264_aac_clip(), output, container, video, audio)


# ---------------------------------------------------------------- the tests


@pytest.mark.timeout(600)
@pytest.mark.parametrize("block", readme_blocks(), ids=lambda block: block.id)
def test_readme_example(block: Block, browser: Browser, plain_site: str,
                        tmp_path: Path) -> None:  # fmt: skip
    if block.language == "sh":
        cwd, created_keys = sh_folder(tmp_path), []
        for line in block.text.splitlines():
            run_line(line, cwd, created_keys)
    elif block.language == "js":
        run_js(block, browser, plain_site, tmp_path)
    elif block.language == "html":
        run_pyscript(block, browser, plain_site, tmp_path)
    else:
        pytest.fail(f"README.md line {block.line}: no way to run a {block.language!r} block")


def test_the_readme_has_examples_of_every_kind() -> None:
    """If the parser broke, the examples would silently stop being tested."""
    kinds = [block.language for block in readme_blocks()]
    assert kinds.count("sh") >= 3 and kinds.count("js") >= 3 and "html" in kinds


@pytest.mark.timeout(300)
def test_a_url_from_a_server_that_ignores_range(browser: Browser, plain_site: str,
                                                tmp_path: Path) -> None:  # fmt: skip
    """``python -m http.server`` answers a ``Range`` request with the whole file (200)."""
    request = urllib.request.Request(f"{plain_site}/input.mp4", headers={"Range": "bytes=0-9"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200  # what this test is about
    page = open_harness(browser, plain_site, h264_aac_clip())
    try:
        page.evaluate("""async () => {
          const { convertMedia } = await import("./engine.mjs");
          window.out = convertMedia("./input.mp4", { container: "mkv" }).then((r) => r.blob);
        }""")
        output = save_blob(page, "window.out", tmp_path / "out.mkv")
    finally:
        page.context.close()
    assert_converted(h264_aac_clip(), output, "mkv")
