"""The terminal command's cached profile: a second run takes the site from Chromium's cache
without asking the server, and still converts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from converted import assert_converted, h264_aac_clip
from pywebcodecs_host.headless import default_static_dir

REPO = Path(__file__).resolve().parents[1]
# The second run, in a process of its own (a second Playwright cannot start in the tests'
# process): the command's engine, with the server's request log printed.
_SECOND_RUN = """
import json, sys
from pywebcodecs_host.headless import HeadlessEngine
with HeadlessEngine(cache=True) as engine:
    assert engine.profile_dir is not None, "not the cached profile"
    summary = engine.convert(sys.argv[1], sys.argv[2], container="mkv")
print(json.dumps([summary, engine.server.requests]))
"""


@pytest.mark.timeout(300)
def test_a_second_run_asks_the_server_for_no_file_of_the_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first run (the command itself) fills the profile; the second, the engine the
    command drives, requests no file of the site, not even to revalidate it: only its input
    and output go over HTTP."""
    monkeypatch.setenv("PYWEBCODECS_CACHE", str(tmp_path / "cache"))
    source = h264_aac_clip()
    command = [sys.executable, "-m", "pywebcodecs_host.cli", "convert", str(source)]
    first = subprocess.run([*command, str(tmp_path / "first.mkv")], capture_output=True,
                           text=True, timeout=240, cwd=REPO)  # fmt: skip
    assert first.returncode == 0, first.stderr
    second = subprocess.run([sys.executable, "-c", _SECOND_RUN, str(source),
                             str(tmp_path / "second.mkv")],
                            capture_output=True, text=True, timeout=240, cwd=REPO)  # fmt: skip
    assert second.returncode == 0, second.stderr
    summary, requested = json.loads(second.stdout)
    assert summary["ok"], summary
    assert_converted(source, tmp_path / "second.mkv", "mkv")
    site = default_static_dir()
    site_files = [path for path in requested if (site / path.split("?")[0].lstrip("/")).is_file()]
    assert site_files == []
    assert any(path.startswith("/__files/") for path in requested)
