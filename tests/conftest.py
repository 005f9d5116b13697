"""CPython unit tests: the helpers beside them importable, and a time limit of their own."""

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from time_limits import limit_time  # noqa: E402

#: The slowest unit test takes ~4 s on this 2-core machine (hypothesis runs included); a
#: minute leaves room for a loaded machine and still ends a hang quickly.
UNIT_TEST_SECONDS = 60


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    limit_time(items, HERE, UNIT_TEST_SECONDS)
