"""The audio shape a re-encode is given: which mix, which rate, when the encoder's limits
force a remix, and the refusals where nothing can serve. Pure Python, no browser."""

import math

import pytest

from pywebcodecs import convert_media
from pywebcodecs.audio_plan import (
    MIXES,
    AudioRemix,
    changes_audio,
    check_audio_options,
    encoder_rate,
    mix_refusal,
    plan_remix,
)
from pywebcodecs.capabilities import Capabilities, EncoderCheck, ProbeRequest
from pywebcodecs.errors import OptionError, UnsupportedError
from pywebcodecs.options import conversion_kwargs
from pywebcodecs.plan import Target, plan_track, probe_request
from pywebcodecs.track import AudioTrack
from test_plan import WavLike, WebmLike


def audio(channels: int, rate: int = 48000, codec: str = "aac") -> AudioTrack:
    return AudioTrack(id=2, codec=codec, codec_string="mp4a.40.2", timescale=rate,
                      sample_rate=rate, channels=channels)  # fmt: skip


OPUS_STEREO_ONLY = EncoderCheck("opus", False, max_channels=2)
S = math.sqrt(0.5)


def test_the_5_1_downmix_is_itu_bs775():
    """Centre and surrounds at -3 dB into their side, the LFE left out (L R C LFE Ls Rs)."""
    assert MIXES[6, 2] == ((1, 0, S, 0, S, 0), (0, 1, S, 0, 0, S))
    assert MIXES[6, 1] == ((S, S, 1, 0, 0.5, 0.5),)
    # 7.1: the back and side pairs both fold into their side.
    left, right = MIXES[8, 2]
    assert (left[4], left[6], right[5], right[7]) == (S, S, S, S)
    assert left[3] == right[3] == 0


def test_every_mix_keeps_each_side_on_its_side():
    """No input channel on the left (even index past the centre pair) leaks right."""
    for (inputs, outputs), matrix in MIXES.items():
        assert len(matrix) == outputs and all(len(row) == inputs for row in matrix)
        if outputs == 2 and inputs >= 4:
            left, right = matrix
            assert right[0] == left[1] == 0


def test_a_track_the_encoder_takes_as_it_is_is_left_alone():
    assert plan_remix(audio(2), None, None, EncoderCheck("opus", True)) == AudioRemix(48000, 2)
    assert plan_remix(audio(6), None, None, None) == AudioRemix(48000, 6)


def test_too_many_channels_for_the_encoder_downmix_to_the_most_it_takes():
    remix = plan_remix(audio(6), None, None, OPUS_STEREO_ONLY)
    assert remix is not None
    assert (remix.sample_rate, remix.channels, remix.matrix) == (48000, 2, MIXES[6, 2])
    assert remix.note == (
        "downmixed from 6 to 2 channels (the browser's opus encoder takes at most 2)"
    )
    # An encoder that took only mono gets the mono mix.
    mono = plan_remix(audio(8), None, None, EncoderCheck("opus", False, max_channels=1))
    assert mono is not None and mono.matrix == MIXES[8, 1]


def test_a_refused_rate_becomes_48_khz():
    remix = plan_remix(audio(2, 7350), None, None, EncoderCheck("opus", False, rate_refused=True))
    assert remix == AudioRemix(48000, 2, None, "resampled from 7350 to 48000 Hz "
                                               "(the browser's opus encoder does not take "
                                               "7350 Hz)")  # fmt: skip


def test_asked_shapes_and_their_limits():
    remix = plan_remix(audio(1, 44100), 48000, 2, EncoderCheck("opus", True))
    assert remix == AudioRemix(48000, 2, MIXES[1, 2],
                               "upmixed from 1 to 2 channels and resampled from 44100 to "
                               "48000 Hz (asked)")  # fmt: skip
    # More channels than the encoder takes, asked for: not this encoder.
    assert plan_remix(audio(6), None, 4, OPUS_STEREO_ONLY) is None
    # No standard layout for 3 channels: nothing to downmix with.
    assert plan_remix(audio(3), None, None, OPUS_STEREO_ONLY) is None
    # A refusal that is neither the rate nor the channels: no remix helps.
    assert plan_remix(audio(2), None, None, EncoderCheck("opus", False)) is None


def test_option_checks_name_the_option():
    check_audio_options(44100, 2)
    check_audio_options(None, None)
    for rate in (0, 7999, 44100.5, True, "48000"):
        with pytest.raises(OptionError, match="sample_rate must be a whole number"):
            check_audio_options(rate, None)
    with pytest.raises(OptionError, match="channels must be a whole number from 1 to 8, got 9"):
        check_audio_options(None, 9)


def test_only_a_different_shape_is_a_change():
    track = audio(2, 44100)
    assert not changes_audio(track, None, None)
    assert not changes_audio(track, 44100, 2)
    assert changes_audio(track, 48000, None) and changes_audio(track, None, 1)
    assert mix_refusal(audio(3), 2) == "there is no standard mix from 3 to 2 channels"
    assert mix_refusal(audio(6), 2) is None and mix_refusal(audio(3), None) is None


def test_the_plan_downmixes_a_5_1_track_for_webm_and_says_why():
    target = Target(WebmLike, "surround.mp4")
    plan = plan_track(audio(6), target, None, Capabilities(encoders={"opus": OPUS_STEREO_ONLY}))
    assert (plan.action, plan.codec) == ("reencode", "opus")
    assert plan.audio is not None and plan.audio.channels == 2
    assert plan.note == (
        "re-encoded from aac to opus (a WEBM file cannot hold aac); downmixed from 6 to 2 "
        "channels (the browser's opus encoder takes at most 2)"
    )


def test_the_plan_keeps_a_clear_refusal_where_no_mix_serves():
    caps = Capabilities(encoders={"opus": OPUS_STEREO_ONLY})
    with pytest.raises(UnsupportedError) as error:
        plan_track(audio(3), Target(WebmLike, "odd.mp4"), None, caps)
    assert str(error.value) == (
        "odd.mp4: track 2 (aac audio): the browser's opus encoder takes at most 2 channels; "
        "this track has 3, and there is no standard downmix of 3 channels"
    )
    with pytest.raises(UnsupportedError, match="no standard mix from 3 to 2 channels"):
        plan_track(audio(3), Target(WebmLike, "odd.mp4", channels=2), None)


def test_an_asked_shape_reencodes_instead_of_copying():
    opus = audio(2, 44100, codec="opus")
    same = Target(WebmLike, "a.webm", sample_rate=44100)
    assert plan_track(opus, same, None).action == "copy"
    assert probe_request(opus, same, None) is None
    resampled = Target(WebmLike, "a.webm", sample_rate=48000)
    plan = plan_track(opus, resampled, None)
    assert (plan.action, plan.codec) == ("reencode", "opus")
    assert plan.note == (
        "re-encoded from opus to opus (sample_rate and channels change the samples); "
        "resampled from 44100 to 48000 Hz (asked)"
    )
    with pytest.raises(UnsupportedError, match="cannot be copied"):
        plan_track(opus, resampled, "copy")


def test_wav_keeps_six_channels():
    plan = plan_track(audio(6), Target(WavLike, "surround.mp4"), None)
    assert (plan.codec, plan.audio) == ("pcm_s16le", AudioRemix(48000, 6))


def test_asking_for_the_refused_rate_is_refused():
    """The probe asks about the asked rate: its refusal is that rate's, and only a rate
    the caller left open is changed to 48 kHz."""
    refused = EncoderCheck("opus", False, rate_refused=True, sample_rate=7350)
    assert plan_remix(audio(2, 7350), 7350, None, refused) is None
    asked = EncoderCheck("opus", False, rate_refused=True, sample_rate=24000)
    assert plan_remix(audio(2, 44100), 24000, None, asked) is None


def test_the_encoders_are_asked_about_the_output_shape():
    track = audio(6, 44100)
    request = probe_request(track, Target(WebmLike, "a.mp4", sample_rate=24000), None)
    assert request == ProbeRequest(track, ("opus",), sample_rate=24000)
    assert request.audio_shape() == (24000, 6)
    request = probe_request(track, Target(WebmLike, "a.mp4", channels=2), None)
    assert request is not None and request.audio_shape() == (44100, 2)


def test_an_asked_rate_the_encoder_refuses_is_refused_by_the_plan():
    """Before the session starts, naming the file, the track, the codec and the rate."""
    caps = Capabilities(encoders={"opus": EncoderCheck("opus", False, rate_refused=True,
                                                       sample_rate=24000)})  # fmt: skip
    target = Target(WebmLike, "talk.wav", sample_rate=24000)
    with pytest.raises(UnsupportedError) as error:
        plan_track(audio(2, 44100, codec="pcm_s16le"), target, None, caps)
    assert str(error.value) == (
        "talk.wav: track 2 (pcm_s16le audio): the browser's opus encoder does not take "
        "24000 Hz audio"
    )
    # Refused with neither cause known: the shape asked is named, not the track's.
    caps = Capabilities(encoders={"opus": EncoderCheck("opus", False, sample_rate=24000,
                                                       channels=1)})  # fmt: skip
    with pytest.raises(UnsupportedError, match=r"cannot encode opus audio at 24000 Hz with 1 "
                                               r"channel$"):  # fmt: skip
        plan_track(audio(2, 44100), Target(WebmLike, "t.wav", sample_rate=24000, channels=1),
                   None, caps)  # fmt: skip


def test_a_refused_channel_count_at_an_asked_rate_is_still_downmixed():
    check = EncoderCheck("opus", False, max_channels=2, sample_rate=24000)
    remix = plan_remix(audio(6, 44100), 24000, None, check)
    assert remix is not None and (remix.sample_rate, remix.channels) == (24000, 2)


def test_js_names_and_values_of_the_audio_options():
    assert conversion_kwargs({"sampleRate": 48000.0, "channels": 2}) == {
        "sample_rate": 48000, "channels": 2
    }  # fmt: skip
    with pytest.raises(OptionError, match="sampleRate must be a whole number"):
        conversion_kwargs({"sampleRate": 44100.5})
    with pytest.raises(OptionError, match="did you mean sampleRate"):
        conversion_kwargs({"sample_rate": 48000})


async def test_convert_media_refuses_a_bad_shape_before_reading(tmp_path):
    with pytest.raises(OptionError, match="channels must be a whole number from 1 to 8"):
        await convert_media(tmp_path / "never-read.wav", "wav", channels=0)


def test_opus_is_fed_48_khz_whatever_the_shape_other_codecs_their_shape():
    """Opus codes at 48 kHz: our resampler feeds it, not the browser's encoder (whose own
    resampling delayed the audio and lost its end)."""
    for rate in (8000, 11025, 22050, 44100, 48000, 96000):
        assert encoder_rate("opus", rate) == 48000
        assert encoder_rate("aac", rate) == rate
        assert encoder_rate("pcm_s16le", rate) == rate
