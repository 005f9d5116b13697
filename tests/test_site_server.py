"""The loopback server the terminal commands use: range reads in, uploads out, real HTTP."""

import os
import socket
import struct
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from pywebcodecs_host.headless import SITE_PORTS, site_port
from pywebcodecs_host.site_server import SiteServer


@pytest.fixture
def server(tmp_path):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "engine.mjs").write_text("export {};")
    (tmp_path / "site" / "pyodide.asm.wasm").write_bytes(b"\0asm")
    with SiteServer(tmp_path / "site") as server:
        yield server


def fetch(url, method="GET", headers=None, data=None):
    request = urllib.request.Request(url, method=method, headers=headers or {}, data=data)
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_serves_the_mime_types_pyodide_needs(server):
    assert fetch(f"{server.url}/engine.mjs")[1]["Content-Type"] == "text/javascript"
    assert fetch(f"{server.url}/pyodide.asm.wasm")[1]["Content-Type"] == "application/wasm"


def test_inputs_answer_range_requests(server, tmp_path):
    data = bytes(range(256)) * 10
    (tmp_path / "in.mp4").write_bytes(data)
    url = server.add_input("in.mp4", tmp_path / "in.mp4")
    status, headers, body = fetch(url, headers={"Range": "bytes=100-199"})
    assert (status, body) == (206, data[100:200])
    assert headers["Content-Range"] == f"bytes 100-199/{len(data)}"
    status, _, body = fetch(url, headers={"Range": "bytes=-10"})
    assert (status, body) == (206, data[-10:])
    status, headers, _ = fetch(url, headers={"Range": "bytes=5000-"})
    assert status == 416 and headers["Content-Range"] == f"bytes */{len(data)}"
    assert fetch(url)[2] == data


def test_outputs_are_received_into_their_file(server, tmp_path):
    url = server.add_output("out", tmp_path / "out.webm")
    status, _, _ = fetch(url, method="PUT", data=b"x" * 3_000_000)
    assert status == 204
    assert (tmp_path / "out.webm").read_bytes() == b"x" * 3_000_000
    assert fetch(f"{server.url}/__files/unknown", method="PUT", data=b"x")[0] == 404


def test_outputs_arrive_in_chunks_at_their_offsets(server, tmp_path):
    """The page streams its output: chunks in order, then a patch of bytes sent before."""
    (tmp_path / "out.mkv").write_bytes(b"stale bytes of an earlier run " * 1000)
    url = server.add_output("out", tmp_path / "out.mkv")
    for first, data in ((0, b"a" * 5), (5, b"b" * 5), (2, b"XYZW")):
        headers = {"Content-Range": f"bytes {first}-{first + len(data) - 1}/*"}
        assert fetch(url, method="PUT", headers=headers, data=data)[0] == 204
    assert (tmp_path / "out.mkv").read_bytes() == b"aaXYZWbbbb"
    headers = {"Content-Range": "bytes 0-9/*"}
    assert fetch(url, method="PUT", headers=headers, data=b"short")[0] == 400


def test_concurrent_chunks_out_of_order_assemble_the_file(server, tmp_path):
    """The page keeps several PUTs in flight: they arrive in any order, at once."""
    data = os.urandom(3 << 20)
    url = server.add_output("out", tmp_path / "out.mkv")
    pieces = [(first, data[first : first + 300_001]) for first in range(0, len(data), 300_001)]

    def put(piece):
        first, body = piece
        headers = {"Content-Range": f"bytes {first}-{first + len(body) - 1}/*"}
        return fetch(url, method="PUT", headers=headers, data=body)[0]

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert set(pool.map(put, reversed(pieces))) == {204}
    assert (tmp_path / "out.mkv").read_bytes() == data


def test_a_bad_range_is_refused_and_writes_nothing(server, tmp_path):
    url = server.add_output("out", tmp_path / "out.mkv")
    refusals = {
        "bytes 0-9/*": "Content-Range and length differ",
        "bytes=0-4": "bad Content-Range: bytes=0-4",
        "bytes 4-0/*": "Content-Range and length differ",
    }
    for content_range, why in refusals.items():
        headers = {"Content-Range": content_range}
        status, _, body = fetch(url, method="PUT", headers=headers, data=b"short")
        assert (status, body.decode()) == (400, why)
    assert not (tmp_path / "out.mkv").exists()


def test_a_write_that_fails_answers_5xx_with_the_cause(server, tmp_path):
    """The page puts the server's answer in its error: it must say which file and why."""
    url = server.add_output("out", tmp_path / "gone" / "out.mkv")
    status, _, body = fetch(
        url, method="PUT", headers={"Content-Range": "bytes 0-4/*"}, data=b"bytes"
    )
    assert status == 500
    assert str(tmp_path / "gone" / "out.mkv") in body.decode()
    assert "No such file or directory" in body.decode()


def test_site_files_revalidate_and_a_rewritten_file_is_sent_again(server, tmp_path):
    """A Chromium with a lasting profile revalidates its copies: unchanged files are
    answered 304 (its HTTP cache and compiled wasm stay valid); a rebuild's file is sent."""
    url = f"{server.url}/pyodide.asm.wasm"
    status, headers, body = fetch(url)
    since = headers["Last-Modified"]
    assert (status, body, headers["Cache-Control"]) == (200, b"\0asm", "no-cache")
    assert fetch(url, headers={"If-Modified-Since": since})[:1] == (304,)
    wasm = tmp_path / "site" / "pyodide.asm.wasm"
    wasm.write_bytes(b"\0ASM")  # the same size, as a rebuild may write
    os.utime(wasm, (wasm.stat().st_atime, wasm.stat().st_mtime + 2))
    status, headers, body = fetch(url, headers={"If-Modified-Since": since})
    assert (status, body) == (200, b"\0ASM")


def test_inputs_are_never_stored_by_the_browser(server, tmp_path):
    (tmp_path / "in.mp4").write_bytes(b"data")
    url = server.add_input("in.mp4", tmp_path / "in.mp4")
    assert fetch(url)[1]["Cache-Control"] == "no-store"


def test_a_taken_port_falls_back_to_a_free_one(server, tmp_path):
    """Two commands at once: the second one's server cannot have the build's port."""
    port = int(server.url.rsplit(":", 1)[1])
    with SiteServer(tmp_path / "site", port=port) as second:
        assert second.url != server.url
        assert fetch(f"{second.url}/engine.mjs")[0] == 200


def test_an_immutable_site_is_kept_without_asking_but_only_on_its_own_port(server, tmp_path):
    """The terminal command's cached profile must not revalidate (Chromium then threw away
    the compiled wasm it kept); a fallback port may serve another site later, so there the
    files are revalidated as usual."""
    port = int(server.url.rsplit(":", 1)[1])
    server.close()
    with SiteServer(tmp_path / "site", port=port, immutable=True) as immutable:
        assert immutable.url == server.url
        headers = fetch(f"{immutable.url}/engine.mjs")[1]
        assert headers["Cache-Control"] == "max-age=31536000, immutable"
        with SiteServer(tmp_path / "site", port=port, immutable=True) as fallback:
            assert fallback.url != immutable.url
            assert fetch(f"{fallback.url}/engine.mjs")[1]["Cache-Control"] == "no-cache"


def test_the_site_port_changes_with_any_file_and_only_then(tmp_path):
    site = tmp_path / "site"
    (site / "pyodide").mkdir(parents=True)
    (site / "runner.html").write_text("<!doctype html>")
    (site / "pyodide" / "pyodide.asm.wasm").write_bytes(b"\0asm")
    port = site_port(site)
    assert port in SITE_PORTS and site_port(site) == port
    wasm = site / "pyodide" / "pyodide.asm.wasm"
    wasm.write_bytes(b"\0ASM")  # the same size, rewritten a little later
    os.utime(wasm, ns=(wasm.stat().st_atime_ns, wasm.stat().st_mtime_ns + 1))
    assert site_port(site) != port


def test_a_page_that_stops_reading_is_no_error(server, tmp_path, capfd):
    """A Worker drops the download of Pyodide's wasm its page compiled: the connection
    resets mid-response, which the server must not print as a traceback."""
    (tmp_path / "site" / "big.wasm").write_bytes(b"\0" * (16 << 20))
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as client:
        client.sendall(b"GET /big.wasm HTTP/1.1\r\nHost: x\r\n\r\n")
        assert client.recv(1024).startswith(b"HTTP/1.0 200")
        # Closing with SO_LINGER 0 resets the connection, as a cancelled fetch can.
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and "big.wasm" not in " ".join(server.requests):
        time.sleep(0.05)
    time.sleep(0.5)  # the handler's write fails once the reset arrives
    assert fetch(f"{server.url}/engine.mjs")[0] == 200  # still serving
    assert "Traceback" not in capfd.readouterr().err
