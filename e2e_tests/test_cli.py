"""``pywebcodecs convert`` and ``probe`` as a user runs them in a terminal."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from converted import assert_converted, h264_aac_clip
from media import summarize
from oracle import FIXTURES
from pywebcodecs_host.headless import HeadlessEngine, default_static_dir

REPO = Path(__file__).resolve().parents[1]
PYWEBCODECS = [sys.executable, "-m", "pywebcodecs_host.cli"]


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PYWEBCODECS, *map(str, args)], capture_output=True, text=True,
                          timeout=600, cwd=REPO)  # fmt: skip


def test_convert_prints_one_json_summary_and_writes_the_output(tmp_path: Path) -> None:
    output = tmp_path / "frames.webm"
    result = run("convert", FIXTURES / "frames.webm", output, "--video-codec", "vp8", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["ok"] is True
    for key in ("input_bytes", "output_bytes", "video_frames", "audio_frames",
                "engine_ready_ms", "convert_ms"):  # fmt: skip
        assert key in summary
    assert summary["output_bytes"] == output.stat().st_size
    assert summary["video_frames"] == summarize(output)["video"].packets == 100
    assert "%" in result.stderr  # progress went to stderr


def test_convert_failure_exits_1_and_leaves_no_output(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.webm"
    garbage.write_bytes(b"\x1a\x45\xdf\xa3" + b"\xff" * 500)
    output = tmp_path / "out.webm"
    result = run("convert", garbage, output, "--json")
    assert result.returncode == 1
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["ok"] is False and "garbage.webm" in summary["error"]
    assert "garbage.webm" in result.stderr
    assert not output.exists()
    assert list(tmp_path.iterdir()) == [garbage]


def test_probe_describes_a_file_without_a_browser() -> None:
    result = run("probe", FIXTURES / "frames.webm", "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["container"] == "webm"
    (video,) = info["tracks"]
    assert (video["codec"], video["width"], video["height"]) == ("vp9", 1080, 1080)
    assert video["packet_count"] == 100


@pytest.mark.timeout(300)
@pytest.mark.parametrize("container", ["webm", "mp4", "mkv"])
def test_convert_with_no_options(tmp_path: Path, container: str) -> None:
    """``pywebcodecs convert IN OUT``: the container from OUT's name, codecs automatic."""
    source = h264_aac_clip()
    output = tmp_path / f"out.{container}"
    result = run("convert", source, output)
    assert result.returncode == 0, result.stderr
    assert_converted(source, output, container)


@pytest.mark.timeout(300)
def test_convert_with_only_the_video_codec(tmp_path: Path) -> None:
    source = h264_aac_clip()
    output = tmp_path / "out.webm"
    result = run("convert", source, output, "--video-codec", "vp9", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["ok"] is True
    assert_converted(source, output, "webm", video="vp9")


@pytest.mark.timeout(300)
def test_runs_in_a_row_reuse_the_cached_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second run starts from the profile the first left (its HTTP cache holds the
    site) and converts as well; ``--no-cache`` leaves the profile alone."""
    monkeypatch.setenv("PYWEBCODECS_CACHE", str(tmp_path / "cache"))
    source = h264_aac_clip()
    for name in ("first.mkv", "second.mkv"):
        result = run("convert", source, tmp_path / name)
        assert result.returncode == 0, result.stderr
        assert_converted(source, tmp_path / name, "mkv")
    cached = tmp_path / "cache" / "chromium" / "Default" / "Cache"
    assert cached.is_dir() and any(path.is_file() for path in cached.rglob("*"))
    monkeypatch.setenv("PYWEBCODECS_CACHE", str(tmp_path / "unused"))
    result = run("convert", source, tmp_path / "third.mkv", "--no-cache")
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "unused").exists()


@pytest.mark.timeout(300)
def test_two_commands_at_once_both_convert(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One holds the cached profile and the build's port; the other starts afresh on a
    free port instead of failing on the profile's lock or the taken port."""
    monkeypatch.setenv("PYWEBCODECS_CACHE", str(tmp_path / "cache"))
    source = h264_aac_clip()
    outputs = [tmp_path / "a.mkv", tmp_path / "b.mkv"]
    command = [*PYWEBCODECS, "convert", str(source)]
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
    processes = [subprocess.Popen([*command, str(out)], cwd=REPO, **pipes) for out in outputs]
    for process in processes:
        _, stderr = process.communicate(timeout=240)
        assert process.returncode == 0, stderr
    for output in outputs:
        assert_converted(source, output, "mkv")


@pytest.mark.timeout(300)
def test_a_rebuilt_file_is_used_by_the_cached_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file of the site rewritten in place (same build hash, so the same port and the same
    cache entries) is fetched again, not taken from the cached profile: here a runner page
    that refuses to start, so the command fails with its message."""
    monkeypatch.setenv("PYWEBCODECS_CACHE", str(tmp_path / "cache"))
    site = tmp_path / "site"
    shutil.copytree(default_static_dir(), site, symlinks=True)
    monkeypatch.setenv("PYWEBCODECS_STATIC", str(site))
    result = run("convert", FIXTURES / "frames.webm", tmp_path / "first.mkv")
    assert result.returncode == 0, result.stderr
    runner = site / "runner.html"
    runner.write_text(runner.read_text().replace(
        "window.engineReady = true;", 'window.engineError = "the rebuilt runner";'
    ))  # fmt: skip
    result = run("convert", FIXTURES / "frames.webm", tmp_path / "second.mkv", "--json")
    assert result.returncode == 1
    assert "the rebuilt runner" in json.loads(result.stdout.strip().splitlines()[-1])["error"]


def test_convert_into_a_missing_folder_fails_naming_the_output(tmp_path: Path) -> None:
    """The host cannot write the output (here its folder does not exist; a full disk goes
    the same way): the server refuses the page's PUT with the cause, and the command exits
    1 naming the output and the cause instead of leaving a short file or hanging."""
    output = tmp_path / "missing" / "out.webm"
    result = run("convert", FIXTURES / "frames.webm", output, "--video-codec", "vp8", "--json")
    assert result.returncode == 1
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["ok"] is False
    assert "No such file or directory" in summary["error"]
    assert f"-> {output}:" in result.stderr and "No such file or directory" in result.stderr
    assert list(tmp_path.iterdir()) == []


# Writes 9 MiB through the terminal's sink in 1 MiB writes (PUTs of 0-4 and 4-8 MiB leave
# at once, the last MiB waits in the buffer), then patches bytes inside both PUTs, as a
# muxer patches sizes it wrote before.
_PATCHES_WHILE_IN_FLIGHT = """async (url) => {
  const pyodide = await (await import("/engine.mjs")).loadEngine();
  pyodide.globals.set("sink_url", url);
  return await pyodide.runPythonAsync(`
from pywebcodecs.browser.http_sink import HttpRangeSink
sink = HttpRangeSink(sink_url)
for index in range(9):
    await sink.write(bytes([index]) * (1 << 20))
await sink.write_at(10, b"PATCH")
await sink.write_at((5 << 20) - 2, b"OVER")
await sink.complete()
sink.position
`);
}"""


def test_patches_of_bytes_in_flight_land_after_them(engine: HeadlessEngine, tmp_path: Path) -> None:
    """Several PUTs are in flight at once; a patch of bytes one of them carries must not
    race it (the server would write whichever arrives last)."""
    out = tmp_path / "out.bin"
    url = engine.server.add_output("patched", out)
    assert engine.page is not None
    assert engine.page.evaluate(_PATCHES_WHILE_IN_FLIGHT, url) == 9 << 20
    expected = bytearray(b"".join(bytes([index]) * (1 << 20) for index in range(9)))
    expected[10:15] = b"PATCH"
    expected[(5 << 20) - 2 : (5 << 20) + 2] = b"OVER"
    assert out.read_bytes() == expected
