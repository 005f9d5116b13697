"""Small conversions between Python values and JS values."""

from __future__ import annotations

import dataclasses
from typing import Any

import js
from pyodide.ffi import JsProxy, to_js


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


def is_js(value: Any) -> bool:
    return isinstance(value, JsProxy)


def js_error_message(error: Any) -> str:
    """The message of a JS error/DOMException (name: message), or its string form."""
    name = getattr(error, "name", None)
    message = getattr(error, "message", None)
    if message is not None:
        return f"{name}: {message}" if name else str(message)
    return str(error)
