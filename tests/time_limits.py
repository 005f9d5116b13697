"""A time limit per kind of test, so that a hang fails one test instead of blocking the suite.

Each test folder's conftest gives its own tests a limit (pytest-timeout's ``timeout``
marker) unless a test sets one itself; the ``timeout`` in pyproject.toml is only the
fallback for a test collected without its folder's conftest.
"""

from __future__ import annotations

from pathlib import Path

import pytest


def limit_time(items: list[pytest.Item], folder: Path, seconds: float) -> None:
    """Give every test under ``folder`` without its own ``timeout`` marker ``seconds``."""
    for item in items:
        if item.path.is_relative_to(folder) and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(seconds))
