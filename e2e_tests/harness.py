"""A page of our own on the built site's origin, for running JS the way a user's page does.

The page is answered by Playwright (``page.route``) at ``/__harness.html`` of whatever
server serves ``static/``, so relative imports (``./engine.mjs``) resolve as in a user's
site and nothing is written into the shared ``static/``. It holds the names users' pages
typically have: ``fileInput`` (a file input), ``video``, and ``blobBase64(blob)`` to hand
a result back to the test.
"""

from __future__ import annotations

import base64
from pathlib import Path

from playwright.sync_api import Browser, Page, Route

BLOB_BASE64 = """async function blobBase64(blob) {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}"""
PAGE = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>harness</title>
<script>{BLOB_BASE64}</script></head>
<body><input type="file" id="fileInput"><video id="video"></video>
BODY
</body></html>"""


def open_harness(browser: Browser, site_url: str, input_file: Path, body: str = "") -> Page:
    """A new page at ``site_url/__harness.html`` with ``input_file`` chosen in ``fileInput``."""
    page = browser.new_context().new_page()

    def answer(route: Route) -> None:
        route.fulfill(status=200, content_type="text/html", body=PAGE.replace("BODY", body))

    page.route("**/__harness.html", answer)
    page.goto(f"{site_url}/__harness.html")
    page.set_input_files("#fileInput", str(input_file))
    return page


def save_blob(page: Page, expression: str, path: Path) -> Path:
    """Write the Blob that the JS ``expression`` evaluates to (in any page) to ``path``."""
    encoded = page.evaluate(
        f"async () => {{ {BLOB_BASE64}; return blobBase64(await ({expression})); }}"
    )
    path.write_bytes(base64.b64decode(encoded))
    return path


def stalled_conversion(decoder: str, options: str) -> str:
    """JS converting ``fileInput``'s file with ``options`` (a JS object literal) while every
    ``decoder`` (``VideoDecoder``, ``AudioDecoder``) made reports a queue that stays full
    forever, the engine's stall period cut to 1.5 s; answers the error's name, message and
    how long it took to come (ms)."""
    return f"""async () => {{
  const {{ loadEngine, convertMedia }} = await import("./engine.mjs");
  const pyodide = await loadEngine();
  pyodide.runPython(
    "import pywebcodecs.browser.transcode.session as s; s.STALL_SECONDS = 1.5");
  const Real = {decoder};
  globalThis.{decoder} = class extends Real {{
    get decodeQueueSize() {{ return 1000; }}
  }};
  const started = performance.now();
  try {{
    await convertMedia(fileInput.files[0], {options});
    return {{ ok: true }};
  }} catch (error) {{
    return {{ name: error.name, message: error.message, ms: performance.now() - started }};
  }} finally {{
    globalThis.{decoder} = Real;
  }}
}}"""
