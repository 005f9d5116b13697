"""A loopback HTTP server for the built site, for the terminal commands and the tests.

It serves ``static/`` with the MIME types Pyodide needs and with HTTP range requests (the
engine reads inputs by ranges), and it can expose local files to the page and receive the
page's output, which is how ``pywebcodecs convert`` moves a file through the browser
without base64 round trips:

- the site's files are ``no-cache``: the browser revalidates its copy each time, by
  ``If-Modified-Since`` (Chromium sends no ``If-None-Match`` to an HTTP/1.0 server), and
  an unchanged file is answered ``304 Not Modified``, and a file rewritten since (a
  later mtime) is sent again. With ``immutable=True`` they are ``immutable`` instead: the
  browser keeps its copy without asking, which is right only on an origin (a port) that
  changes whenever a file does, as the terminal command's does
  (:func:`pywebcodecs_host.headless.site_port`);
- ``GET /__files/NAME`` serves a registered local file (ranges supported, never stored by
  the browser's cache: a GB input must not be copied into the profile);
- ``PUT /__files/NAME`` streams the request body into a registered output path: the whole
  file, or with ``Content-Range: bytes FIRST-LAST/*`` the bytes at that offset (the page
  streams its output in chunks this way and patches headers it wrote earlier, so neither
  Chromium nor this server ever holds the whole output). PUTs of different ranges may
  run at once; a refused one is answered with why, as text: a bad range 400, a write
  that failed (missing folder, full disk) 500 naming the file and the cause.
"""

from __future__ import annotations

import contextlib
import mimetypes
import os
import re
import sys
import threading
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

MIME_TYPES = {
    ".mjs": "text/javascript",
    ".js": "text/javascript",
    ".wasm": "application/wasm",
    ".whl": "application/zip",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".zip": "application/zip",
    ".webm": "video/webm",
    ".mp4": "video/mp4",
}
_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(?:\d+|\*)$")
#: A PUT's body is read and written this much at a time, into one buffer (4 MiB pieces
#: took twice the CPU of 1 MiB ones: 0.8 against 0.25 s for 400 MiB, on loopback).
_COPY_CHUNK = 1 << 20
#: How often the serving thread looks for :meth:`SiteServer.close`'s request to stop: the
#: default 0.5 s made every terminal command wait 0.25-0.5 s at its end.
_STOP_POLL_SECONDS = 0.05
#: A site file the browser may keep for a year without asking again.
_IMMUTABLE = "max-age=31536000, immutable"


class _QuietServer(ThreadingHTTPServer):
    """A page that stops reading a response (a Worker dropping the duplicate download of
    Pyodide's wasm its page compiled, a cancelled stream) is no error worth a traceback."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class SiteServer:
    """``with SiteServer(static_dir) as server: server.url`` — a site on a free port, or on
    ``port`` when it is free (a port taken by another server falls back to a free one).
    ``immutable``: the site's files are served as such on ``port`` (never on another)."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        immutable: bool = False,
    ) -> None:
        self.root = Path(root)
        self.immutable = immutable and port != 0
        self.inputs: dict[str, Path] = {}
        self.outputs: dict[str, Path] = {}
        self.requests: list[str] = []
        handler = _make_handler(self)
        try:
            self._httpd = _QuietServer((host, port), handler)
        except OSError:  # taken, e.g. by another `pywebcodecs convert` of this site
            if not port:
                raise
            self._httpd = _QuietServer((host, 0), handler)
            # Any port may serve another site later: only the asked-for one is immutable.
            self.immutable = False
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(_STOP_POLL_SECONDS,), daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def add_input(self, name: str, path: str | os.PathLike[str]) -> str:
        """Expose a local file to the page; returns its URL."""
        self.inputs[name] = Path(path)
        return f"{self.url}/__files/{name}"

    def add_output(self, name: str, path: str | os.PathLike[str]) -> str:
        """Accept one upload into ``path``; returns the URL the page PUTs to. A file left
        there before is removed, so that chunks never land among stale bytes."""
        self.outputs[name] = Path(path)
        self.outputs[name].unlink(missing_ok=True)
        return f"{self.url}/__files/{name}"

    def start(self) -> SiteServer:
        self._thread.start()
        return self

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> SiteServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def _make_handler(server: SiteServer) -> type[SimpleHTTPRequestHandler]:
    class Handler(SimpleHTTPRequestHandler):
        extensions_map = {**mimetypes.types_map, **MIME_TYPES}

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(server.root), **kwargs)

        def log_message(self, format: str, *args: Any) -> None:
            server.requests.append(self.path)

        def end_headers(self) -> None:
            self.send_header("Accept-Ranges", "bytes")
            if self._file_name() is not None:
                self.send_header("Cache-Control", "no-store")
            else:
                self.send_header("Cache-Control", _IMMUTABLE if server.immutable else "no-cache")
            super().end_headers()

        def do_GET(self) -> None:
            name = self._file_name()
            if name is None:
                super().do_GET()
            elif name in server.inputs:
                self._send_file_range(server.inputs[name])
            else:
                self.send_error(HTTPStatus.NOT_FOUND)

        def do_PUT(self) -> None:
            name = self._file_name()
            if name not in server.outputs:
                self.send_error(HTTPStatus.NOT_FOUND)
                return
            length = int(self.headers.get("Content-Length", "0"))
            content_range = self.headers.get("Content-Range")
            part = _CONTENT_RANGE.match(content_range or "")
            if content_range is not None and not part:
                self._refuse(HTTPStatus.BAD_REQUEST, f"bad Content-Range: {content_range}")
            elif part and int(part[2]) - int(part[1]) + 1 != length:
                self._refuse(HTTPStatus.BAD_REQUEST, "Content-Range and length differ")
            else:
                path = server.outputs[name]
                try:
                    received = _receive(self.rfile, path, int(part[1]) if part else None, length)
                except OSError as exc:  # disk full, folder gone: the page says why
                    self._refuse(HTTPStatus.INTERNAL_SERVER_ERROR, f"{path}: {exc.strerror}")
                    return
                if received < length:
                    self._refuse(HTTPStatus.BAD_REQUEST, f"body ended after {received} bytes")
                    return
                self.send_response(HTTPStatus.NO_CONTENT)
                self.end_headers()

        def _refuse(self, status: HTTPStatus, why: str) -> None:
            """Answer with ``why`` as the body (the page puts it in its error); the rest
            of a body not read would be taken for the next request, so the connection
            closes."""
            body = why.encode()
            self.close_connection = True
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)

        def _file_name(self) -> str | None:
            path = self.path.split("?", 1)[0]
            return path[len("/__files/") :] if path.startswith("/__files/") else None

        def _send_file_range(self, path: Path) -> None:
            size = path.stat().st_size
            start, end = 0, size - 1
            match = _RANGE.match(self.headers.get("Range", ""))
            if match:
                first, last = match.groups()
                if first:
                    start, end = int(first), min(int(last or size - 1), size - 1)
                else:
                    start, end = max(size - int(last or 0), 0), size - 1
                if start >= size or start > end:
                    self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
                    self.send_header("Content-Range", f"bytes */{size}")
                    self.end_headers()
                    return
                self.send_response(HTTPStatus.PARTIAL_CONTENT)
                self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
            else:
                self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", self.guess_type(str(path)))
            self.send_header("Content-Length", str(end - start + 1))
            self.end_headers()
            # The page may cancel a streamed range once it has read what it needed;
            # sendfile: the kernel copies, so the page's reads take no Python time.
            with open(path, "rb") as f, contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.connection.sendfile(f, start, end - start + 1)

    return Handler


def _receive(body: Any, path: Path, offset: int | None, length: int) -> int:
    """Write ``length`` bytes of a request body into ``path`` at ``offset`` (None: the
    whole file); returns how many arrived. Each PUT opens the file itself and writes with
    ``pwrite``, so that PUTs of other ranges run at the same time without sharing a file
    position."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if offset is None else 0)
    fd = os.open(path, flags, 0o644)
    try:
        buffer = memoryview(bytearray(min(length, _COPY_CHUNK)))
        position, received = offset or 0, 0
        while received < length:
            count = body.readinto(buffer[: min(length - received, len(buffer))])
            if not count:
                break
            os.pwrite(fd, buffer[:count], position + received)
            received += count
        return received
    finally:
        os.close(fd)
