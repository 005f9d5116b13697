"""Which tracks a conversion copies, re-encodes or drops, and the errors for impossible asks."""

from pathlib import Path

import pytest

from oracle import ffprobe_streams, make
from pywebcodecs import PyWebCodecsError, convert_media
from pywebcodecs.capabilities import Capabilities, EncoderCheck, ProbeRequest, decoder_config
from pywebcodecs.conversion import TrackOutcome
from pywebcodecs.encoding import (
    QUALITY_BITS_PER_PIXEL,
    EncoderSettings,
    audio_encoder_config,
    video_bitrate,
    video_encoder_codec_string,
    video_encoder_config,
)
from pywebcodecs.errors import OptionError, UnsupportedError
from pywebcodecs.frame_plan import Crop, TrimWindow
from pywebcodecs.muxer import Muxer
from pywebcodecs.plan import Resize, Target, plan_track, probe_request
from pywebcodecs.sink import FileSink
from pywebcodecs.track import AudioTrack, VideoTrack


class WebmLike(Muxer):
    """A muxer class used only for its codec list and name (nothing is written)."""

    format_name = "webm"
    codecs = frozenset({"vp8", "vp9", "av1", "opus", "vorbis"})
    mime_type = "video/webm"

    def add_track(self, track):  # pragma: no cover - never called
        raise AssertionError

    async def write_packet(self, track_id, packet):  # pragma: no cover
        raise AssertionError

    async def finish(self):  # pragma: no cover
        raise AssertionError


class WavLike(WebmLike):
    format_name = "wav"
    codecs = frozenset({"pcm_s16le"})


WEBM = Target(WebmLike, "clip.mp4")
WAV = Target(WavLike, "clip.mp4")


H264 = VideoTrack(id=1, codec="h264", codec_string="avc1.64001f", timescale=90000,
                  width=1280, height=720)  # fmt: skip
VP9 = VideoTrack(id=1, codec="vp9", codec_string="vp09.00.10.08", timescale=1000,
                 width=640, height=360, rotation=90)  # fmt: skip
AAC = AudioTrack(id=2, codec="aac", codec_string="mp4a.40.2", timescale=44100,
                 sample_rate=44100, channels=2)  # fmt: skip
AC3 = AudioTrack(id=2, codec="ac3", codec_string="ac-3", timescale=48000,
                 sample_rate=48000, channels=6)  # fmt: skip
AAC_51 = AudioTrack(id=3, codec="aac", codec_string="mp4a.40.2", timescale=48000,
                    sample_rate=48000, channels=6, description=b"\x11\xb0")  # fmt: skip


def refused(*codecs: str, **check) -> Capabilities:
    """The browser's answers when it decodes the track but refuses these encoders."""
    return Capabilities(encoders={c: EncoderCheck(c, False, **check) for c in codecs})


def test_a_codec_the_container_holds_is_copied_by_default():
    plan = plan_track(VP9, WEBM, None)
    assert (plan.action, plan.codec) == ("copy", "vp9")


def test_a_codec_the_container_cannot_hold_is_reencoded_to_the_first_encodable_default():
    plan = plan_track(H264, WEBM, None, refused("vp8"))
    assert (plan.action, plan.codec, plan.size) == ("reencode", "vp9", (1280, 720))
    assert plan.note == "re-encoded from h264 to vp9 (a WEBM file cannot hold h264)"
    assert plan_track(AAC, WEBM, None).codec == "opus"


def test_copy_into_a_container_that_cannot_hold_the_codec_names_file_track_and_both():
    with pytest.raises(UnsupportedError) as error:
        plan_track(H264, WEBM, "copy")
    assert str(error.value).startswith("clip.mp4: track 1 (h264 video): a WEBM file cannot "
                                       "hold h264; it can hold av1, opus")  # fmt: skip


def test_rotation_and_resize_force_a_reencode_and_swap_the_sides():
    plan = plan_track(VP9, Target(WebmLike, rotate=180, resize=Resize(width=320)), None)
    # The input is already rotated 90°: 90 + 180 = 270 baked in, so the upright frame is
    # 360x640, scaled to a width of 320.
    assert (plan.action, plan.rotation, plan.size) == ("reencode", 270, (320, 568))
    with pytest.raises(UnsupportedError, match="cannot be copied"):
        plan_track(VP9, Target(WebmLike, rotate=90), "copy")
    with pytest.raises(UnsupportedError, match="multiple of 90"):
        plan_track(VP9, Target(WebmLike, rotate=45), "vp8")


def test_drop_and_unknown_codecs():
    plan = plan_track(AAC, WEBM, "drop")
    assert (plan.action, plan.note) == ("drop", "dropped by choice")
    with pytest.raises(UnsupportedError) as error:
        plan_track(H264, WEBM, "theora")
    assert str(error.value).startswith(
        "clip.mp4: track 1 (h264 video): unknown video codec 'theora'; choose one of copy, drop"
    )


def test_video_into_an_audio_only_container_is_dropped_with_a_note():
    plan = plan_track(H264, WAV, None)
    assert (plan.action, plan.codec) == ("drop", None)
    assert plan.note == "dropped: a WAV file holds no video"
    # Asking for a video codec there is a request that cannot be met: an error.
    with pytest.raises(UnsupportedError, match=r"clip.mp4: track 1 .* WAV file cannot hold vp8"):
        plan_track(H264, WAV, "vp8")


def test_a_track_the_browser_cannot_decode_names_decode_not_encode():
    with pytest.raises(UnsupportedError) as error:
        plan_track(AC3, Target(WebmLike, "film.mp4"), None, Capabilities(decodable=False))
    message = str(error.value)
    assert message.startswith(
        "film.mp4: track 2 (ac3 audio): this browser cannot decode ac3 audio (ac-3); "
        "copy it into MKV"  # (or MP4 too, where the MP4 writer holds AC-3)
    )
    assert message.endswith(", or drop it")


def test_an_encoder_refusing_the_channel_count_says_so():
    """Asked to keep 6 channels (else it would be downmixed, see test_audio_plan)."""
    with pytest.raises(UnsupportedError) as error:
        plan_track(AAC_51, Target(WebmLike, "surround.mp4", channels=6), None,
                   refused("opus", max_channels=2))  # fmt: skip
    assert str(error.value) == (
        "surround.mp4: track 3 (aac audio): the browser's opus encoder takes at most 2 "
        "channels; this track has 6"
    )


def test_an_encoder_refusing_the_sample_rate_or_everything_says_which():
    odd_rate = AudioTrack(id=4, codec="aac", codec_string="mp4a.40.2", timescale=7350,
                          sample_rate=7350, channels=1)  # fmt: skip
    with pytest.raises(UnsupportedError, match=r"track 4 .*opus encoder does not take 7350 Hz"):
        plan_track(odd_rate, Target(WebmLike, "clip.mp4", sample_rate=7350), "opus",
                   refused("opus", rate_refused=True))  # fmt: skip
    with pytest.raises(UnsupportedError) as error:
        plan_track(AAC, WEBM, "opus", refused("opus"))
    assert str(error.value) == (
        "clip.mp4: track 2 (aac audio): this browser cannot encode opus audio at 44100 Hz "
        "with 2 channels"
    )


def test_nothing_encodable_lists_every_default_that_was_refused():
    with pytest.raises(UnsupportedError) as error:
        plan_track(H264, Target(WebmLike, "a.mp4", resize=Resize(width=640)), None,
                   refused("vp8", "vp9", "av1"))  # fmt: skip
    assert str(error.value) == (
        "a.mp4: track 1 (h264 video): no video codec a WEBM file holds can be encoded here; "
        "this browser cannot encode vp8 video at 640x360; this browser cannot encode vp9 "
        "video at 640x360; this browser cannot encode av1 video at 640x360"
    )


def test_only_tracks_that_may_be_reencoded_are_probed():
    assert probe_request(VP9, WEBM, None) is None  # copied
    assert probe_request(AAC, WEBM, "drop") is None
    assert probe_request(H264, WAV, None) is None  # dropped: WAV holds no video
    assert probe_request(H264, WEBM, None) == ProbeRequest(H264, ("vp8", "vp9", "av1"),
                                                               (1280, 720))  # fmt: skip
    assert probe_request(VP9, Target(WebmLike, resize=Resize(height=320)), "av1") == ProbeRequest(
        VP9, ("av1",), (180, 320)
    )
    assert probe_request(AAC_51, WEBM, None) == ProbeRequest(AAC_51, ("opus",))


def test_the_probe_asks_for_the_configs_the_stages_use():
    assert decoder_config(AAC_51) == {"codec": "mp4a.40.2", "sampleRate": 48000,
                                      "numberOfChannels": 6,
                                      "description": b"\x11\xb0"}  # fmt: skip
    assert decoder_config(H264) == {"codec": "avc1.64001f", "codedWidth": 1280,
                                    "codedHeight": 720}  # fmt: skip
    config = video_encoder_config("h264", 1280, 720, 30.0)
    assert (config["codec"], config["framerate"]) == ("avc1.42001f", 30.0)
    assert config["avc"] == {"format": "avc"}


def test_each_plan_becomes_an_outcome_on_the_result():
    outcomes = [
        TrackOutcome.of(plan_track(H264, WEBM, None)),
        TrackOutcome.of(plan_track(VP9, WEBM, None)),
        TrackOutcome.of(plan_track(AAC, WEBM, "drop")),
    ]
    assert outcomes == [
        TrackOutcome(1, "video", "h264", "reencode", "vp8",
                     "re-encoded from h264 to vp8 (a WEBM file cannot hold h264)"),
        TrackOutcome(1, "video", "vp9", "copy", "vp9", "copied (vp9)"),
        TrackOutcome(2, "audio", "aac", "drop", None, "dropped by choice"),
    ]  # fmt: skip


def test_encoder_levels_follow_the_picture_size():
    assert video_encoder_codec_string("vp9", 1920, 1080) == "vp09.00.40.08"
    assert video_encoder_codec_string("av1", 1280, 720) == "av01.0.05M.08"
    assert video_encoder_codec_string("h264", 1280, 720) == "avc1.42001f"
    assert video_encoder_codec_string("h264", 1920, 1080) == "avc1.420028"


def h264_aac() -> Path:
    return make("plan-h264-aac.mp4", "-f", "lavfi", "-i", "testsrc2=size=64x64:rate=10:duration=1",
                "-f", "lavfi", "-i", "sine=sample_rate=48000:duration=1", "-c:v", "libx264",
                "-preset", "ultrafast", "-c:a", "aac")  # fmt: skip


async def test_the_result_lists_every_input_track_in_cpython_too(tmp_path: Path) -> None:
    output = tmp_path / "out.mkv"
    sink = FileSink(output)
    try:
        result = await convert_media(str(h264_aac()), "mkv", audio_codec="drop", sink=sink)
    finally:
        sink.close()
    assert result.tracks == [
        TrackOutcome(1, "video", "h264", "copy", "h264", "copied (h264)"),
        TrackOutcome(2, "audio", "aac", "drop", None, "dropped by choice"),
    ]
    assert [s["codec_name"] for s in ffprobe_streams(output)] == ["h264"]


async def test_a_conversion_left_with_no_track_says_what_became_of_each() -> None:
    with pytest.raises(PyWebCodecsError) as error:
        await convert_media(str(h264_aac()), "wav", audio_codec="drop")
    assert str(error.value) == (
        "plan-h264-aac.mp4: no track left to write to WAV (track 1 dropped: a WAV file holds "
        "no video; track 2 dropped by choice)"
    )


def test_crop_and_frame_rate_force_a_reencode_and_reach_the_plan():
    target = Target(WebmLike, crop=Crop(0, 0, 320, 240), frame_rate=24.0)
    plan = plan_track(VP9, target, None)
    # The stored 640x360 picture is cropped, then the input's own 90° turns it upright.
    assert (plan.action, plan.crop, plan.size, plan.frame_rate) == (
        "reencode", Crop(0, 0, 320, 240), (240, 320), 24.0)  # fmt: skip
    with pytest.raises(UnsupportedError, match="crop and frame_rate change the pixels"):
        plan_track(VP9, Target(WebmLike, frame_rate=24.0), "copy")
    with pytest.raises(UnsupportedError, match=r"track 1 .*reaches outside the 640x360"):
        plan_track(VP9, Target(WebmLike, "a.webm", crop=Crop(0, 0, 641, 10)), None)


def test_a_trim_alone_keeps_copies_and_every_plan_carries_it():
    trim = TrimWindow(1.0, 2.0)
    target = Target(WebmLike, trim=trim)
    assert (plan_track(VP9, target, None).action, plan_track(VP9, target, None).trim) == (
        "copy", trim)  # fmt: skip
    assert plan_track(AAC, target, None).trim == trim  # re-encoded audio


def test_encoder_settings_reach_the_plan_and_the_probe():
    settings = EncoderSettings(video_bitrate=500_000, keyframe_interval=1.0,
                               hardware_acceleration="prefer-software")  # fmt: skip
    target = Target(WebmLike, settings=settings, frame_rate=25.0)
    assert plan_track(H264, target, None).settings == settings
    request = probe_request(H264, target, None)
    assert request is not None and (request.settings, request.frame_rate) == (settings, 25.0)
    config = video_encoder_config("vp9", 1280, 720, 25.0, settings)
    assert (config["bitrate"], config["framerate"]) == (500_000, 25.0)
    assert config["hardwareAcceleration"] == "prefer-software"
    assert audio_encoder_config("opus", 48000, 2, EncoderSettings(audio_bitrate=96_000))[
        "bitrate"] == 96_000  # fmt: skip


def test_quality_scales_the_bitrate_with_size_and_rate():
    rates = [video_bitrate(1280, 720, 30, quality) for quality in QUALITY_BITS_PER_PIXEL]
    assert rates == sorted(rates) and len(set(rates)) == 4
    assert video_bitrate(1280, 720, 60, "high") == 2 * video_bitrate(1280, 720, 30, "high")
    assert video_bitrate(1280, 720, 30) == video_bitrate(1280, 720, 30, "medium")


@pytest.mark.parametrize(("settings", "message"), [
    ({"quality": "best"}, "quality must be one of low, medium, high, very-high"),
    ({"video_bitrate": 0}, "video_bitrate must be a whole number"),
    ({"keyframe_interval": 0}, "keyframe_interval must be seconds > 0"),
    ({"latency_mode": "fast"}, "latency_mode must be one of quality, realtime"),
    ({"hardware_acceleration": "gpu"}, "hardware_acceleration must be one of"),
])  # fmt: skip
def test_bad_encoder_settings_are_option_errors(settings, message):
    with pytest.raises(OptionError, match=message):
        EncoderSettings(**settings)
