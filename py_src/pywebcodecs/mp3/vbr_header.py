"""The header frame encoders put before the audio of a VBR MP3: Xing/Info (Xing's
"VBR header", written by LAME also for CBR as ``Info``) or Fraunhofer's VBRI. It is a
valid but silent frame; its frame count gives the duration without scanning, and ffmpeg
does not deliver it as a packet.

LAME (and ffmpeg's libmp3lame, which signs it ``Lavc``/``Lavf``) follows the Xing fields
with its own tag, whose 24 bits at byte 21 are the encoder's delay and padding in samples
(12 bits each): the silence it put before and after the input. A decoder's output lags its
input by 529 more samples (the synthesis filterbank), so gapless decoders (ffmpeg among
them) drop ``delay + 529`` samples at the start and ``padding - 529`` at the end.
"""

from __future__ import annotations

from dataclasses import dataclass

_XING_FRAMES = 0x1
_XING_BYTES = 0x2
_XING_TOC = 0x4
_XING_QUALITY = 0x8
#: The samples a decoder's output lags its input (ffmpeg's mp3dec: 528 + 1).
DECODER_DELAY = 529
#: Encoders whose tag holds delay and padding, as ffmpeg's reader believes them.
_LAME_SIGNATURES = (b"LAME", b"Lavf", b"Lavc")


@dataclass(frozen=True)
class VbrHeader:
    """What a header frame says: the audio frames after it (0 when it does not say),
    and the LAME tag's encoder delay and padding in samples (None without a LAME tag)."""

    frames: int
    delay: int | None = None
    padding: int | None = None

    @property
    def priming(self) -> int:
        """Decoded samples before the audio: the encoder's delay and the decoder's."""
        return 0 if self.delay is None else self.delay + DECODER_DELAY

    @property
    def end_drop(self) -> int:
        """Decoded samples after the audio, dropped when the frame count is known (as in
        ffmpeg, which believes padding of less than the decoder's delay to be no tag)."""
        if self.padding is None or not self.frames or self.padding < DECODER_DELAY:
            return 0
        return self.padding - DECODER_DELAY


def vbr_header(frame: bytes, mpeg1: bool, mono: bool) -> VbrHeader | None:
    """What the header frame announces, or None if ``frame`` is an ordinary audio frame."""
    side_info = (17 if mono else 32) if mpeg1 else (9 if mono else 17)
    xing = 4 + side_info
    if frame[xing : xing + 4] in (b"Xing", b"Info"):
        flags = int.from_bytes(frame[xing + 4 : xing + 8], "big")
        pos, frames = xing + 8, 0
        if flags & _XING_FRAMES and len(frame) >= pos + 4:
            frames = int.from_bytes(frame[pos : pos + 4], "big")
        pos += 4 * bool(flags & _XING_FRAMES) + 4 * bool(flags & _XING_BYTES)
        pos += 100 * bool(flags & _XING_TOC) + 4 * bool(flags & _XING_QUALITY)
        # 9 bytes of encoder name, then 12 bytes of other fields, then delay/padding.
        if frame[pos : pos + 4] in _LAME_SIGNATURES and len(frame) >= pos + 24:
            both = int.from_bytes(frame[pos + 21 : pos + 24], "big")
            return VbrHeader(frames, both >> 12, both & 0xFFF)
        return VbrHeader(frames)
    if frame[36:40] == b"VBRI" and len(frame) >= 54:
        return VbrHeader(int.from_bytes(frame[50:54], "big"))
    return None
