"""EncodedAudioEnd: re-encoded audio ends where the fed samples end, whatever padding the
encoder added (counted in samples, never assumed from one encoder's habits)."""

from __future__ import annotations

from pywebcodecs.audio_end import FLUSH_SILENCE, EncodedAudioEnd
from pywebcodecs.track import MICROSECONDS, Packet

FRAME_US = 20_000  # an Opus frame
PRE_SKIP_US = 6_500  # 312 samples at 48 kHz


def opus_packets(count: int) -> list[Packet]:
    """Encoder output as the pipeline dates it: each chunk's decoded samples start the
    pre-skip before its input does."""
    return [Packet(1, k * FRAME_US - PRE_SKIP_US, k * FRAME_US - PRE_SKIP_US, FRAME_US, True,
                   bytes([k % 256])) for k in range(count)]  # fmt: skip


def run(end: EncodedAudioEnd, packets: list[Packet]) -> tuple[list[Packet], list[Packet]]:
    """(released while encoding, released at the end)."""
    early = [ready for packet in packets for ready in end.push(packet)]
    return early, end.finish()


def test_the_last_frame_is_cut_where_the_fed_samples_end() -> None:
    end = EncodedAudioEnd(MICROSECONDS)
    end.fed(0, 48_624, 48_000)  # 1.013 s: not a whole number of 20 ms frames
    early, final = run(end, opus_packets(51))
    packets = early + final
    assert len(packets) == 51 and all(p.discard_padding == 0 for p in packets[:-1])
    last = packets[-1]
    assert last.pts + last.duration == 1_013_000
    assert (last.duration, last.discard_padding) == (FRAME_US - 500, 500_000)
    assert final == [last]  # held back until the input was known to be over


def test_a_frame_of_nothing_but_padding_is_dropped() -> None:
    end = EncodedAudioEnd(MICROSECONDS)
    for _ in range(9):  # 0.10 s fed as ten blocks of 441 samples at 44.1 kHz, one more late
        end.fed(0, 441, 44_100)
    end.fed(90_000, 441, 44_100)
    early, final = run(end, opus_packets(7))  # 140 ms of frames for 100 ms of input
    packets = early + final
    assert [p.data[0] for p in packets] == [0, 1, 2, 3, 4, 5]
    assert packets[-1].pts + packets[-1].duration == 100_000
    assert packets[-1].discard_padding == 13_500_000


def test_audio_that_starts_late_is_released_as_the_fed_samples_cover_it() -> None:
    end = EncodedAudioEnd(MICROSECONDS)
    packets = [Packet(1, 1_000_000 + k * FRAME_US - PRE_SKIP_US, 0, FRAME_US, True, b"")
               for k in range(50)]  # fmt: skip
    end.fed(1_000_000, 24_000, 48_000)  # input from 1 s
    first = [ready for packet in packets for ready in end.push(packet)]
    assert len(first) == 25 and first[-1].pts + FRAME_US <= 1_500_000
    end.fed(1_500_000, 23_688, 48_000)  # ends where the 50th frame's samples end
    rest = end.finish()
    assert len(rest) == 25 and rest[-1].pts + rest[-1].duration == 1_993_500
    assert all(p.duration == FRAME_US and p.discard_padding == 0 for p in first + rest)


def test_nothing_fed_leaves_every_packet_as_it_is() -> None:
    end = EncodedAudioEnd(MICROSECONDS)
    early, final = run(end, opus_packets(3))
    assert [p.duration for p in early] == [FRAME_US] * 3 and final == []


def test_an_input_whose_last_packet_is_cut_short_ends_there() -> None:
    """An MP4 AAC track whose last sample lasts 676 of its 1024 samples (edts.mp4): the
    decoder gives all 1024, the input's audio ends at 9.0 s."""
    end = EncodedAudioEnd(MICROSECONDS)
    for k in range(390):
        pts = round((k * 1024 - 2112) * MICROSECONDS / 44_100)  # as the decoder is given it
        end.decoding(pts, round((676 if k == 389 else 1024) * MICROSECONDS / 44_100))
    end.fed(0, 390 * 1024 - 2112, 44_100)
    early, final = run(end, opus_packets(452))  # 9.0335 s of 20 ms frames
    assert (early + final)[-1].pts + (early + final)[-1].duration == end.end == 9_000_000


def test_an_input_packet_without_a_duration_leaves_the_fed_end() -> None:
    end = EncodedAudioEnd(MICROSECONDS)
    end.decoding(0, 20_000)
    end.decoding(20_000, 0)
    end.fed(0, 2_400, 48_000)
    assert end.end == 50_000


def test_pcm_past_the_input_end_is_cut_out_of_the_data() -> None:
    """WAV output: the decoder's whole last frame (1024 samples) where the input's last
    packet says 676; the samples past it go, 4 bytes a frame of 16-bit stereo."""
    end = EncodedAudioEnd(MICROSECONDS, raw=True)
    duration = round(1024 * MICROSECONDS / 44_100)
    end.decoding(0, duration)
    end.decoding(duration, round(676 * MICROSECONDS / 44_100))
    end.fed(0, 2048, 44_100)
    first = end.push(Packet(1, 0, 0, duration, True, bytes(4096)))
    last = Packet(1, duration, duration, duration, True, bytes(4096))
    assert end.push(last) == [] and end.finish() == [last]
    assert len(first) == 1 and len(first[0].data) == 4096
    assert len(last.data) == 676 * 4 and last.discard_padding == 0
    assert last.pts + last.duration == end.end


def test_silence_fed_before_the_flush_starts_where_the_fed_samples_end() -> None:
    """The silence is not counted as fed: the end stays the input's, and the packets the
    encoder makes of the silence are cut there like any padding."""
    end = EncodedAudioEnd(MICROSECONDS)
    assert end.flush_silence() is None  # nothing fed, nothing to push out
    end.fed(0, 48_624, 48_000)
    assert end.flush_silence() == (1_013_000, 4_800)
    assert FLUSH_SILENCE * 48_000 == 4_800
    early, final = run(end, opus_packets(56))  # 1.12 s: the silence encoded too
    packets = early + final
    assert len(packets) == 51 and packets[-1].pts + packets[-1].duration == end.end == 1_013_000
    assert end.short_by == 0


def test_an_encoder_that_gives_less_than_it_was_fed_is_told() -> None:
    """11025 Hz left to Chromium's Opus encoder: 49 frames for 1.013 s fed."""
    end = EncodedAudioEnd(MICROSECONDS)
    end.fed(0, 11_168, 11_025)
    run(end, opus_packets(49))
    assert end.short_by == 1_012_971 - (49 * FRAME_US - PRE_SKIP_US)
    nothing = EncodedAudioEnd(MICROSECONDS)
    nothing.fed(500_000, 480, 48_000)
    assert nothing.short_by == 10_000  # no packet at all: all of it is missing


def test_less_than_a_sample_short_is_rounding_not_a_loss() -> None:
    """PCM packets dated in whole microseconds may end 1 µs before the fed samples' end
    (22.7 µs a sample at 44.1 kHz): no error for that, one for a whole sample."""
    for coded, short in ((999_999, 0), (999_977, 23)):
        end = EncodedAudioEnd(MICROSECONDS, raw=True)
        end.fed(0, 44_100, 44_100)
        run(end, [Packet(1, 0, 0, coded, True, bytes(2 * 44_100))])
        assert end.short_by == short


def test_fed_samples_at_two_rates_end_where_both_together_do() -> None:
    """Whole-number counting per rate (no Fraction per call) still adds up across a change
    of rate: 0.5 s at 44.1 kHz then 0.25 s at 48 kHz."""
    end = EncodedAudioEnd(MICROSECONDS)
    for _ in range(50):
        end.fed(0, 441, 44_100)
    assert end.end == 500_000
    end.fed(500_000, 12_000, 48_000)
    assert end.end == 750_000
    end.fed(750_000, 1, 48_000)  # 20.83 µs more: rounded to the nearest
    assert end.end == 750_021
