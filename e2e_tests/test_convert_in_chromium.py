"""MP4 (H.264 + AAC) to WebM in real Chromium: our demuxer, the browser's WebCodecs, our
muxer, checked by ffprobe and ffmpeg."""

from __future__ import annotations

import subprocess
from array import array
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from audio_span import decoded_audio, edited_audio
from media import frame_interval, summarize
from oracle import FIXTURES, decode_errors, ffprobe_streams, hd_720p_20s, make
from pywebcodecs.encoding import audio_encoder_config
from pywebcodecs_host.headless import HeadlessEngine
from pywebcodecs_host.site_server import SiteServer

#: The tolerance for where audio starts and ends: the media's own precision.
MS = 0.001


def assert_same_video_and_synced_audio(source: Path, output: Path, video: str, audio: str) -> None:
    before, after = summarize(source), summarize(output)
    assert after["video"].codec == video
    assert after["audio"].codec == audio
    assert after["video"].packets == before["video"].packets
    frame = frame_interval(source)
    assert after["video"].start == pytest.approx(0, abs=1e-3)
    in_span = before["video"].end - before["video"].start
    assert after["video"].end == pytest.approx(in_span, abs=frame)
    # The audio ffmpeg decodes starts at 0 and ends where the input's does, whatever
    # padding the encoder added to its last frame.
    audio = decoded_audio(output)
    assert audio.start == pytest.approx(0, abs=MS)
    assert audio.end == pytest.approx(before["audio"].end, abs=MS)
    assert decode_errors(output) == ""


@pytest.mark.parametrize("video_codec", ["vp8", "vp9"])
def test_fixture_mp4_to_webm(engine: HeadlessEngine, tmp_path: Path, video_codec: str) -> None:
    source = FIXTURES / "video.mp4"
    output = tmp_path / f"video-{video_codec}.webm"
    summary = engine.convert(source, output, container="webm", video_codec=video_codec,
                             audio_codec="opus")  # fmt: skip
    assert summary["ok"], summary
    assert_same_video_and_synced_audio(source, output, video_codec, "opus")
    assert summary["video_frames"] == summarize(output)["video"].packets


def test_720p_h264_high_with_aac_priming_to_webm(engine: HeadlessEngine, tmp_path: Path) -> None:
    source = hd_720p_20s()
    output = tmp_path / "720p.webm"
    summary = engine.convert(source, output, container="webm", video_codec="vp8",
                             audio_codec="opus")  # fmt: skip
    assert summary["ok"], summary
    assert_same_video_and_synced_audio(source, output, "vp8", "opus")


def test_edit_list_fixture_starts_at_zero(engine: HeadlessEngine, tmp_path: Path) -> None:
    source = FIXTURES / "edts.mp4"
    output = tmp_path / "edts.webm"
    summary = engine.convert(source, output, container="webm")
    assert summary["ok"], summary
    assert_same_video_and_synced_audio(source, output, "vp8", "opus")


def test_garbage_input_is_a_clear_error(engine: HeadlessEngine, tmp_path: Path) -> None:
    source = tmp_path / "garbage.mp4"
    source.write_bytes(b"\x00\x00\x00\x10junk" + bytes(range(256)) * 40)
    summary = engine.convert(source, tmp_path / "out.webm", container="webm")
    assert not summary["ok"]
    assert "garbage.mp4" in summary["error"]


def video_size(path: Path) -> tuple[int, int]:
    video = next(s for s in ffprobe_streams(path) if s["codec_type"] == "video")
    return video["width"], video["height"]


def test_aac_encoding_follows_what_the_browser_reports(engine: HeadlessEngine,
                                                      tmp_path: Path) -> None:  # fmt: skip
    """Whether this Chromium encodes AAC is its own business: ask it the engine's question
    (``AudioEncoder.isConfigSupported``) and hold the conversion to the answer. Either it
    writes AAC that ffmpeg decodes, or it fails naming the codec and leaves no file."""
    source, output = FIXTURES / "video.mp4", tmp_path / "out.mkv"
    audio = next(s for s in ffprobe_streams(source) if s["codec_type"] == "audio")
    config = audio_encoder_config("aac", int(audio["sample_rate"]), audio["channels"])
    assert engine.page is not None
    supported = engine.page.evaluate(
        "async (c) => (await AudioEncoder.isConfigSupported(c)).supported === true", config
    )
    summary = engine.convert(source, output, container="mkv", video_codec="copy",
                             audio_codec="aac")  # fmt: skip
    if supported:
        assert summary["ok"], summary
        assert [s["codec_name"] for s in ffprobe_streams(output)] == ["h264", "aac"]
        assert decode_errors(output) == ""
    else:
        assert not summary["ok"], summary
        assert "aac" in summary["error"] and "encode" in summary["error"], summary["error"]
        assert not output.exists()


def test_undecodable_frames_fail_with_a_codec_error_not_a_hang(engine: HeadlessEngine,
                                                               tmp_path: Path) -> None:  # fmt: skip
    source = make("noise-frames.mp4", "-f", "lavfi", "-i",
                  "testsrc2=size=320x240:rate=25:duration=2", "-c:v", "libx264")  # fmt: skip
    data = bytearray(source.read_bytes())
    mdat = data.index(b"mdat") + 4
    moov = data.index(b"moov") if data.index(b"moov") > mdat else len(data)
    data[mdat + 64 : moov - 64] = bytes(range(256)) * ((moov - mdat - 128) // 256) + bytes(
        (moov - mdat - 128) % 256
    )
    broken = tmp_path / "noise.mp4"
    broken.write_bytes(data)
    summary = engine.convert(broken, tmp_path / "out.webm", container="webm")
    assert not summary["ok"]
    assert "video decoding failed" in summary["error"]


def test_rotate_and_resize_reencode_the_pixels(engine: HeadlessEngine, tmp_path: Path) -> None:
    output = tmp_path / "turned.webm"
    summary = engine.convert(FIXTURES / "edts.mp4", output, container="webm", rotate=90,
                             resize=[240, None])  # fmt: skip
    assert summary["ok"], summary
    # 854x480 turned to 480x854, scaled to width 240: 427 rounded to an even 428.
    assert video_size(output) == (240, 428)
    assert summarize(output)["video"].packets == summarize(FIXTURES / "edts.mp4")["video"].packets
    assert decode_errors(output) == ""


def test_cancel_stops_the_conversion(browser: Browser, static_dir: Path) -> None:
    with SiteServer(static_dir) as site:
        page = browser.new_page()
        page.goto(f"{site.url}/index.html")
        page.wait_for_selector("body[data-engine=ready]", timeout=120_000)
        page.set_input_files("#file-input", str(hd_720p_20s()))
        page.wait_for_selector("#info-body table")
        page.click("#convert")
        page.wait_for_function("document.querySelector('#progress').value > 0.05",
                               timeout=120_000)  # fmt: skip
        page.click("#cancel")
        page.wait_for_function("document.querySelector('#status').textContent === 'Cancelled.'",
                               timeout=60_000)  # fmt: skip
        assert page.is_hidden("#result")
        page.close()


def test_mpeg_ts_and_avi_inputs_convert_too(engine: HeadlessEngine, tmp_path: Path) -> None:
    for name, args in {
        "input.ts": ["-c:v", "libx264", "-bf", "2", "-c:a", "aac"],
        "input.avi": ["-c:v", "libx264", "-c:a", "libmp3lame"],
    }.items():
        source = make(f"e2e-{name}", "-f", "lavfi", "-i",
                      "testsrc2=size=320x240:rate=25:duration=3", "-f", "lavfi", "-i",
                      "sine=duration=3:sample_rate=44100", *args)  # fmt: skip
        output = tmp_path / f"{name}.webm"
        summary = engine.convert(source, output, container="webm")
        assert summary["ok"], summary
        before, after = summarize(source), summarize(output)
        assert (after["video"].codec, after["audio"].codec) == ("vp8", "opus")
        assert after["video"].packets == before["video"].packets == 75
        # The output starts where the input's first track does (TS: at 1.4 s).
        origin = min(before["video"].start, before["audio"].start)
        assert decoded_audio(output).end == pytest.approx(before["audio"].end - origin, abs=MS)
        assert decode_errors(output) == ""


def test_mp3_to_wav_decodes_to_pcm_in_the_browser(engine: HeadlessEngine, tmp_path: Path) -> None:
    source = FIXTURES / "Toothsome-Meme.VBRv2.mp3"
    output = tmp_path / "song.wav"
    summary = engine.convert(source, output, container="wav")
    assert summary["ok"], summary
    (stream,) = ffprobe_streams(output)
    assert (stream["codec_name"], stream["sample_rate"], stream["channels"]) == (
        "pcm_s16le", "24000", 2)  # fmt: skip
    # As ffmpeg decodes the MP3: its LAME tag's encoder delay and padding are not audio.
    heard = decoded_audio(source)
    assert float(stream["duration"]) == pytest.approx(float(heard.end - heard.start), abs=MS)
    assert decoded_audio(output).samples == heard.samples
    assert decode_errors(output) == ""


def click_wav(seconds: float, rate: int, channels: int) -> Path:
    """A quiet tone with one loud sample at 0.05 s: where it lands in the output shows
    that the audio starts at 0 (the encoder's priming dropped, nothing else)."""
    click = round(0.05 * rate)
    return make(f"click-{seconds}s-{rate}-{channels}ch.wav", "-f", "lavfi", "-i",
                f"aevalsrc='if(eq(n,{click}),0.9,0.1*sin(2*PI*440*t))':s={rate}:d={seconds}",
                "-ac", str(channels), "-c:a", "pcm_s16le")  # fmt: skip


def loudest_sample(path: Path) -> int:
    """The index of the loudest sample ffmpeg decodes from ``path`` (mixed to mono)."""
    cmd = ["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:a", "-f", "s16le", "-ac", "1", "-"]
    samples = array("h", subprocess.run(cmd, capture_output=True, check=True).stdout)
    return max(range(len(samples)), key=lambda i: abs(samples[i]))


@pytest.mark.parametrize("container", ["webm", "mkv", "mp4"])
@pytest.mark.parametrize(("seconds", "rate", "channels"), [(1.013, 48000, 2), (0.1, 44100, 1)])
def test_reencoded_opus_starts_at_zero_and_ends_with_the_input(
    engine: HeadlessEngine, tmp_path: Path, container: str, seconds: float, rate: int,
    channels: int,
) -> None:  # fmt: skip
    """1.013 s is no whole number of 20 ms Opus frames; 0.1 s at 44.1 kHz is less than six.
    The padding of the last frame is cut (Matroska DiscardPadding, MP4 edit list) and the
    pre-skip is dropped once, so the audio spans exactly the input's time."""
    source = click_wav(seconds, rate, channels)
    output = tmp_path / f"out.{container}"
    summary = engine.convert(source, output, container=container, audio_codec="opus")
    assert summary["ok"], summary
    assert summary["output_seconds"] == pytest.approx(seconds, abs=MS)
    audio = decoded_audio(output)
    assert audio.start == pytest.approx(0, abs=MS)
    if container == "mp4":  # ffmpeg's decoder ignores the edit's end; its probe does not
        start, end = edited_audio(output)
        assert (float(start), float(end)) == pytest.approx((0, seconds), abs=MS)
    else:
        assert audio.end == pytest.approx(seconds, abs=MS)
    assert loudest_sample(output) == pytest.approx(0.05 * 48000, abs=48)  # within 1 ms
    assert decode_errors(output) == ""


@pytest.mark.parametrize(("name", "codec"), [("click.ogg", "libopus"), ("click.m4a", "aac")])
def test_decoded_to_wav_ends_where_the_input_says(engine: HeadlessEngine, tmp_path: Path,
                                                  name: str, codec: str) -> None:  # fmt: skip
    """The decoder gives whole frames; the input says its last one is shorter (Ogg's last
    granule, the MP4 edit list): the WAV ends there, and starts at 0."""
    source = make(name, "-i", str(click_wav(1.013, 48000, 2)), "-c:a", codec)
    output = tmp_path / "out.wav"
    summary = engine.convert(source, output, container="wav")
    assert summary["ok"], summary
    assert decoded_audio(output).end == pytest.approx(summarize(source)["audio"].end, abs=MS)
    assert loudest_sample(output) == pytest.approx(0.05 * 48000, abs=48)
