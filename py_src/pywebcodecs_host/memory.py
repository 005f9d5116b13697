"""How much memory the tab used: the peak resident size of Chromium's renderer processes.

Chromium's DevTools protocol names its processes (``SystemInfo.getProcessInfo``: type
``renderer``, and the OS process id), and the kernel keeps each process's peak resident
set (``VmHWM`` in ``/proc/PID/status``). That peak counts everything the tab holds:
the JS heap, Pyodide's WebAssembly memory, decoded frames, Blob parts kept in the
renderer. It includes the engine's start-up, so it is an upper bound of what a
conversion needs. For the memory test and ``build_scripts/bench_memory.py``; Linux only.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser


def renderer_pids(browser: Browser) -> list[int]:
    """The OS process ids of ``browser``'s renderer processes."""
    session = browser.new_browser_cdp_session()
    try:
        info = session.send("SystemInfo.getProcessInfo")
    finally:
        session.detach()
    return [int(p["id"]) for p in info["processInfo"] if p["type"] == "renderer"]


def peak_resident_mib(pids: list[int]) -> float:
    """The largest peak resident size (``VmHWM``) among ``pids``, in MiB."""
    peaks = [0.0]
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except FileNotFoundError:  # a renderer that has exited
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]) / 1024)
    return max(peaks)
