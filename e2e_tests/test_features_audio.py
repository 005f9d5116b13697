"""Audio sample rate and channels in real Chromium: a 5.1 track downmixed for Opus without
being asked (ITU-R BS.775 levels), kept whole in WAV, 44.1 kHz resampled to 48 kHz, mono
upmixed to stereo, and the terminal's flags. Inputs made by ffmpeg; outputs decoded by
ffmpeg and measured here, never by our reader."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from array import array
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from audio_span import decoded_audio, edited_audio
from harness import open_harness, stalled_conversion
from oracle import REPO, decode_errors, ffprobe_streams, make
from pywebcodecs_host.headless import HeadlessEngine
from pywebcodecs_host.site_server import SiteServer

MS = 0.001
#: A tone that should be there is within 1 dB of its ITU level: Opus at 64 kb/s a channel
#: keeps a pure tone's level far closer than that, and the wrong coefficients a downmix
#: could use instead (1.0 or 0.5 for 0.707) are 3 dB away.
WITHIN_1_DB = 10 ** (1 / 20)
#: A tone that should be absent is 30 dB or more below the 0.35 the present ones have.
ABSENT = 0.35 * 10 ** (-30 / 20)
ITU = math.sqrt(0.5)  # -3 dB: centre and surround into their side


def surround_51() -> Path:
    """1 s of 5.1 AAC (FL FR FC LFE BL BR): 1 kHz only in the centre, 60 Hz only in the
    LFE, 440 Hz only in the left surround, each at 0.5."""
    tones = "0|0|0.5*sin(2*PI*1000*t)|0.5*sin(2*PI*60*t)|0.5*sin(2*PI*440*t)|0"
    return make("surround-5.1.m4a", "-f", "lavfi", "-i",
                f"aevalsrc='{tones}':s=48000:d=1:c=5.1", "-c:a", "aac", "-b:a", "384k")  # fmt: skip


def tone_wav(name: str, rate: int, channels: int, seconds: float = 1.013) -> Path:
    """A 1 kHz tone at 0.5 with one loud sample (0.9) at 0.05 s: where that click lands
    shows that the start is kept exactly."""
    click = round(0.05 * rate)
    expr = f"if(eq(n,{click}),0.9,0.5*sin(2*PI*1000*t))"
    every = "|".join([expr] * channels)  # each channel at 0.5 (ffmpeg's -ac would be -3 dB)
    return make(name, "-f", "lavfi", "-i", f"aevalsrc='{every}':s={rate}:d={seconds}",
                "-c:a", "pcm_s16le")  # fmt: skip


def decoded(path: Path, channels: int, rate: int = 48000) -> list[array]:
    """ffmpeg's decode of the audio at ``rate``, one float array per channel."""
    cmd = ["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:a", "-f", "f32le",
           "-ar", str(rate), "-"]  # fmt: skip
    samples = array("f", subprocess.run(cmd, capture_output=True, check=True).stdout)
    return [samples[c::channels] for c in range(channels)]  # type: ignore[misc]


def level(samples: array, frequency: float, rate: int = 48000) -> float:
    """The amplitude of the ``frequency`` tone in the middle half second (Goertzel over a
    whole number of its cycles, away from the ends)."""
    start, count = rate // 4, rate // 2
    coefficient = 2 * math.cos(2 * math.pi * frequency / rate)
    previous = before = 0.0
    for sample in samples[start : start + count]:
        previous, before = sample + coefficient * previous - before, previous
    power = previous * previous + before * before - coefficient * previous * before
    return 2 * math.sqrt(max(power, 0.0)) / count


def assert_level(samples: array, frequency: float, expected: float) -> None:
    got = level(samples, frequency)
    if expected == 0:
        assert got < ABSENT, f"{frequency} Hz at {got:.4f}, expected silence"
    else:
        assert expected / WITHIN_1_DB < got < expected * WITHIN_1_DB, (frequency, got, expected)


def test_5_1_aac_becomes_stereo_opus_in_webm_with_itu_levels(
    engine: HeadlessEngine, tmp_path: Path
) -> None:
    source, output = surround_51(), tmp_path / "stereo.webm"
    summary = engine.convert(source, output, container="webm")
    assert summary["ok"], summary
    opus_6 = {"codec": "opus", "sampleRate": 48000, "numberOfChannels": 6}
    assert engine.page is not None
    takes_6 = engine.page.evaluate(
        "async (c) => (await AudioEncoder.isConfigSupported(c)).supported", opus_6
    )
    (track,) = summary["tracks"]
    (stream,) = ffprobe_streams(output)
    if takes_6:  # nothing to downmix on this build: the track stays whole
        assert (stream["codec_name"], stream["channels"]) == ("opus", 6)
        return
    assert track["note"] == (
        "re-encoded from aac to opus (a WEBM file cannot hold aac); downmixed from 6 to 2 "
        "channels (the browser's opus encoder takes at most 2)"
    )
    assert (stream["codec_name"], stream["channels"]) == ("opus", 2)
    audio = decoded_audio(output)
    assert audio.start == pytest.approx(0, abs=MS)
    assert audio.end == pytest.approx(1.0, abs=MS)
    left, right = decoded(output, 2)
    assert_level(left, 1000, 0.5 * ITU)  # centre: -3 dB into both sides
    assert_level(right, 1000, 0.5 * ITU)
    assert_level(left, 440, 0.5 * ITU)  # left surround: -3 dB into the left only
    assert_level(right, 440, 0)
    assert_level(left, 60, 0)  # the LFE is left out
    assert_level(right, 60, 0)
    assert decode_errors(output) == ""


def test_5_1_aac_to_wav_keeps_six_channels_in_place(engine: HeadlessEngine, tmp_path: Path) -> None:
    output = tmp_path / "surround.wav"
    summary = engine.convert(surround_51(), output, container="wav")
    assert summary["ok"], summary
    (stream,) = ffprobe_streams(output)
    assert (stream["codec_name"], stream["channels"]) == ("pcm_s16le", 6)
    assert float(stream["duration"]) == pytest.approx(1.0, abs=MS)
    planes = decoded(output, 6)
    assert_level(planes[2], 1000, 0.5)
    assert_level(planes[4], 440, 0.5)
    for index in (0, 1, 5):
        assert_level(planes[index], 1000, 0)
        assert_level(planes[index], 440, 0)


def loudest(samples: array) -> int:
    return max(range(len(samples)), key=lambda i: abs(samples[i]))


@pytest.mark.parametrize("container", ["wav", "webm", "mp4"])
def test_44_1_khz_resampled_to_48_khz_keeps_pitch_and_timing(
    engine: HeadlessEngine, tmp_path: Path, container: str
) -> None:
    """A mislabelled rate would move the tone to 1088 Hz; a lost or doubled sample at a
    chunk boundary or the resampler's tail would move the end or the click."""
    source, output = tone_wav("tone-44100-1ch.wav", 44100, 1), tmp_path / f"out.{container}"
    summary = engine.convert(source, output, container=container, sample_rate=48000)
    assert summary["ok"], summary
    (track,) = summary["tracks"]
    assert track["note"].endswith("; resampled from 44100 to 48000 Hz (asked)"), track
    (stream,) = ffprobe_streams(output)
    assert (stream["sample_rate"], stream["channels"]) == ("48000", 1)
    audio = decoded_audio(output)
    assert audio.start == pytest.approx(0, abs=MS)
    if container == "mp4":  # ffmpeg's decoder ignores the edit's end; its probe does not
        start, end = edited_audio(output)
        assert (float(start), float(end)) == pytest.approx((0, 1.013), abs=MS)
    else:
        assert audio.end == pytest.approx(1.013, abs=MS)
    (samples,) = decoded(output, 1)
    assert_level(samples, 1000, 0.5)
    assert_level(samples, 1000 * 48000 / 44100, 0)
    assert loudest(samples) == pytest.approx(0.05 * 48000, abs=48)  # within 1 ms
    assert decode_errors(output) == ""


def test_mono_is_upmixed_to_stereo_when_asked(engine: HeadlessEngine, tmp_path: Path) -> None:
    source, output = tone_wav("tone-48000-1ch.wav", 48000, 1), tmp_path / "stereo.webm"
    summary = engine.convert(source, output, container="webm", channels=2)
    assert summary["ok"], summary
    assert summary["tracks"][0]["note"] == (
        "re-encoded from pcm_s16le to opus (a WEBM file cannot hold pcm_s16le); "
        "upmixed from 1 to 2 channels (asked)"
    )
    (stream,) = ffprobe_streams(output)
    assert (stream["codec_name"], stream["channels"]) == ("opus", 2)
    for side in decoded(output, 2):
        assert_level(side, 1000, 0.5)
    assert decoded_audio(output).end == pytest.approx(1.013, abs=MS)


def test_bad_audio_options_are_option_errors(engine: HeadlessEngine, tmp_path: Path) -> None:
    source = tone_wav("tone-48000-1ch.wav", 48000, 1)
    summary = engine.convert(source, tmp_path / "x.webm", container="webm", channels=3)
    assert not summary["ok"]
    assert summary["error"] == (
        "tone-48000-1ch.wav: track 1 (pcm_s16le audio): there is no standard mix from 1 "
        "to 3 channels"
    )
    summary = engine.convert(source, tmp_path / "y.webm", container="webm", sample_rate=100)
    assert not summary["ok"] and "sample_rate must be a whole number" in summary["error"]


def test_the_terminal_takes_sample_rate_and_channels(tmp_path: Path) -> None:
    source, output = tone_wav("tone-44100-2ch.wav", 44100, 2), tmp_path / "mono.wav"
    command = [sys.executable, "-m", "pywebcodecs_host.cli", "convert", str(source),
               str(output), "--sample-rate", "48000", "--channels", "1", "--json"]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=REPO)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["tracks"][0]["note"].endswith(
        "downmixed from 2 to 1 channels and resampled from 44100 to 48000 Hz (asked)"
    )
    (stream,) = ffprobe_streams(output)
    assert (stream["sample_rate"], stream["channels"]) == ("48000", 1)
    assert float(stream["duration"]) == pytest.approx(1.013, abs=MS)
    (samples,) = decoded(output, 1)
    assert_level(samples, 1000, 0.5)  # both sides at 0.5, mixed at half each
    assert loudest(samples) == pytest.approx(0.05 * 48000, abs=48)  # within 1 ms


#: Rates `sample_rate=` takes that an Opus encoder may refuse (Opus itself codes at 8, 12,
#: 16, 24 and 48 kHz; a browser resamples the others or refuses them).
UNUSUAL_RATES = (37800, 44056, 88200, 176400, 192000)


def test_an_asked_rate_the_encoder_refuses_is_refused_naming_file_and_track(
    engine: HeadlessEngine, tmp_path: Path
) -> None:
    """The rate is chosen by asking this browser's encoder first: a rate it refuses must be
    refused by the plan with the file, the track and the cause; when it takes them all,
    the first one must convert (the shape asked is what reaches the encoder)."""
    assert engine.page is not None
    answers = engine.page.evaluate(
        """async (rates) => Promise.all(rates.map(async (sampleRate) =>
             (await AudioEncoder.isConfigSupported({codec: "opus", sampleRate,
                                                    numberOfChannels: 1})).supported))""",
        list(UNUSUAL_RATES),
    )
    refused = [rate for rate, ok in zip(UNUSUAL_RATES, answers, strict=True) if not ok]
    source = tone_wav("tone-48000-1ch.wav", 48000, 1)
    rate = refused[0] if refused else UNUSUAL_RATES[0]
    output = tmp_path / "rate.webm"
    summary = engine.convert(source, output, container="webm", sample_rate=rate)
    if refused:
        assert not summary["ok"]
        assert summary["error"].startswith(
            f"tone-48000-1ch.wav: track 1 (pcm_s16le audio): the browser's opus encoder does "
            f"not take {rate} Hz audio"
        ) or summary["error"].startswith(
            f"tone-48000-1ch.wav: track 1 (pcm_s16le audio): this browser cannot encode opus "
            f"audio at {rate} Hz"
        ), summary["error"]
        assert not output.exists()
        return
    assert summary["ok"], summary
    assert summary["tracks"][0]["note"].endswith(f"resampled from 48000 to {rate} Hz (asked)")
    (stream,) = ffprobe_streams(output)
    assert (stream["codec_name"], stream["channels"]) == ("opus", 1)
    assert decoded_audio(output).end == pytest.approx(1.013, abs=MS)
    (samples,) = decoded(output, 1)
    assert_level(samples, 1000, 0.5)


def test_re_encoded_audio_keeps_its_name_and_default_flag(
    engine: HeadlessEngine, tmp_path: Path
) -> None:
    """Two named AAC tracks in MKV, the second not the default: each Opus track in the
    WebM keeps its title and its default flag (ffprobe's tags and disposition)."""
    source = make("named-tracks.mkv", "-f", "lavfi", "-i", "sine=frequency=440:duration=1",
                  "-f", "lavfi", "-i", "sine=frequency=880:duration=1",
                  "-map", "0:a", "-map", "1:a", "-c:a", "aac",
                  "-metadata:s:a:0", "title=Commentary", "-metadata:s:a:1", "title=Music",
                  "-disposition:a:0", "default", "-disposition:a:1", "0")  # fmt: skip
    output = tmp_path / "named.webm"
    summary = engine.convert(source, output, container="webm")
    assert summary["ok"], summary
    streams = ffprobe_streams(output)
    assert [s["codec_name"] for s in streams] == ["opus", "opus"]
    assert [s.get("tags", {}).get("title") for s in streams] == ["Commentary", "Music"]
    assert [s["disposition"]["default"] for s in streams] == [1, 0]


@pytest.mark.parametrize("container", ["webm", "ogg"])
@pytest.mark.parametrize("rate", [8000, 11025, 22050, 44100])
@pytest.mark.parametrize("kind", ["wav", "mp3"])
def test_opus_ends_where_the_input_does_at_any_rate(
    engine: HeadlessEngine, tmp_path: Path, kind: str, rate: int, container: str
) -> None:
    """Left to Chromium's Opus encoder, 11025 and 22050 Hz lost their last partial frame
    on flush (the output ended 39.5 and 19.5 ms early), and the audio came 2.9 ms late at
    11025 Hz (its resampler's delay), 5.4 ms at 8000 (its pre-skip counted at 8 kHz).
    The decoded Opus (pre-skip and padding applied) must last as long as ffmpeg's decode
    of the input, start at 0, and keep the click where it was. The MP3 has no LAME tag
    (``-write_xing 0``), so every decoded sample is the input's, for ffmpeg as for us."""
    source = tone_wav(f"tone-{rate}-1ch.wav", rate, 1)
    if kind == "mp3":
        source = make(f"tone-{rate}-1ch.mp3", "-i", str(source), "-c:a", "libmp3lame",
                      "-write_xing", "0")  # fmt: skip
    output = tmp_path / f"out.{container}"
    summary = engine.convert(source, output, container=container)
    assert summary["ok"], summary
    (stream,) = ffprobe_streams(output)
    assert (stream["codec_name"], stream["channels"]) == ("opus", 1)
    given = decoded_audio(source)
    audio = decoded_audio(output)
    assert audio.start == pytest.approx(0, abs=MS)
    assert audio.end - audio.start == pytest.approx(given.end - given.start, abs=MS)
    (samples,) = decoded(output, 1)
    if kind == "wav":  # the MP3's own priming moves the click; the WAV's is at 0.05 s
        assert loudest(samples) == pytest.approx(round(0.05 * rate) / rate * 48000, abs=48)
    assert_level(samples, 1000, 0.5)
    assert decode_errors(output) == ""


def test_a_stalled_audio_decoder_fails_naming_the_track_instead_of_hanging(
    browser: Browser, static_dir: Path
) -> None:
    """Audio waits for a full queue to drain to a low mark on its own (one JS promise
    per wait, with its own stall timer): a decoder whose queue looks full forever must
    fail the conversion after the stall period, naming the track, not hang it."""
    source = make("tone-48000-1ch.mp3", "-i", str(tone_wav("tone-48000-1ch.wav", 48000, 1)),
                  "-c:a", "libmp3lame")  # fmt: skip
    with SiteServer(static_dir) as site:
        page = open_harness(browser, site.url, source)
        try:
            answer = page.evaluate(stalled_conversion("AudioDecoder", '{ container: "wav" }'))
        finally:
            page.context.close()
    assert answer.get("name") == "CodecError", answer
    assert answer["message"] == (
        "tone-48000-1ch.mp3: mp3 track 1: the browser's codecs made no progress for 1.5 s"
    )
    assert 1500 <= answer["ms"] < 1500 + 20_000, answer
