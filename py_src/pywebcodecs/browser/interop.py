"""Small conversions between Python values and JS values."""

from __future__ import annotations

import dataclasses
from typing import Any

import js
from pyodide.ffi import JsProxy, jsnull, to_js


def js_object(value: dict[str, Any]) -> Any:
    """A plain JS object (not a ``Map``) from a dict, recursively."""
    return to_js(value, dict_converter=js.Object.fromEntries)


def wants_js(value: Any) -> Any:
    """A dataclass as a plain JS object, for callbacks written in JS or Python alike."""
    return js_object(dataclasses.asdict(value))


def js_bytes(data: bytes | bytearray | memoryview) -> Any:
    """A new ``Uint8Array`` holding a copy of ``data``."""
    array = js.Uint8Array.new(len(data))
    array.assign(data)
    return array


def from_js(value: Any) -> Any:
    """A value from JS as plain Python: ``null``/``undefined`` → ``None``, arrays → lists
    and plain objects → dicts, recursively.

    Pyodide hands JS ``null`` over as ``jsnull`` (not ``None``) and arrays and objects as
    proxies, so without this a left-out option reads as the codec "jsnull". Other JS
    objects (``File``, ``Blob``, ``AbortSignal``, functions, ``URL``) stay as they are: the
    engine uses them as objects.
    """
    if value is None or value is jsnull:
        return None
    if isinstance(value, dict):
        return {key: from_js(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [from_js(item) for item in value]
    if not isinstance(value, JsProxy):
        return value
    if js.Array.isArray(value):
        return [from_js(item) for item in value]
    if str(js.Object.prototype.toString.call(value)) == "[object Object]":
        return {str(key): from_js(item) for key, item in js.Object.entries(value)}
    return value


def js_error_message(error: Any) -> str:
    """The message of a JS error/DOMException (name: message), or its string form."""
    name = getattr(error, "name", None)
    message = getattr(error, "message", None)
    if message is not None:
        return f"{name}: {message}" if name else str(message)
    return str(error)
