"""How much memory the tab used: the peak resident size of Chromium's renderer processes.

The renderers are the processes of the Chromium that runs with a given user profile
(``--user-data-dir``) whose command line says ``--type=renderer``, and the kernel keeps
each process's peak resident set (``VmHWM`` in ``/proc/PID/status``). That peak counts
everything the tab holds: the JS heap, Pyodide's WebAssembly memory, decoded frames,
buffers on their way to disk. It includes the engine's start-up, so it is an upper bound
of what a conversion needs. For the memory test and ``build_scripts/bench_memory.py``
(with :class:`~.headless.HeadlessEngine`'s ``profile_dir``); Linux only.
"""

from __future__ import annotations

import os
import re
from pathlib import Path


def renderer_pids(profile_dir: str | os.PathLike[str]) -> list[int]:
    """The process ids of the renderers of the Chromium using ``profile_dir`` (each one's
    command line, which Chromium rewrites as one string, names both)."""
    flag = re.compile(rb"--user-data-dir=" + re.escape(str(profile_dir).encode()) + rb"(\s|\0|$)")
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if b"--type=renderer" in command and flag.search(command):
            found.append(int(entry.name))
    return found


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
