"""The engine as JS calls it: ``convertMedia(src, options)`` of ``engine.mjs`` and the Worker.

Options come as one camelCase JS object and go through the one boundary
(:func:`conversion_options`). The answer is a plain JS object rather than a raised
exception, because a Python exception reaches JS as a ``PythonError`` whose message is the
whole traceback: ``{ok: true, blob, mimeType, summary, tracks,
warnings}`` or ``{ok: false, error,
errorName}`` with the engine's own message and error class name. :func:`inspect` answers
the page's "what is inside" the same way.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ..conversion import convert_media
from ..errors import OptionError, PyWebCodecsError
from ..options import conversion_kwargs
from .inspection import inspection
from .interop import from_js, js_object, wants_js


def conversion_options(options: Any) -> dict[str, Any]:
    """``convert_media`` keyword arguments from a JS options object (or ``None``/``null``)."""
    return conversion_kwargs(from_js(options))


async def convert(src: Any, options: Any = None) -> Any:
    """Convert ``src`` (a ``File``, ``Blob`` or URL) with JS ``options``; see the module doc."""
    try:
        result = await convert_media(_source(src), **conversion_options(options))
        answer = {
            "ok": True,
            "blob": result.save(),
            "mimeType": result.mime_type,
            "summary": wants_js(result.progress),
            "tracks": [wants_js(outcome) for outcome in result.tracks],
            "warnings": list(result.warnings),
        }
    except PyWebCodecsError as exc:
        answer = _failure(exc)
    # One turn of the event loop lets the usage event's request leave before the caller,
    # having its answer, may terminate a worker (the request is sent with keepalive).
    await asyncio.sleep(0)
    return js_object(answer)


async def inspect(src: Any) -> Any:
    """``{ok: true, info}`` (see :func:`~pywebcodecs.browser.inspection.inspection`) or
    ``{ok: false, error, errorName}`` for ``src`` (a ``File``, ``Blob`` or URL)."""
    try:
        answer = {"ok": True, "info": await inspection(_source(src))}
    except PyWebCodecsError as exc:
        answer = _failure(exc)
    return js_object(answer)


def _failure(exc: PyWebCodecsError) -> dict[str, Any]:
    return {"ok": False, "error": str(exc), "errorName": type(exc).__name__}


def _source(src: Any) -> Any:
    source = from_js(src)
    if source is None:
        raise OptionError("no input: pass a File, a Blob or a URL")
    return source
