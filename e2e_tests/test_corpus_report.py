"""The edge-case corpus (``tests/corpus.py``) converted to WebM and MP4 in Chromium and
judged by ``build_scripts/corpus_report.py``: every row is good or the refusal expected
for that file, with its reason."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from corpus import EXPECTED, Outcome, make_corpus
from pywebcodecs_host.headless import HeadlessEngine

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "build_scripts"))

from corpus_report import TARGETS, Row, report  # noqa: E402


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    make_corpus(folder)
    return folder


def expected(row: Row) -> bool:
    accepted: tuple[Outcome, ...] = EXPECTED[row.name][row.target]
    return any(
        row.outcome == outcome
        if isinstance(outcome, str)
        else row.outcome == outcome[0] and re.search(outcome[1], row.detail) is not None
        for outcome in accepted
    )


def test_every_corpus_row_is_good_or_the_expected_refusal(
    engine: HeadlessEngine, corpus: Path
) -> None:
    rows = report(corpus, lambda source, output, container: engine.convert(
        source, output, container=container))  # fmt: skip
    assert sorted((row.name, row.target) for row in rows) == sorted(
        (name, target) for name in EXPECTED for target in TARGETS
    )
    assert [row for row in rows if not expected(row)] == []
    truncated = [row for row in rows if row.name == "truncated-mid-mdat.mp4"]
    assert all("cut off" in row.detail for row in truncated)  # a warning, never silence


def test_the_report_runs_the_terminal_command(corpus: Path, tmp_path: Path) -> None:
    """The script as a user runs it: ``pywebcodecs convert`` per file and target (each
    starts Chromium, so one file and one target here), one table, the totals."""
    (tmp_path / "in").mkdir()
    shutil.copy(corpus / "moov-at-end.mp4", tmp_path / "in")
    command = [sys.executable, str(REPO / "build_scripts" / "corpus_report.py"),
               str(tmp_path / "in"), "--targets", "webm"]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=280, cwd=REPO)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert re.match(r"moov-at-end\.mp4 +webm +good", lines[0])
    assert lines[-1] == "1 conversions: 1 good, 0 refused, 0 bad output"
