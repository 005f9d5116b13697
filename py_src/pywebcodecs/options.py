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
    "crop": "crop",
    "trim": "trim",
    "frameRate": "frame_rate",
    "videoBitrate": "video_bitrate",
    "audioBitrate": "audio_bitrate",
    "quality": "quality",
    "keyframeInterval": "keyframe_interval",
    "hardwareAcceleration": "hardware_acceleration",
    "latencyMode": "latency_mode",
    "sampleRate": "sample_rate",
    "channels": "channels",
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
_TEXT = ("container", "videoCodec", "audioCodec", "apiKey", "telemetryEndpoint", "quality",
         "hardwareAcceleration", "latencyMode")  # fmt: skip
_BITRATES = ("videoBitrate", "audioBitrate", "sampleRate", "channels")
_SECONDS = ("frameRate", "keyframeInterval")
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
    if name == "crop":
        return _crop(value)
    if name == "trim":
        return _trim(value)
    if name in _BITRATES:
        return _whole_number(name, value, positive=True)
    if name in _SECONDS:
        return _positive(name, value)
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


def _parts(name: str, value: Any, parts: tuple[str, ...], shape: str) -> list[Any]:
    """An option given as an array in ``parts``' order or as an object with those names
    (a part the object leaves out is None)."""
    if isinstance(value, Mapping):
        extra = set(value) - set(parts)
        if extra:
            listed = f"{', '.join(parts[:-1])} and {parts[-1]}"
            raise OptionError(f"{name} takes {listed}, not {', '.join(sorted(extra))}")
        return [value.get(part) for part in parts]
    if isinstance(value, list | tuple) and len(value) == len(parts):
        return list(value)
    raise OptionError(f"{name} must be {shape}, got {_shown(value)}")


def _resize(value: Any) -> tuple[int | None, int | None]:
    """``[width, height]`` or ``{width, height}``; either side may be left out or null."""
    labels = ("width", "height")
    sides = _parts("resize", value, labels, "[width, height]")
    width, height = (
        None if side is None else _whole_number(f"resize {label}", side, positive=True)
        for side, label in zip(sides, labels, strict=True)
    )
    if width is None and height is None:
        raise OptionError("resize needs a width or a height")
    return width, height


def _crop(value: Any) -> tuple[int, int, int, int]:
    """``[left, top, width, height]`` or ``{left, top, width, height}``, all given."""
    labels = ("left", "top", "width", "height")
    numbers = _parts("crop", value, labels, "[left, top, width, height]")
    if any(number is None for number in numbers):
        raise OptionError(f"crop needs left, top, width and height, got {_shown(value)}")
    left, top, width, height = (
        _whole_number(f"crop {label}", number)
        for label, number in zip(labels, numbers, strict=True)
    )
    return left, top, width, height


def _trim(value: Any) -> tuple[float | None, float | None]:
    """``[start, end]`` or ``{start, end}`` in seconds; either may be left out or null."""
    labels = ("start", "end")
    ends = _parts("trim", value, labels, "[start, end] in seconds")
    start, end = (
        None if time is None else _seconds(f"trim {label}", time)
        for time, label in zip(ends, labels, strict=True)
    )
    return start, end


def _seconds(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise OptionError(f"{name} must be a number of seconds, got {_shown(value)}")
    if value < 0:
        raise OptionError(f"{name} must be 0 or more, got {_shown(value)}")
    return float(value)


def _positive(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise OptionError(f"{name} must be a number, got {_shown(value)}")
    if value <= 0:
        raise OptionError(f"{name} must be more than 0, got {_shown(value)}")
    return float(value)


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
