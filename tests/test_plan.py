"""Which tracks a conversion copies, re-encodes or drops, and the errors for impossible asks."""

import pytest

from pywebcodecs.encoding import video_encoder_codec_string
from pywebcodecs.errors import UnsupportedError
from pywebcodecs.muxer import Muxer
from pywebcodecs.plan import Resize, plan_track
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


H264 = VideoTrack(id=1, codec="h264", codec_string="avc1.64001f", timescale=90000,
                  width=1280, height=720)  # fmt: skip
VP9 = VideoTrack(id=1, codec="vp9", codec_string="vp09.00.10.08", timescale=1000,
                 width=640, height=360, rotation=90)  # fmt: skip
AAC = AudioTrack(id=2, codec="aac", codec_string="mp4a.40.2", timescale=44100,
                 sample_rate=44100, channels=2)  # fmt: skip


def test_a_codec_the_container_holds_is_copied_by_default():
    plan = plan_track(VP9, WebmLike, None)
    assert (plan.action, plan.codec) == ("copy", "vp9")


def test_a_codec_the_container_cannot_hold_is_reencoded_to_the_first_encodable_default():
    plan = plan_track(H264, WebmLike, None, can_encode=lambda codec: codec != "vp8")
    assert (plan.action, plan.codec, plan.size) == ("reencode", "vp9", (1280, 720))
    assert plan_track(AAC, WebmLike, None).codec == "opus"


def test_copy_into_a_container_that_cannot_hold_the_codec_names_both():
    with pytest.raises(UnsupportedError, match="a WEBM file cannot hold h264"):
        plan_track(H264, WebmLike, "copy")


def test_rotation_and_resize_force_a_reencode_and_swap_the_sides():
    plan = plan_track(VP9, WebmLike, None, rotate=180, resize=Resize(width=320))
    # The input is already rotated 90°: 90 + 180 = 270 baked in, so the upright frame is
    # 360x640, scaled to a width of 320.
    assert (plan.action, plan.rotation, plan.size) == ("reencode", 270, (320, 568))
    with pytest.raises(UnsupportedError, match="cannot be copied"):
        plan_track(VP9, WebmLike, "copy", rotate=90)
    with pytest.raises(UnsupportedError, match="multiple of 90"):
        plan_track(VP9, WebmLike, "vp8", rotate=45)


def test_drop_and_unknown_codecs():
    assert plan_track(AAC, WebmLike, "drop").action == "drop"
    with pytest.raises(UnsupportedError, match="unknown video codec 'theora'"):
        plan_track(H264, WebmLike, "theora")


def test_video_into_an_audio_only_container_is_dropped():
    assert plan_track(H264, WavLike, None).action == "drop"


def test_nothing_encodable_is_a_clear_error():
    with pytest.raises(UnsupportedError, match="cannot encode any audio codec a WEBM"):
        plan_track(AAC, WebmLike, None, can_encode=lambda codec: False)


def test_encoder_levels_follow_the_picture_size():
    assert video_encoder_codec_string("vp9", 1920, 1080) == "vp09.00.40.08"
    assert video_encoder_codec_string("av1", 1280, 720) == "av01.0.05M.08"
    assert video_encoder_codec_string("h264", 1280, 720) == "avc1.42001f"
    assert video_encoder_codec_string("h264", 1920, 1080) == "avc1.420028"
