"""The one boundary for a JS caller's conversion options (``pywebcodecs.options``)."""

from __future__ import annotations

import math
import re
from typing import Any

import pytest

from pywebcodecs import OptionError, PyWebCodecsError
from pywebcodecs.options import OPTION_NAMES, camel_case, conversion_kwargs


class Signal:
    aborted = False


def test_left_out_and_null_options_leave_the_engine_defaults() -> None:
    assert conversion_kwargs(None) == {}
    assert conversion_kwargs({}) == {}
    assert conversion_kwargs({name: None for name in OPTION_NAMES}) == {}


def test_camel_case_names_become_convert_media_keywords() -> None:
    signal, progress = Signal(), print
    kwargs = conversion_kwargs({
        "container": "mkv", "videoCodec": "vp9", "audioCodec": "copy", "rotate": 90.0,
        "resize": [640, None], "apiKey": "pub_x", "telemetryEndpoint": "/t",
        "onProgress": progress, "onVideoTrack": progress, "onAudioTrack": progress,
        "signal": signal,
    })  # fmt: skip
    assert kwargs == {
        "container": "mkv", "video_codec": "vp9", "audio_codec": "copy", "rotate": 90,
        "resize": (640, None), "api_key": "pub_x", "telemetry_endpoint": "/t",
        "on_progress": progress, "on_video_track": progress, "on_audio_track": progress,
        "signal": signal,
    }  # fmt: skip
    assert type(kwargs["rotate"]) is int
    assert conversion_kwargs({"resize": {"height": 360}}) == {"resize": (None, 360)}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"rotate": math.nan}, "rotate must be a whole number, got NaN"),
        ({"rotate": math.inf}, "rotate must be a whole number, got Infinity"),
        ({"rotate": 45.5}, "rotate must be a whole number, got 45.5"),
        ({"rotate": "90"}, "rotate must be a number, got the string '90'"),
        ({"rotate": True}, "rotate must be a number, got true"),
        ({"videoCodec": 9}, "videoCodec must be a string, got 9"),
        ({"container": ["webm"]}, "container must be a string, got ['webm']"),
        ({"resize": [640]}, "resize must be [width, height], got [640]"),
        ({"resize": [0, 360]}, "resize width must be more than 0, got 0"),
        ({"resize": [None, math.nan]}, "resize height must be a whole number, got NaN"),
        ({"resize": [None, None]}, "resize needs a width or a height"),
        ({"resize": {"w": 1}}, "resize takes width and height, not w"),
        ({"onProgress": "print"}, "onProgress must be a function, got the string 'print'"),
        ({"signal": {}}, "signal must be an AbortSignal, got {}"),
        ({"video_codec": "vp9"}, "unknown option 'video_codec' (did you mean videoCodec?)"),
        ({"codec": "vp9"}, "unknown option 'codec'; the options are container, videoCodec"),
        ("webm", "options must be an object, got the string 'webm'"),
    ],
)
def test_a_wrong_option_is_an_error_naming_it(options: Any, message: str) -> None:
    with pytest.raises(OptionError) as raised:
        conversion_kwargs(options)
    assert message in str(raised.value)
    assert isinstance(raised.value, PyWebCodecsError) and isinstance(raised.value, ValueError)


def test_camel_case() -> None:
    assert [camel_case(n) for n in ("container", "video_codec", "telemetry_endpoint")] == [
        "container",
        "videoCodec",
        "telemetryEndpoint",
    ]
    assert {camel_case(keyword): keyword for keyword in OPTION_NAMES.values()} == OPTION_NAMES


def test_trim_crop_and_encoder_options_from_js() -> None:
    kwargs = conversion_kwargs({
        "trim": {"start": 1, "end": None}, "crop": {"left": 0, "top": 2, "width": 64,
        "height": 48}, "frameRate": 30, "videoBitrate": 1e6, "audioBitrate": 96000,
        "quality": "high", "keyframeInterval": 0.5, "hardwareAcceleration": "prefer-software",
        "latencyMode": "realtime",
    })  # fmt: skip
    assert kwargs == {
        "trim": (1.0, None), "crop": (0, 2, 64, 48), "frame_rate": 30.0,
        "video_bitrate": 1_000_000, "audio_bitrate": 96000, "quality": "high",
        "keyframe_interval": 0.5, "hardware_acceleration": "prefer-software",
        "latency_mode": "realtime",
    }  # fmt: skip
    assert conversion_kwargs({"trim": [None, 2.5], "crop": [1, 2, 3, 4]}) == {
        "trim": (None, 2.5), "crop": (1, 2, 3, 4)}  # fmt: skip


@pytest.mark.parametrize(("options", "message"), [
    ({"trim": [1]}, "trim must be [start, end] in seconds"),
    ({"trim": {"begin": 1}}, "trim takes start and end, not begin"),
    ({"trim": [-1, 2]}, "trim start must be 0 or more"),
    ({"crop": [0, 0, 10]}, "crop must be [left, top, width, height]"),
    ({"crop": {"left": 0, "top": 0, "width": 10}}, "crop needs left, top, width and height"),
    ({"crop": [0, 0, 10.5, 10]}, "crop width must be a whole number"),
    ({"frameRate": 0}, "frameRate must be more than 0"),
    ({"videoBitrate": "fast"}, "videoBitrate must be a number"),
    ({"quality": 3}, "quality must be a string"),
])  # fmt: skip
def test_bad_trim_crop_and_encoder_options_name_themselves(options, message) -> None:
    with pytest.raises(OptionError, match=re.escape(message)):
        conversion_kwargs(options)


def test_python_trim_and_crop_values_are_checked_before_any_reading() -> None:
    import asyncio

    from pywebcodecs import convert_media

    with pytest.raises(OptionError, match=r"trim end \(1.0 s\) must come after its start"):
        asyncio.run(convert_media(b"", "webm", trim=(2.0, 1.0)))
    with pytest.raises(OptionError, match="crop must be"):
        asyncio.run(convert_media(b"", "webm", crop=(1, 2, 3)))
