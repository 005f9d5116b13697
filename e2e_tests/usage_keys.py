"""A usage key pair for an end-to-end test, made the way an operator makes one: with the
``pywebcodecs keys create`` command, on the test's own database."""

from __future__ import annotations

import json
import subprocess
import sys


def create_key(database: str, name: str = "e2e") -> dict[str, str]:
    """``{"public_key": "pub_…", "secret_key": "sec_…", …}`` of a new key in ``database``."""
    created = subprocess.run(
        [sys.executable, "-m", "pywebcodecs_host.cli", "keys", "create", "--name", name,
         "--db", database],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    keys: dict[str, str] = json.loads(created.stdout)
    return keys
