"""The page: choose a file, see what is inside, convert it, preview and download.

Runs under PyScript; the conversion itself is ``pywebcodecs.convert_media`` on the
browser's WebCodecs. Nothing is uploaded.
"""

import asyncio
import html

import js
from pyodide.ffi import create_proxy
from pyscript import document

import pywebcodecs
from pywebcodecs.browser.js_api import conversion_options
from pywebcodecs.browser.telemetry import start_outbox


def element(element_id):
    return document.getElementById(element_id)


class Page:
    def __init__(self):
        self.file = None
        self.controller = None
        self.object_url = None
        self._proxies = []
        self._on("file-input", "change", self.on_file_input)
        self._on("convert", "click", self.on_convert)
        self._on("cancel", "click", self.on_cancel)
        zone = element("drop-zone")
        for name in ("dragenter", "dragover"):
            self._on(zone, name, self.on_drag_over)
        self._on(zone, "dragleave", lambda event: zone.classList.remove("dragging"))
        self._on(zone, "drop", self.on_drop)
        element("engine-status").textContent = f"Engine ready (pywebcodecs in Python {_python()})."
        document.body.dataset.engine = "ready"

    def _on(self, target, name, handler):
        if isinstance(target, str):
            target = element(target)
        proxy = create_proxy(handler)
        self._proxies.append(proxy)
        target.addEventListener(name, proxy)

    def on_drag_over(self, event):
        event.preventDefault()
        element("drop-zone").classList.add("dragging")

    def on_drop(self, event):
        event.preventDefault()
        element("drop-zone").classList.remove("dragging")
        files = event.dataTransfer.files
        if files.length:
            asyncio.ensure_future(self.open_file(files.item(0)))

    def on_file_input(self, event):
        files = element("file-input").files
        if files.length:
            asyncio.ensure_future(self.open_file(files.item(0)))

    async def open_file(self, file):
        self.file = file
        element("result").hidden = True
        element("info").hidden = False
        element("info-body").innerHTML = f"<p>Reading {html.escape(file.name)}…</p>"
        try:
            info = await pywebcodecs.parse_media(file, count_packets=False)
        except pywebcodecs.PyWebCodecsError as exc:
            element("info-body").innerHTML = f'<p class="error">{html.escape(str(exc))}</p>'
            element("options").hidden = True
            return
        element("info-body").innerHTML = describe(info)
        element("options").hidden = False
        element("convert").disabled = False
        self.status("")

    def on_convert(self, event):
        asyncio.ensure_future(self.convert())

    def on_cancel(self, event):
        if self.controller is not None:
            self.controller.abort()

    async def convert(self):
        if self.file is None:
            return
        container = element("container").value
        self.controller = js.AbortController.new()
        element("convert").disabled = True
        element("cancel").hidden = False
        progress = element("progress")
        progress.hidden = False
        progress.value = 0
        self.status("Converting…")
        try:
            # The form's options go through the same boundary as every JS caller's; an
            # empty choice is "automatic", the engine's default.
            options = conversion_options({
                "container": container,
                "videoCodec": element("video-codec").value or None,
                "audioCodec": element("audio-codec").value or None,
                "rotate": int(element("rotate").value),
                "apiKey": getattr(document.body.dataset, "apiKey", None),
                "onProgress": self.on_progress,
                "signal": self.controller.signal,
            })  # fmt: skip
            result = await pywebcodecs.convert_media(self.file, **options)
        except pywebcodecs.ConversionAborted:
            self.status("Cancelled.")
        except pywebcodecs.PyWebCodecsError as exc:
            self.status(str(exc), error=True)
        except Exception as exc:  # a bug of ours: say so instead of spinning forever
            self.status(f"Unexpected error: {exc!r}", error=True)
            raise
        else:
            self.show_result(result, container)
        finally:
            element("convert").disabled = False
            element("cancel").hidden = True
            self.controller = None

    def on_progress(self, progress):
        element("progress").value = progress.fraction
        self.status(
            f"Converting… {progress.fraction * 100:.0f}% — {progress.video_frames} video frames, "
            f"{progress.output_bytes / 1e6:.1f} MB written"
        )

    def show_result(self, result, container):
        blob = result.save()
        if self.object_url:
            js.URL.revokeObjectURL(self.object_url)
        self.object_url = js.URL.createObjectURL(blob)
        stem = self.file.name.rsplit(".", 1)[0] or "converted"
        link = element("download")
        link.href = self.object_url
        link.download = f"{stem}.{container}"
        link.textContent = f"Download {stem}.{container}"
        element("preview").src = self.object_url
        p = result.progress
        element("result-size").textContent = (
            f"{p.output_bytes / 1e6:.2f} MB, {p.video_frames} video frames, "
            f"{p.audio_frames} audio packets, {p.elapsed_ms / 1000:.1f} s"
        )
        element("progress").value = 1
        element("result").hidden = False
        self.status("Done.")

    def status(self, text, error=False):
        line = element("status")
        line.textContent = text
        line.className = "error" if error else ""


def describe(info):
    duration = f"{info.duration:.2f} s" if info.duration else "unknown duration"
    rows = [
        f"<p>{html.escape(info.name)}: <strong>{html.escape(info.container)}</strong>, "
        f"{(info.size or 0) / 1e6:.2f} MB, {duration}</p>",
        "<table><tr><th>Track</th><th>Codec</th><th>Details</th></tr>",
    ]
    for track in info.tracks:
        if track.kind == "video":
            detail = f"{track.width}×{track.height}"
            if track.rotation:
                detail += f", rotated {track.rotation}°"
            if track.frame_rate:
                detail += f", {track.frame_rate:.2f} fps"
        else:
            detail = f"{track.sample_rate} Hz, {track.channels} channels"
        rows.append(
            f"<tr><td>{track.id} ({track.kind})</td><td>{html.escape(track.codec)}</td>"
            f"<td>{html.escape(detail)}</td></tr>"
        )
    rows.append("</table>")
    for key, value in info.tags.items():
        rows.append(f"<p class='muted'>{html.escape(key)}: {html.escape(value)}</p>")
    return "".join(rows)


def _python():
    import sys

    return sys.version.split()[0]


start_outbox()
page = Page()
