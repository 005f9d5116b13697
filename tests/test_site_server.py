"""The loopback server the terminal commands use: range reads in, uploads out, real HTTP."""

import urllib.request

import pytest

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
