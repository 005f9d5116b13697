"""What happens to decoded audio before it is encoded: its output sample rate, its output
channel count, and the mix matrix that gets it there.

Pure Python, so the decisions are tested in CPython; the browser layer
(:mod:`pywebcodecs.browser.transcode.audio_transforms`) only applies the matrix and the
resampler to the samples, in JS typed arrays.

Two sources of change, one rule each:

- the caller asks (``sample_rate=``, ``channels=``): the audio is re-encoded to that shape,
  or refused when no standard mix leads there (3 channels have no agreed layout);
- the encoder refuses the track as it is (the capability probe's
  :class:`~pywebcodecs.capabilities.EncoderCheck`): a track with more channels than the
  encoder takes is downmixed to the most it takes that a standard mix reaches (Chromium's
  Opus: 6 → 2), a sample rate it refuses becomes 48 kHz, the rate every encoder takes. The
  note says so, because the output then differs from the input in a way the user did
  not ask for.

The mixes are those of ITU-R BS.775 as the Web Audio specification writes them for its
"speakers" interpretation (centre and surrounds at -3 dB into their side, the LFE left
out, no normalisation, so dialogue in the centre keeps its level); 7.1's side and back
pairs both go to their side at -3 dB. Channels come in the order decoders give them,
WAVE's: L R C LFE, then the back pair, then the side pair.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .capabilities import EncoderCheck
from .errors import OptionError
from .track import AudioTrack

#: Rows are output channels, columns input channels.
Matrix = tuple[tuple[float, ...], ...]

_S = math.sqrt(0.5)  # -3 dB
#: (input channels, output channels) → matrix. Inputs: 1 mono, 2 L R, 4 quad (L R SL SR),
#: 5 (L R C SL SR), 6 = 5.1 (L R C LFE SL SR), 8 = 7.1 (L R C LFE BL BR SL SR).
MIXES: dict[tuple[int, int], Matrix] = {
    (1, 2): ((1.0,), (1.0,)),
    (2, 1): ((0.5, 0.5),),
    (4, 1): ((0.25, 0.25, 0.25, 0.25),),
    (4, 2): ((0.5, 0, 0.5, 0), (0, 0.5, 0, 0.5)),
    (5, 1): ((_S, _S, 1.0, 0.5, 0.5),),
    (5, 2): ((1.0, 0, _S, _S, 0), (0, 1.0, _S, 0, _S)),
    (6, 1): ((_S, _S, 1.0, 0, 0.5, 0.5),),
    (6, 2): ((1.0, 0, _S, 0, _S, 0), (0, 1.0, _S, 0, 0, _S)),
    (8, 1): ((_S, _S, 1.0, 0, 0.5, 0.5, 0.5, 0.5),),
    (8, 2): ((1.0, 0, _S, 0, _S, 0, _S, 0), (0, 1.0, _S, 0, 0, _S, 0, _S)),
}

#: The sample rate every audio encoder takes (Opus's own; AAC's most common).
REFERENCE_RATE = 48_000
#: What ``sample_rate=`` may be: the rates WebCodecs' ``AudioData`` and the encoders know.
RATE_RANGE = (8_000, 192_000)
MAX_CHANNELS = 8


@dataclass(frozen=True)
class AudioRemix:
    """The shape re-encoded audio is given before the encoder: ``matrix`` is None when the
    channels pass unchanged; ``note`` says what changed and why ("" when nothing)."""

    sample_rate: int
    channels: int
    matrix: Matrix | None = None
    note: str = ""


def encoder_rate(codec: str, sample_rate: int) -> int:
    """The rate an encoder of ``codec`` is fed audio shaped at ``sample_rate``: Opus codes
    at 48 kHz whatever its input (RFC 6716 section 2; its decoders give 48 kHz), so Opus
    is fed 48 kHz resampled by our aligned resampler rather than left to the encoder.
    Measured in Chromium 156: its Opus encoder resamples other rates itself with a delay
    of 32 input samples it does not count (audio 2.9 ms late at 11025 Hz, 0.7 ms at
    44100), at 8, 12, 16 and 24 kHz codes natively but states the pre-skip in input
    samples where RFC 7845 wants 48 kHz ones (5.4 ms late at 8 kHz), and at 11025 and
    22050 Hz lost up to 39.5 ms at the end. Other codecs are fed their shape's rate."""
    return REFERENCE_RATE if codec == "opus" else sample_rate


def check_audio_options(sample_rate: object, channels: object) -> None:
    """An :class:`OptionError` naming ``sample_rate``/``channels`` when either is not a
    whole number in range (None means "keep the input's")."""
    for name, value, (low, high) in (("sample_rate", sample_rate, RATE_RANGE),
                                     ("channels", channels, (1, MAX_CHANNELS))):  # fmt: skip
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise OptionError(f"{name} must be a whole number from {low} to {high}, got {value!r}")


def changes_audio(track: AudioTrack, sample_rate: int | None, channels: int | None) -> bool:
    """Whether the caller's shape differs from the track's (so it cannot be copied)."""
    return (sample_rate or track.sample_rate) != track.sample_rate or (
        channels or track.channels
    ) != track.channels


def mix_refusal(track: AudioTrack, channels: int | None) -> str | None:
    """Why the caller's ``channels`` cannot be met (no standard mix), or None."""
    if channels is None or channels == track.channels or (track.channels, channels) in MIXES:
        return None
    return f"there is no standard mix from {track.channels} to {channels} channels"


def plan_remix(
    track: AudioTrack,
    sample_rate: int | None,
    channels: int | None,
    check: EncoderCheck | None,
) -> AudioRemix | None:
    """The shape the encoder of ``check.codec`` is fed, or None when it cannot take the
    track even remixed. ``check`` is the probe's answer for the shape asked (the caller's
    ``sample_rate`` and ``channels``, the track's where not given; None: nothing probed,
    assume yes), so a refused shape the caller named is refused here, before any work,
    and only what the caller left open is changed to suit the encoder."""
    rate, count = sample_rate or track.sample_rate, channels or track.channels
    why = "asked"
    if check is not None and not check.supported:
        if check.max_channels is not None:
            if channels is None:
                fits = [n for i, n in MIXES if i == track.channels and n <= check.max_channels]
                if not fits:
                    return None
                count = max(fits)
            elif channels > check.max_channels:
                return None
            why = f"the browser's {check.codec} encoder takes at most {check.max_channels}"
        elif check.rate_refused:
            if sample_rate is not None:  # the refused rate is the one asked for
                return None
            rate = REFERENCE_RATE
            why = f"the browser's {check.codec} encoder does not take {track.sample_rate} Hz"
        else:
            return None
    if count != track.channels and (track.channels, count) not in MIXES:
        return None
    changes = []
    if count != track.channels:
        direction = "down" if count < track.channels else "up"
        changes.append(f"{direction}mixed from {track.channels} to {count} channels")
    if rate != track.sample_rate:
        changes.append(f"resampled from {track.sample_rate} to {rate} Hz")
    matrix = MIXES.get((track.channels, count))
    note = f"{' and '.join(changes)} ({why})" if changes else ""
    return AudioRemix(rate, count, matrix, note)


def remix_refusal(track: AudioTrack, check: EncoderCheck) -> str:
    """Why :func:`plan_remix` found nothing for a refused encoder, in words."""
    cause = check.refusal(track, None)
    if check.max_channels is not None and not any(i == track.channels for i, _ in MIXES):
        cause += f", and there is no standard downmix of {track.channels} channels"
    return cause
