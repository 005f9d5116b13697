"""The options a JS caller gives a conversion, checked once, with errors that name them.

JS hands its options as one camelCase object in which anything may be missing, ``null``
or ``undefined``, a number may be NaN or a string, and a misspelt name is ignored by JS
itself. Every JS entry (``convertMedia`` of ``engine.mjs``, the Web Worker, the headless
runner behind ``pywebcodecs convert``, the page) turns its object into plain Python with
:func:`pywebcodecs.browser.interop.from_js` and then into ``convert_media``'s keyword
arguments here, so a left-out option means the engine's default everywhere and a wrong
one is an :class:`~pywebcodecs.errors.OptionError` that names it. Pure Python, so that
the rules are unit-tested in CPython.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from .errors import OptionError

# camelCase name in JS → convert_media's keyword.
OPTION_NAMES = {
    "container": "container",
    "videoCodec": "video_codec",
    "audioCodec": "audio_codec",
    "rotate": "rotate",
    "resize": "resize",
    "apiKey": "api_key",
    "telemetryEndpoint": "telemetry_endpoint",
    "onProgress": "on_progress",
    "onVideoTrack": "on_video_track",
    "onAudioTrack": "on_audio_track",
    "signal": "signal",
    "sink": "sink",
    "fastStart": "fast_start",
    "fragmented": "fragmented",
}
_TEXT = ("container", "videoCodec", "audioCodec", "apiKey", "telemetryEndpoint")
_FUNCTIONS = ("onProgress", "onVideoTrack", "onAudioTrack")
_FLAGS = ("fastStart", "fragmented")


def conversion_kwargs(options: Mapping[str, Any] | None) -> dict[str, Any]:
    """``convert_media`` keyword arguments from a JS options object already made plain
    Python; options left out or ``None`` are left to ``convert_media``'s defaults."""
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise OptionError(f"options must be an object, got {_shown(options)}")
    kwargs: dict[str, Any] = {}
    for name, value in options.items():
        if name not in OPTION_NAMES:
            raise OptionError(_unknown(name))
        if value is not None:
            kwargs[OPTION_NAMES[name]] = _checked(name, value)
    return kwargs


def _checked(name: str, value: Any) -> Any:
    if name in _TEXT:
        if not isinstance(value, str):
            raise OptionError(f"{name} must be a string, got {_shown(value)}")
        return value
    if name in _FUNCTIONS:
        if not callable(value):
            raise OptionError(f"{name} must be a function, got {_shown(value)}")
        return value
    if name == "rotate":
        return _whole_number(name, value)
    if name == "resize":
        return _resize(value)
    if name in _FLAGS:
        if not isinstance(value, bool):
            raise OptionError(f"{name} must be true or false, got {_shown(value)}")
        return value
    if name == "sink":
        if value in ("memory", "opfs") or hasattr(value, "createWritable"):
            return value
        raise OptionError(
            f"sink must be 'memory', 'opfs' or a FileSystemFileHandle, got {_shown(value)}"
        )
    if getattr(value, "aborted", None) is None:  # signal
        raise OptionError(f"signal must be an AbortSignal, got {_shown(value)}")
    return value


def _resize(value: Any) -> tuple[int | None, int | None]:
    """``[width, height]`` or ``{width, height}``; either side may be left out or null."""
    if isinstance(value, Mapping):
        extra = set(value) - {"width", "height"}
        if extra:
            raise OptionError(f"resize takes width and height, not {', '.join(sorted(extra))}")
        sides = [value.get("width"), value.get("height")]
    elif isinstance(value, list | tuple) and len(value) == 2:
        sides = list(value)
    else:
        raise OptionError(f"resize must be [width, height], got {_shown(value)}")
    width, height = (
        None if side is None else _whole_number(f"resize {label}", side, positive=True)
        for side, label in zip(sides, ("width", "height"), strict=True)
    )
    if width is None and height is None:
        raise OptionError("resize needs a width or a height")
    return width, height


def _whole_number(name: str, value: Any, *, positive: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise OptionError(f"{name} must be a number, got {_shown(value)}")
    if not math.isfinite(value) or value != int(value):
        raise OptionError(f"{name} must be a whole number, got {_shown(value)}")
    if positive and value <= 0:
        raise OptionError(f"{name} must be more than 0, got {_shown(value)}")
    return int(value)


def _unknown(name: str) -> str:
    camel = camel_case(name)
    hint = f" (did you mean {camel}?)" if camel in OPTION_NAMES else ""
    return f"unknown option {name!r}{hint}; the options are {', '.join(OPTION_NAMES)}"


def camel_case(name: str) -> str:
    """``video_codec`` → ``videoCodec``: the JS name of a Python keyword."""
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _shown(value: Any) -> str:
    """A value as a JS user would write it, for messages."""
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else f"{'-' if value < 0 else ''}Infinity"
    return repr(value)
