"""The headless runner: what ``pywebcodecs convert`` and the benchmarks call in the page.

The host serves the input at a URL (range reads), calls :func:`run` through Playwright
with ``inputUrl``, ``outputUrl`` and the JS conversion options (camelCase, any left out or
``null``), and receives the output as it is written: each few MiB are ``PUT`` with their
offset (:class:`~.http_sink.HttpRangeSink`), so large files never travel as base64 through the
automation channel and neither the tab nor the host holds the whole output.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

import js

from ..conversion import ConversionProgress, convert_media
from ..errors import PyWebCodecsError
from ..options import conversion_kwargs
from .http_sink import HttpRangeSink
from .interop import from_js, js_object


async def run(options: Any) -> Any:
    """Convert ``options.inputUrl`` and PUT the result to ``options.outputUrl`` as it is
    written. With ``sink`` ("opfs", "memory") the output goes there first and is then
    uploaded whole (fetch streams an OPFS ``File`` from disk) and removed: how the tests
    and the memory benchmark measure the OPFS sink."""
    started = time.monotonic()

    def on_progress(progress: Any) -> None:
        relay = getattr(js.globalThis, "pwcProgress", None)
        if relay is not None:
            relay(progress)

    try:
        opts = from_js(options) or {}
        input_url, output_url = opts.pop("inputUrl", None), opts.pop("outputUrl", None)
        kwargs = conversion_kwargs(opts)
        if output_url and "sink" not in kwargs:
            kwargs["sink"] = HttpRangeSink(output_url)
        result = await convert_media(input_url, **{**kwargs, "on_progress": on_progress})
        convert_ms = (time.monotonic() - started) * 1000
        sink_name = type(result.sink).__name__
        if output_url and not isinstance(result.sink, HttpRangeSink):
            init = js_object({"method": "PUT", "body": result.save()})
            response = await js.fetch(output_url, init)
            await result.remove()
            if not response.ok:
                raise PyWebCodecsError(f"could not hand the output back: HTTP {response.status}")
        summary = _summary(result.progress, convert_ms, True, None)
        summary["sink"] = sink_name
        summary["tracks"] = [asdict(outcome) for outcome in result.tracks]
        summary["warnings"] = list(result.warnings)
        return js_object(summary)
    except PyWebCodecsError as exc:
        return js_object(_summary(None, (time.monotonic() - started) * 1000, False, str(exc)))


def _summary(
    progress: ConversionProgress | None, convert_ms: float, ok: bool, error: str | None
) -> dict[str, Any]:
    summary: dict[str, Any] = {"ok": ok, "convert_ms": round(convert_ms, 1)}
    if error is not None:
        summary["error"] = error
    if progress is not None:
        summary.update(
            input_bytes=progress.input_bytes,
            output_bytes=progress.bytes_written,
            video_frames=progress.video_frames,
            audio_frames=progress.audio_frames,
            output_seconds=progress.output_seconds,
        )
    return summary
