"""Gapless audio in real Chromium: an encoder's priming and padding are not audio. A
LAME-tagged MP3 (ffmpeg's and LAME's default) says how many samples its encoder put
before and after the input, and an AAC track in MP4 says it by its edit list; ffmpeg's
decode drops them, and so must a re-encode, with and without a trim: same length to
1 ms, starting at 0, the click where ffmpeg's decode has it. Inputs made by ffmpeg,
outputs measured by ffmpeg, never by our reader."""

from __future__ import annotations

import subprocess
from array import array
from fractions import Fraction
from pathlib import Path

import pytest

from audio_span import decoded_audio, edited_audio
from oracle import decode_errors, make
from pywebcodecs_host.headless import HeadlessEngine

MS = 0.001
CLICK = 0.3  # seconds into the tone: well after any priming, before a trim's end


def tone(rate: int) -> Path:
    """1 s of a 1 kHz tone at 0.4 with one loud sample (0.95) at :data:`CLICK`."""
    expr = f"if(eq(n,{round(CLICK * rate)}),0.95,0.4*sin(2*PI*1000*t))"
    return make(f"gapless-tone-{rate}.wav", "-f", "lavfi", "-i",
                f"aevalsrc='{expr}':s={rate}:d=1", "-c:a", "pcm_s16le")  # fmt: skip


def tagged_mp3(rate: int) -> Path:
    """The tone as ffmpeg's libmp3lame writes it by default: an Info frame with a LAME
    tag (delay 576, and the padding) before the audio."""
    return make(f"gapless-{rate}.mp3", "-i", str(tone(rate)), "-c:a", "libmp3lame", "-b:a", "96k")


def aac_mp4() -> Path:
    """The tone in AAC, in MP4: ffmpeg's edit list hides 1024 samples of priming."""
    return make("gapless-aac.mp4", "-i", str(tone(44100)), "-c:a", "aac", "-b:a", "128k")


def click_at(path: Path, rate: int = 48000) -> Fraction:
    """When the loudest sample of ffmpeg's decode is, from its first decoded sample."""
    cmd = ["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:a", "-ac", "1", "-ar", str(rate),
           "-f", "f32le", "-"]  # fmt: skip
    samples = array("f", subprocess.run(cmd, capture_output=True, check=True).stdout)
    loudest = max(range(len(samples)), key=lambda i: abs(samples[i]))
    return Fraction(loudest, rate)


def span(path: Path) -> tuple[Fraction, Fraction]:
    """(start, end) of the first audio stream: an MP4's edit list as ffprobe reads it
    (ffmpeg's decoder does not apply its end), elsewhere every sample ffmpeg decodes."""
    if path.suffix == ".mp4":
        return edited_audio(path)
    audio = decoded_audio(path)
    return audio.start, audio.end


def convert(engine: HeadlessEngine, source: Path, output: Path, **options: object) -> None:
    summary = engine.convert(source, output, **options)
    assert summary["ok"], summary
    assert decode_errors(output) == ""


@pytest.mark.parametrize("container", ["webm", "ogg", "wav", "mp4"])
@pytest.mark.parametrize("rate", [8000, 11025, 44100])
def test_a_lame_tagged_mp3_re_encodes_without_its_priming_and_padding(
    engine: HeadlessEngine, tmp_path: Path, rate: int, container: str
) -> None:
    """Before, the output started with the priming (1105 samples: 100 ms at 11025 Hz,
    25 ms at 44100) and ran on into the padding: 149 and 45 ms too long. At 8000 Hz the
    padding fills the last frame (576 samples), which is then not decoded at all."""
    source, output = tagged_mp3(rate), tmp_path / f"out.{container}"
    audio_codec = "opus" if container == "mp4" else None  # MP4 would copy the MP3
    convert(engine, source, output, container=container, audio_codec=audio_codec)
    given = decoded_audio(source)  # ffmpeg's gapless decode: 1 s, from its start_time
    assert given.end - given.start == 1
    start, end = span(output)
    assert start == pytest.approx(0, abs=MS)
    assert end - start == pytest.approx(given.end - given.start, abs=MS)
    assert click_at(output) == pytest.approx(click_at(source), abs=MS)
    if container == "wav":  # PCM keeps the rate: every sample ffmpeg decodes, no more
        assert decoded_audio(output).samples == given.samples


@pytest.mark.parametrize("container", ["webm", "mp4"])
@pytest.mark.parametrize("rate", [11025, 44100])
def test_a_trimmed_lame_tagged_mp3_is_cut_on_the_audio_not_on_the_priming(
    engine: HeadlessEngine, tmp_path: Path, rate: int, container: str
) -> None:
    """The trim counts from where ffmpeg's decode starts: a click 0.3 s into the audio
    lands 0.1 s into a trim from 0.2 s."""
    source, output = tagged_mp3(rate), tmp_path / f"out.{container}"
    convert(engine, source, output, container=container, audio_codec="opus", trim=(0.2, 0.7))
    start, end = span(output)
    assert start == pytest.approx(0, abs=MS)
    assert end - start == pytest.approx(Fraction(1, 2), abs=MS)
    assert click_at(output) == pytest.approx(click_at(source) - Fraction(1, 5), abs=MS)


@pytest.mark.parametrize("container", ["webm", "wav"])
def test_aac_in_mp4_re_encodes_without_the_priming_its_edit_list_hides(
    engine: HeadlessEngine, tmp_path: Path, container: str
) -> None:
    """ffmpeg's AAC starts with 1024 samples of priming before 0 and ends its last sample
    short in the sample table: the output is the 1 s of the edit, click in place."""
    source, output = aac_mp4(), tmp_path / f"out.{container}"
    convert(engine, source, output, container=container)
    assert edited_audio(source) == (0, 1)
    start, end = span(output)
    assert start == pytest.approx(0, abs=MS)
    assert end - start == pytest.approx(1, abs=MS)
    assert click_at(output) == pytest.approx(click_at(source), abs=MS)
