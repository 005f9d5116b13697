"""Every test has a time limit, and running over it fails that test only, asyncio ones too."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from oracle import REPO

HANGS = """
import asyncio, time
import pytest

@pytest.mark.timeout(1)
async def test_awaits_forever():
    await asyncio.sleep(3600)

@pytest.mark.timeout(1)
def test_blocks_forever():
    time.sleep(3600)

def test_after_them_runs():
    pass
"""


def test_a_unit_test_gets_a_limit_below_the_fallback(request: pytest.FixtureRequest) -> None:
    marker = request.node.get_closest_marker("timeout")
    assert marker is not None
    assert 0 < marker.args[0] < float(request.config.getini("timeout"))


@pytest.mark.timeout(30)
def test_a_test_over_its_limit_fails_and_the_next_one_runs(tmp_path: Path) -> None:
    (tmp_path / "test_hangs.py").write_text(HANGS)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "-c", str(REPO / "pyproject.toml"), "--rootdir", str(tmp_path), str(tmp_path)],
        capture_output=True, text=True, timeout=25,
    )  # fmt: skip
    assert result.stdout.count("Timeout") >= 2, result.stdout
    assert "2 failed, 1 passed" in result.stdout, result.stdout
