"""The test media live in the repository: a clone alone runs every test.

Tests once read ``../shared/fixtures`` beside the checkout, which a fresh clone does not
have; these checks keep every fixture a test names inside the repository and described in
its README (provenance and licence).
"""

from __future__ import annotations

import re
from pathlib import Path

from oracle import FIXTURES, REPO

#: Every folder whose Python files may name a fixture.
TEST_SOURCES = [REPO / "tests", REPO / "e2e_tests", REPO / "build_scripts"]


def sources() -> list[Path]:
    """Every test and benchmark source but this one (whose patterns would match itself)."""
    here = Path(__file__).resolve()
    return sorted(p for folder in TEST_SOURCES for p in folder.glob("*.py") if p != here)


def test_the_fixture_folder_is_inside_the_repository() -> None:
    assert FIXTURES.resolve().is_relative_to(REPO)
    assert (FIXTURES / "README.md").is_file()


def test_every_fixture_a_test_names_exists_in_the_folder() -> None:
    named = {
        name
        for path in sources()
        for name in re.findall(r'FIXTURES / "([^"]+)"', path.read_text(encoding="utf-8"))
    }
    assert len(named) >= 7
    assert sorted(name for name in named if not (FIXTURES / name).is_file()) == []


def test_the_readme_lists_exactly_the_files_present_with_their_sizes() -> None:
    readme = (FIXTURES / "README.md").read_text(encoding="utf-8")
    assert "MPL" in readme and "Mediabunny" in readme
    listed = dict(re.findall(r"^\| `([^`]+)` \| (\d+) \|", readme, re.MULTILINE))
    present = {p.name: str(p.stat().st_size) for p in FIXTURES.iterdir() if p.name != "README.md"}
    assert listed == present


def test_no_test_reads_media_from_outside_the_repository() -> None:
    outside = re.compile(r"""(parent|\.\.)\s*/\s*["']shared|["']\.\./shared""")
    assert [path.name for path in sources() if outside.search(path.read_text("utf-8"))] == []
