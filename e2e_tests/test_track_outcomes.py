"""Every input track is written, dropped by choice, dropped because the container holds no
such kind, or the conversion fails naming the track and the real cause; the result says
which. Real Chromium, inputs made by ffmpeg, outputs checked by ffprobe."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from media import summarize
from oracle import REPO, ffprobe_streams, make
from pywebcodecs_host.headless import HeadlessEngine

VIDEO_1S = ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=1"]
SINE_1S = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=1"]


def h264_with_ac3() -> Path:
    return make("h264-ac3.mp4", *VIDEO_1S, *SINE_1S, "-c:v", "libx264", "-preset", "ultrafast",
                "-c:a", "ac3", "-ac", "2")  # fmt: skip


def h264_with_aac() -> Path:
    return make("h264-aac.mp4", *VIDEO_1S, *SINE_1S, "-c:v", "libx264", "-preset", "ultrafast",
                "-c:a", "aac", "-ac", "2")  # fmt: skip


def aac_6_channels() -> Path:
    return make("aac-6ch.m4a", *SINE_1S, "-ac", "6", "-c:a", "aac")


def error_unless_supported(
    engine: HeadlessEngine, source: Path, output: Path, codec_class: str, config: dict
) -> str | None:
    """Convert ``source`` to WebM. Where this browser takes ``config`` the conversion must
    succeed (None is returned); elsewhere it must fail, leaving no output, and its error is
    returned. So a test holds on builds with and without a codec: what it checks is that
    the outcome names the real cause, not what one build lacks."""
    summary = engine.convert(source, output, container="webm")
    assert engine.page is not None
    script = f"async (config) => (await {codec_class}.isConfigSupported(config)).supported"
    if engine.page.evaluate(script, config):
        assert summary["ok"], summary
        return None
    assert not summary["ok"] and not output.exists()
    return summary["error"]


def test_ac3_audio_is_decoded_or_refused_as_undecodable(
    engine: HeadlessEngine, tmp_path: Path
) -> None:
    output = tmp_path / "out.webm"
    ac3 = {"codec": "ac-3", "sampleRate": 48000, "numberOfChannels": 2}
    error = error_unless_supported(engine, h264_with_ac3(), output, "AudioDecoder", ac3)
    if error is None:
        assert summarize(output)["audio"].codec == "opus"
        return
    assert "h264-ac3.mp4" in error and "track 2" in error
    assert "cannot decode ac3 audio (ac-3)" in error
    assert "encode" not in error


def test_dropping_the_undecodable_track_converts_the_rest_and_says_so(
    engine: HeadlessEngine, tmp_path: Path
) -> None:
    output = tmp_path / "out.webm"
    summary = engine.convert(h264_with_ac3(), output, container="webm", audio_codec="drop")
    assert summary["ok"], summary
    assert summary["tracks"] == [
        {"track_id": 1, "kind": "video", "input_codec": "h264", "action": "reencode",
         "output_codec": "vp8",
         "note": "re-encoded from h264 to vp8 (a WEBM file cannot hold h264)"},
        {"track_id": 2, "kind": "audio", "input_codec": "ac3", "action": "drop",
         "output_codec": None, "note": "dropped by choice"},
    ]  # fmt: skip
    streams = summarize(output)
    assert list(streams) == ["video"]
    assert (streams["video"].codec, streams["video"].packets) == ("vp8", 25)


def test_six_channels_are_encoded_or_downmixed_and_the_note_says_so(
    engine: HeadlessEngine, tmp_path: Path
) -> None:
    """Where the browser's Opus encoder takes 6 channels they are kept; where it takes
    fewer the track is downmixed to what it takes, and its outcome says so."""
    output = tmp_path / "out.webm"
    summary = engine.convert(aac_6_channels(), output, container="webm")
    assert summary["ok"], summary
    (track,) = summary["tracks"]
    (stream,) = ffprobe_streams(output)
    assert engine.page is not None
    script = "async (config) => (await AudioEncoder.isConfigSupported(config)).supported"
    opus_6 = {"codec": "opus", "sampleRate": 48000, "numberOfChannels": 6}
    if engine.page.evaluate(script, opus_6):
        assert (stream["codec_name"], stream["channels"]) == ("opus", 6)
        return
    assert re.fullmatch(
        r"re-encoded from aac to opus \(a WEBM file cannot hold aac\); downmixed from 6 to "
        r"(\d) channels \(the browser's opus encoder takes at most \d\)",
        track["note"],
    ), track["note"]
    assert (stream["codec_name"], str(stream["channels"])) == ("opus", track["note"][-2])


def test_video_into_wav_is_a_visible_drop(engine: HeadlessEngine, tmp_path: Path) -> None:
    source, output = h264_with_aac(), tmp_path / "out.wav"
    summary = engine.convert(source, output, container="wav")
    assert summary["ok"], summary
    assert [(t["kind"], t["action"], t["output_codec"], t["note"]) for t in summary["tracks"]] == [
        ("video", "drop", None, "dropped: a WAV file holds no video"),
        ("audio", "reencode", "pcm_s16le", "re-encoded from aac to pcm_s16le "
                                           "(a WAV file cannot hold aac)"),
    ]  # fmt: skip
    (stream,) = ffprobe_streams(output)
    assert (stream["codec_type"], stream["codec_name"]) == ("audio", "pcm_s16le")
    # The whole second of sound, within one AAC frame (1024 samples at 48 kHz).
    assert float(stream["duration"]) == pytest.approx(1.0, abs=1024 / 48000)


def test_the_cli_json_line_lists_every_track(tmp_path: Path) -> None:
    output = tmp_path / "out.webm"
    command = [sys.executable, "-m", "pywebcodecs_host.cli", "convert", str(h264_with_ac3()),
               str(output), "--audio-codec", "drop", "--json"]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=REPO)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert [(t["track_id"], t["action"]) for t in summary["tracks"]] == [(1, "reencode"),
                                                                         (2, "drop")]  # fmt: skip
    assert list(summarize(output)) == ["video"]


def test_mono_layer2_at_a_bitrate_the_standard_forbids_is_refused_naming_the_cause(
    engine: HeadlessEngine, tmp_path: Path
) -> None:
    """ffmpeg writes mono MP2 at 384 kbit/s, which ISO/IEC 11172-3 allows only with two
    channels; Chromium's decoder refuses it with a bare "Decoding error.". The conversion
    is refused before decoding, naming the file, the track and the rule."""
    source = make("mp2-mono-384k.ts", *SINE_1S, "-ac", "1", "-c:a", "mp2", "-b:a", "384k",
                  "-f", "mpegts")  # fmt: skip
    output = tmp_path / "out.webm"
    summary = engine.convert(source, output, container="webm")
    assert not summary["ok"] and not output.exists(), summary
    error = summary["error"]
    assert re.match(r"mp2-mono-384k\.ts: track \d+ \(mp2 audio\): MPEG-1 Layer II at 384 kbit/s "
                    r"in mono, which the standard does not allow", error), error  # fmt: skip
    assert "cannot decode it; copy it into MKV, or drop it" in error
