"""CPython unit tests: the helpers beside them importable, and a time limit of their own."""

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from time_limits import limit_time  # noqa: E402

#: The slowest unit test takes ~5 s on a quiet 2-core machine (making its media with ffmpeg
#: included) and ~50 s when eight test runs share it; two minutes still end a hang early.
UNIT_TEST_SECONDS = 120


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    limit_time(items, HERE, UNIT_TEST_SECONDS)
