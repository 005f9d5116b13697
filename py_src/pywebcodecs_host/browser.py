"""Launching the machine's Chromium for the terminal commands, benchmarks and tests.

Playwright drives Debian's ``/usr/bin/chromium`` (Playwright's own browser downloads
cannot run here and are not needed). The flags keep Chromium from reaching for the
network on its own; the site itself loads nothing from outside its origin.
"""

from __future__ import annotations

import os
import shutil

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]


def chromium_path() -> str:
    """The Chromium binary: ``$PYWEBCODECS_CHROMIUM``, else the system's ``chromium``."""
    path = os.environ.get("PYWEBCODECS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not os.path.exists(path):
        raise RuntimeError(
            f"Chromium not found at {path}: install Debian's chromium (the setup script does) "
            "or set PYWEBCODECS_CHROMIUM"
        )
    return path


def launch_options(extra_args: list[str] | None = None) -> dict[str, object]:
    """Keyword arguments for Playwright's ``chromium.launch``."""
    return {
        "executable_path": chromium_path(),
        "args": [*CHROMIUM_ARGS, *(extra_args or [])],
        "headless": True,
    }
