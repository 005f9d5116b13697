"""pywebcodecs: media conversion in the browser, with WebCodecs driven from Python.

    result = await convert_media(file, "webm", video_codec="vp9", on_progress=print)
    blob = result.save()

The package's format code is pure Python (it also runs in CPython, where copying between
containers works without a browser); :mod:`pywebcodecs.browser` is the bridge to the
browser's codecs.
"""

from .conversion import ConversionProgress, ConversionResult, convert_media
from .errors import (
    CodecError,
    ConversionAborted,
    FormatError,
    OptionError,
    PyWebCodecsError,
    StorageFullError,
    TruncatedMediaWarning,
    UnsupportedError,
)
from .plan import Resize
from .probe import MediaInfo, parse_media
from .track import AudioTrack, Packet, Track, VideoTrack
from .usage import set_usage_endpoint

__all__ = [
    "AudioTrack",
    "CodecError",
    "ConversionAborted",
    "ConversionProgress",
    "ConversionResult",
    "FormatError",
    "MediaInfo",
    "OptionError",
    "Packet",
    "PyWebCodecsError",
    "Resize",
    "StorageFullError",
    "Track",
    "TruncatedMediaWarning",
    "UnsupportedError",
    "VideoTrack",
    "convert_media",
    "parse_media",
    "set_usage_endpoint",
]
