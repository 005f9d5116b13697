"""Decoded audio goes from the browser's decoder to the encoder in JS when nothing is to
be done to it, and through Python when it must be cut (AudioSession's feed). With a trim
that only ends, every piece after the first (which holds the MP3's priming) goes the JS
way except those near the end, which Python cuts: the output must still hold exactly the
audio ffmpeg decodes up to the trim's end, click in place. Inputs made and outputs
measured by ffmpeg."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from audio_span import decoded_audio
from pywebcodecs_host.headless import HeadlessEngine
from test_gapless_audio import MS, click_at, convert, span, tagged_mp3

END = Fraction(11, 20)  # after the click (0.3 s), inside an MP3 frame


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("container", "rate"), [("wav", 44100), ("webm", 48000), ("webm", 44100)])
def test_a_trim_that_only_ends_cuts_the_audio_to_the_sample(
    engine: HeadlessEngine, tmp_path: Path, container: str, rate: int
) -> None:
    """Opus at 48 kHz is fed as decoded; from 44.1 kHz through the JS resampler."""
    source, output = tagged_mp3(rate), tmp_path / f"out.{container}"
    convert(engine, source, output, container=container, trim=(None, float(END)))
    start, end = span(output)
    assert start == pytest.approx(0, abs=MS)
    assert end - start == pytest.approx(END, abs=MS)
    assert click_at(output) == pytest.approx(click_at(source), abs=MS)
    if container == "wav":  # PCM: every sample up to the end, no more
        assert decoded_audio(output).samples == END * rate
