"""The exceptions the engine raises.

Every error a user can see names what was wrong and where: the file, the byte offset, the
format and what was expected there. A message is the whole story, so nobody has to rerun
with a debugger to learn which box or element was broken.
"""

from __future__ import annotations


class PyWebCodecsError(Exception):
    """Base of every error the engine raises on purpose."""


class FormatError(PyWebCodecsError):
    """The input is not valid media of the format it claims to be.

    ``str()`` reads like ``"clip.mp4: MP4: at byte 1234: stsz box claims 9999 samples
    but holds 12"``.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        format: str | None = None,
        offset: int | None = None,
    ) -> None:
        self.message = message
        self.source = source
        self.format = format
        self.offset = offset
        super().__init__(self._render())

    def _render(self) -> str:
        parts = []
        if self.source:
            parts.append(self.source)
        if self.format:
            parts.append(self.format)
        if self.offset is not None:
            parts.append(f"at byte {self.offset}")
        parts.append(self.message)
        return ": ".join(parts)

    def located(self, *, source: str | None = None, format: str | None = None) -> FormatError:
        """Return a copy with the file name and format filled in where they were unknown."""
        return FormatError(
            self.message,
            source=self.source or source,
            format=self.format or format,
            offset=self.offset,
        )


class UnsupportedError(PyWebCodecsError):
    """Valid input or a valid request that this engine or this browser cannot handle,
    e.g. a codec the output container cannot hold or a codec WebCodecs cannot encode.

    A refusal about one track names the file, the track, its codec and the real cause,
    e.g. ``"film.mp4: track 2 (ac3 audio): this browser cannot decode ac3 audio (ac-3);
    copy it into MKV, or drop it"``, so that the user knows which choice would help.
    """


class OptionError(PyWebCodecsError, ValueError):
    """An option the caller gave is not one the engine knows or has the wrong type or
    value (e.g. ``rotate`` NaN, ``videoCodec`` a number); the message names the option."""


class CodecError(PyWebCodecsError):
    """A WebCodecs encoder or decoder failed (its error message is kept)."""


class StorageFullError(PyWebCodecsError):
    """The browser's storage has no room left for a disk output (OPFS or a picked file):
    the message names the output, how much was written and the browser's quota."""


class ConversionAborted(PyWebCodecsError):
    """The conversion was stopped through its abort signal."""


class TruncatedMediaWarning(UserWarning):
    """The file ends early; the packets that are complete are still delivered."""
