"""The video frame plan in CPython: crop → rotate → resize geometry, the trim window and
constant frame rate on decoded frame times, and the key frame schedule."""

import pytest

from pywebcodecs.errors import OptionError
from pywebcodecs.frame_plan import (
    Crop,
    FrameTimeline,
    KeyframeSchedule,
    Resize,
    Slot,
    TrimWindow,
    video_geometry,
)
from pywebcodecs.track import VideoTrack

TRACK = VideoTrack(id=1, codec="h264", codec_string="avc1.64001f", timescale=90000,
                   width=640, height=360)  # fmt: skip


def times(timeline: FrameTimeline, stamps: list[int], end: int | None = None) -> list[Slot]:
    """Every output slot for frames at ``stamps`` (µs), the last one shown until ``end``."""
    slots = [slot for stamp in stamps for slot in timeline.push(stamp)]
    return slots + timeline.finish(end)


def test_crop_then_rotate_then_resize_with_even_sizes() -> None:
    geometry = video_geometry(TRACK, 90, Crop(101, 51, 301, 201), Resize(width=102))
    # The crop lands on the 2x2 chroma grid: (100, 50) 302x202, then turned to 202x302.
    assert geometry.crop == Crop(100, 50, 302, 202)
    assert (geometry.rotation, geometry.size) == (90, (102, 152))
    assert video_geometry(TRACK, 0, None, None).size == (640, 360)
    assert video_geometry(TRACK, 0, Crop(0, 0, 640, 360), None).size == (640, 360)


@pytest.mark.parametrize("crop", [Crop(81, 61, 159, 119), Crop(80, 60, 161, 121),
                                  Crop(81, 61, 160, 120), Crop(80, 60, 160, 120)])  # fmt: skip
def test_an_odd_crop_lands_on_the_even_grid_at_or_before_each_edge(crop: Crop) -> None:
    """Even left and top (a visibleRect on a 4:2:0 frame must start on a chroma sample)
    and even sizes: every one of these becomes (80, 60) 160x120."""
    assert video_geometry(TRACK, 0, crop, None).crop == Crop(80, 60, 160, 120)


def test_an_odd_picture_crops_to_an_even_rectangle_inside_it() -> None:
    odd = VideoTrack(id=1, codec="h264", codec_string="avc1.64001f", timescale=90000,
                     width=853, height=479)  # fmt: skip
    geometry = video_geometry(odd, 0, Crop(0, 0, 853, 479), None)
    assert (geometry.crop, geometry.size) == (Crop(0, 0, 852, 478), (852, 478))


def test_a_crop_outside_the_picture_is_an_option_error() -> None:
    with pytest.raises(OptionError, match=r"crop \(600, 0, 100, 100\) reaches outside the 640x360"):
        video_geometry(TRACK, 0, Crop(600, 0, 100, 100), None)
    with pytest.raises(OptionError, match="size > 0"):
        video_geometry(TRACK, 0, Crop(0, 0, 0, 10), None)


def test_without_options_every_frame_is_kept_with_its_own_time() -> None:
    slots = times(FrameTimeline(), [0, 40_000, 80_000], end=120_000)
    assert slots == [Slot(0, 40_000), Slot(40_000, 40_000), Slot(80_000, 40_000)]


def test_trim_cuts_at_frames_and_starts_the_output_at_0() -> None:
    # 25 fps; the window 0.5 .. 1.0 s starts inside the frame at 480 ms.
    stamps = [i * 40_000 for i in range(50)]
    slots = times(FrameTimeline(TrimWindow(0.5, 1.0)), stamps, end=2_000_000)
    assert slots[0] == Slot(0, 20_000)  # the frame shown at 0.5 s, from 0.5 s
    assert slots[1] == Slot(20_000, 40_000)
    assert slots[-1] == Slot(460_000, 40_000)  # the frame at 960 ms, until 1.0 s
    assert sum(slot.duration for slot in slots) == 500_000
    assert FrameTimeline(TrimWindow(None, 1.0)).past_end(1_000_000)


def test_60_to_30_fps_keeps_every_other_frame_on_a_constant_grid() -> None:
    stamps = [round(i * 1_000_000 / 60) for i in range(120)]
    slots = times(FrameTimeline(frame_rate=30), stamps, end=2_000_000)
    assert len(slots) == 60
    assert [slot.timestamp for slot in slots[:4]] == [0, 33_333, 66_667, 100_000]
    assert {slot.duration for slot in slots} <= {33_333, 33_334}


def test_millisecond_timestamps_still_land_on_their_slots() -> None:
    # Matroska stores whole milliseconds: 60 fps becomes 0, 17, 33, 50, 67 ms...
    stamps = [round(i * 1000 / 60) * 1000 for i in range(60)]
    slots = times(FrameTimeline(frame_rate=30), stamps, end=1_000_000)
    assert len(slots) == 30


def test_a_lower_input_rate_repeats_frames() -> None:
    stamps = [i * 100_000 for i in range(10)]  # 10 fps, 1 s
    timeline = FrameTimeline(frame_rate=30)
    first = timeline.push(0) + timeline.push(100_000)
    assert [slot.timestamp for slot in first] == [0, 33_333, 66_667]  # frame 0, three times
    slots = first + times(timeline, stamps[2:], end=1_000_000)
    assert len(slots) == 30


def test_frame_rate_with_trim_starts_its_grid_at_the_trim_start() -> None:
    stamps = [round(i * 1_000_000 / 60) for i in range(180)]
    slots = times(FrameTimeline(TrimWindow(1.0, 2.0), frame_rate=30), stamps, end=3_000_000)
    assert len(slots) == 30
    assert slots[0].timestamp == 0 and slots[-1].timestamp == 966_667


def test_bad_windows_and_rates_are_option_errors() -> None:
    with pytest.raises(OptionError, match=r"trim end \(1.0 s\) must come after its start"):
        TrimWindow(2.0, 1.0)
    with pytest.raises(OptionError, match="trim start must be a time"):
        TrimWindow(-1.0, None)
    with pytest.raises(OptionError, match="frame_rate"):
        FrameTimeline(frame_rate=0)


def test_key_frames_come_at_the_first_frame_then_every_interval() -> None:
    schedule = KeyframeSchedule(1.0)
    stamps = [i * 100_000 for i in range(25)]
    keys = [stamp for stamp in stamps if schedule.is_key(stamp)]
    assert keys == [0, 1_000_000, 2_000_000]
