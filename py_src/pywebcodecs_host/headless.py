"""Running the engine in headless Chromium from the terminal.

``HeadlessEngine`` serves the built site on loopback, opens its runner page and converts
local files: the page reads the input by HTTP range requests and PUTs the output back.
The page hands the output back as it is written, a few MiB at a time (see
:mod:`pywebcodecs.browser.runner`). The same code serves ``pywebcodecs convert`` and the
benchmarks.

With ``cache=True`` (the terminal command's default) Chromium keeps a profile in
:func:`cache_dir` and the site is served on a port of its own files (:func:`site_port`):
the page's origin is the same from one run to the next, so its HTTP cache and Pyodide's
compiled WebAssembly are reused instead of fetched and compiled again. The files are
served as immutable, never revalidated: a file rewritten or rebuilt changes the port, so
it is fetched anew on an origin of its own. (Revalidated files, answered 304, had Chromium
throw away the compiled wasm it kept in some profiles and compile it again on every run:
the engine booted in twice the time.) One command at a time
holds the profile (a lock file beside it): another one running meanwhile starts a fresh
off-the-record context, as without the cache.
"""

from __future__ import annotations

import fcntl
import os
import time
import urllib.parse
import uuid
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from pywebcodecs.options import camel_case

from .browser import launch_options
from .site_server import SiteServer

REPO = Path(__file__).resolve().parents[2]
ENGINE_BOOT_TIMEOUT_MS = 120_000
#: Site ports are taken from here: below Linux's ephemeral ports (32768-60999), so that
#: a client socket seldom holds the port of a build.
SITE_PORTS = range(20000, 32768)
#: The cached profile's HTTP cache is kept to this (a build's files are ~15 MB; older
#: builds' are evicted), instead of Chromium's default share of the free disk.
CACHE_BYTES = 100 << 20


def default_static_dir() -> Path:
    """The built site: ``$PYWEBCODECS_STATIC``, else ``static/`` of this checkout."""
    return Path(os.environ.get("PYWEBCODECS_STATIC") or REPO / "static")


def cache_dir() -> Path:
    """Where the terminal command keeps Chromium's profile: ``$PYWEBCODECS_CACHE``, else
    ``$XDG_CACHE_HOME/pywebcodecs``, else ``~/.cache/pywebcodecs``."""
    if os.environ.get("PYWEBCODECS_CACHE"):
        return Path(os.environ["PYWEBCODECS_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pywebcodecs"


def site_port(static_dir: Path) -> int:
    """The loopback port of a built site, from its files' names, sizes and times: the same
    from one run to the next, so that the browser's caches, keyed by origin, serve the next
    run, and another one as soon as a file changes, so that nothing stale is kept."""
    listing = []
    for folder, _, names in os.walk(static_dir, followlinks=True):
        for name in names:
            path = Path(folder, name)
            stat = path.stat()
            listing.append(f"{path.relative_to(static_dir)} {stat.st_size} {stat.st_mtime_ns}")
    fingerprint = "\n".join(sorted(listing)).encode()
    return SITE_PORTS[zlib.crc32(fingerprint) % len(SITE_PORTS)]


def _lock_profile(profile_dir: Path) -> IO[str] | None:
    """Hold ``profile_dir`` for this process (the lock goes with the returned file, also
    when the process dies); None when another command holds it. Chromium itself would hand
    a second launch on one profile to the running browser, which Playwright cannot drive."""
    profile_dir.mkdir(parents=True, exist_ok=True)
    lock = open(profile_dir.with_name(profile_dir.name + ".lock"), "w")  # noqa: SIM115
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        return None
    return lock


class HeadlessEngine:
    """``with HeadlessEngine() as engine: engine.convert(a, b)``.

    Pass ``browser`` to open the runner page in a Chromium that is already running (the
    tests share one); otherwise the engine launches its own. Pass ``profile_dir`` to launch
    it with that user profile, as a user's browser runs: Playwright's own contexts are
    off the record, and there OPFS files live in memory, not on disk. Pass ``cache=True``
    to launch it with the lasting profile of :func:`cache_dir` when no other command holds
    it (see the module's docstring).
    """

    def __init__(
        self,
        static_dir: str | os.PathLike[str] | None = None,
        *,
        browser: Browser | None = None,
        profile_dir: str | os.PathLike[str] | None = None,
        cache: bool = False,
    ) -> None:
        root = Path(static_dir) if static_dir else default_static_dir()
        if not (root / "runner.html").exists():
            raise RuntimeError(f"no built site at {root}: run `python build_scripts/build_site.py`")
        self._profile_lock: IO[str] | None = None
        port = 0
        if cache and browser is None and profile_dir is None:
            self._profile_lock = _lock_profile(cache_dir() / "chromium")
            if self._profile_lock is not None:
                profile_dir, port = cache_dir() / "chromium", site_port(root)
        self.server = SiteServer(root, port=port, immutable=True)  # on a cached port only
        self._playwright: Playwright | None = None
        self._browser: Browser | None = browser
        self._owns_browser = browser is None
        self._context: BrowserContext | None = None
        self.profile_dir = profile_dir
        self.page: Page | None = None
        self.engine_ready_ms = 0.0
        self.console: list[str] = []
        self.on_progress: Callable[[dict[str, Any]], None] | None = None

    def __enter__(self) -> HeadlessEngine:
        self.server.start()
        if self.profile_dir is not None:
            self._playwright = sync_playwright().start()
            extra = [f"--disk-cache-size={CACHE_BYTES}"] if self._profile_lock else []
            self._context = self._playwright.chromium.launch_persistent_context(
                Path(self.profile_dir),
                **launch_options(extra),  # type: ignore[arg-type]
            )
        else:
            if self._browser is None:
                self._playwright = sync_playwright().start()
                self._browser = self._playwright.chromium.launch(**launch_options())  # type: ignore[arg-type]
            self._context = self._browser.new_context()
        # A persistent context opens with a blank page: that one, not a renderer more.
        page = self._context.pages[0] if self._context.pages else self._context.new_page()
        page.on("console", lambda message: self.console.append(message.text))
        page.expose_function("pwcProgress", self._progress)
        started = time.monotonic()
        page.goto(f"{self.server.url}/runner.html")
        page.wait_for_function(
            "window.engineReady === true || window.engineError !== undefined",
            timeout=ENGINE_BOOT_TIMEOUT_MS,
        )
        error = page.evaluate("window.engineError")
        if error:
            raise RuntimeError(f"the engine did not start in Chromium: {error}")
        self.engine_ready_ms = (time.monotonic() - started) * 1000
        self.page = page
        return self

    def __exit__(self, *exc: object) -> None:
        if self._context is not None:
            self._context.close()
        if self._owns_browser and self._browser is not None:
            self._browser.close()
        if self._playwright is not None:
            self._playwright.stop()
        self.server.close()
        if self._profile_lock is not None:
            self._profile_lock.close()

    def _progress(self, progress: dict[str, Any]) -> None:
        if self.on_progress is not None:
            self.on_progress(progress)

    def convert(self, input_path: str | os.PathLike[str], output_path: str | os.PathLike[str],
                **options: Any) -> dict[str, Any]:  # fmt: skip
        """Convert one file; returns the runner's summary (``ok``, frames, bytes, times).

        ``options`` are ``convert_media``'s keywords (``video_codec="vp9"``); ``None`` leaves
        one to the engine's default. They reach the page as its JS options (``videoCodec``).
        """
        assert self.page is not None
        token = uuid.uuid4().hex
        # The URL ends with the file's own name, so the engine's errors name it.
        name = urllib.parse.quote(Path(input_path).name)
        page_options = {camel_case(key): value for key, value in options.items()}
        page_options["inputUrl"] = self.server.add_input(f"{token}/{name}", input_path)
        page_options["outputUrl"] = self.server.add_output(f"out-{token}", output_path)
        summary: dict[str, Any] = self.page.evaluate(
            "(options) => window.runConversion(options)", page_options
        )
        summary["input_bytes"] = os.path.getsize(input_path)
        return summary
