"""Damaged input of every format the engine reads, copied into every container its codecs
fit: nothing but a PyWebCodecsError leaves convert_media, no conversion runs past its time
limit, and every output written opens in ffprobe with each copied track (unless ffprobe
cannot open the damaged input either: see ``copy_fuzz``).

A few hundred examples keep this within the suite's budget (about a minute on an idle
machine); ``build_scripts/fuzz_copy.py`` runs the same check for thousands.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from copy_fuzz import UNREADABLE_LIKE_INPUT, copy_damaged, ffprobe_problem, mutate, seeds
from pywebcodecs import FormatError, UnsupportedError, convert_media
from pywebcodecs.codec_data import parse_h264_sps

SEEDS = seeds()


@st.composite
def damaged_inputs(draw: st.DrawFn) -> tuple[str, str, bytes, str]:
    """(seed name, damaged file, its bytes, output container)."""
    seed = draw(st.sampled_from(SEEDS))
    name = draw(st.sampled_from(sorted(seed.files)))
    data = seed.files[name]
    positions = st.integers(0, max(len(data) - 1, 0))
    cut = draw(st.one_of(st.just(len(data)), st.integers(0, len(data))))
    edits = draw(st.lists(st.tuples(positions, st.integers(0, 255)), max_size=8))
    splice = draw(st.tuples(positions, st.sampled_from([0, 0, 16, 188, 1000]), positions))
    container = draw(st.sampled_from(seed.containers))
    return seed.name, name, mutate(data, cut, edits, splice), container


@pytest.mark.timeout(300)
@settings(max_examples=250, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
@given(damaged=damaged_inputs())
def test_damaged_inputs_copy_or_fail_with_a_pywebcodecs_error(
    damaged: tuple[str, str, bytes, str],
) -> None:
    seed_name, name, data, container = damaged
    seed = next(seed for seed in SEEDS if seed.name == seed_name)
    outcome = copy_damaged(seed, name, data, container)
    allowed = ("ok", "refused", UNREADABLE_LIKE_INPUT)
    assert outcome.kind in allowed, (seed_name, name, container, outcome)


def test_every_seed_copies_cleanly_into_every_container_it_fits() -> None:
    """The undamaged seeds are good input: the fuzz starts from conversions that work."""
    for seed in SEEDS:
        for container in seed.containers:
            outcome = copy_damaged(seed, seed.main, seed.files[seed.main], container)
            assert outcome.kind == "ok", (seed.name, container, outcome)


# -- findings of the long run (build_scripts/fuzz_copy.py), each kept as a fixed case ------


def _ue(value: int) -> str:
    """Exp-Golomb code of ``value`` as a bit string (H.264 section 9.1)."""
    code = format(value + 1, "b")
    return "0" * (len(code) - 1) + code


def _baseline_sps(crop: list[str]) -> bytes:
    """A 64x48 Baseline SPS NAL with the given frame-cropping bits and no VUI."""
    fields = [_ue(0), _ue(0), _ue(2), _ue(1), "0", _ue(3), _ue(2), "1", "1", *crop, "0"]
    bits = "".join(fields) + "1"  # rbsp_stop_one_bit
    bits += "0" * (-len(bits) % 8)
    return bytes([0x67, 66, 0, 30]) + int(bits, 2).to_bytes(len(bits) // 8, "big")


def test_an_sps_cropping_more_than_its_picture_is_a_format_error() -> None:
    """A damaged TS SPS gave a -16x-1073742204 picture, which reached the MKV writer."""
    assert parse_h264_sps(_baseline_sps(["0"])).width == 64
    with pytest.raises(FormatError, match=r"SPS describes a -136x48 picture"):
        parse_h264_sps(_baseline_sps(["1", _ue(100), _ue(0), _ue(0), _ue(0)]))


async def test_a_fragment_decode_time_past_63_bits_is_a_format_error(tmp_path: Path) -> None:
    """A damaged tfdt (version 1, 64 bits) overflowed the reader's decode-time table."""
    seed = next(seed for seed in SEEDS if seed.name == "fragmented.mp4")
    data = bytearray(seed.files[seed.main])
    at = data.index(b"tfdt") + 8  # type, version + flags
    data[at : at + 8] = (0xDC << 56).to_bytes(8, "big")
    source = tmp_path / "tfdt.mp4"
    source.write_bytes(data)
    with pytest.raises(FormatError, match=r"tfdt\.mp4: mp4: at byte \d+: track 1: tfdt decode "
                                          r"time \d+ is out of range"):  # fmt: skip
        await convert_media(str(source), "mkv", video_codec="copy", audio_codec="copy")


async def test_a_display_size_past_16_bits_is_refused_for_mp4(tmp_path: Path) -> None:
    """A damaged pasp (8060929:1) made a 515899456-pixel-wide display size, which an MP4
    tkhd cannot hold; Matroska can, so the copy into MKV goes on."""
    seed = next(seed for seed in SEEDS if seed.name == "mp4.mp4")
    data = bytearray(seed.files[seed.main])
    at = data.index(b"pasp") + 4  # hSpacing, vSpacing
    data[at : at + 8] = (8060929).to_bytes(4, "big") + (1).to_bytes(4, "big")
    source = tmp_path / "pasp.mp4"
    source.write_bytes(data)
    with pytest.raises(UnsupportedError, match=r"track 1: a display size of 515899456x48 does "
                                               r"not fit an MP4 track header"):  # fmt: skip
        await convert_media(str(source), "mp4", video_codec="copy", audio_codec="copy")
    result = await convert_media(str(source), "mkv", video_codec="copy", audio_codec="copy")
    assert result.progress.video_frames == 10


async def test_a_track_starting_days_late_still_makes_a_readable_mkv(tmp_path: Path) -> None:
    """A damaged tfdt put the video 2^44 ticks (54 years) after the audio: its DURATION tag
    grew past its reserved 20 bytes and overwrote the file's structure."""
    seed = next(seed for seed in SEEDS if seed.name == "fragmented.mp4")
    data = bytearray(seed.files[seed.main])
    at = data.index(b"tfdt") + 8
    data[at : at + 8] = (1 << 44).to_bytes(8, "big")
    source = tmp_path / "late.mp4"
    source.write_bytes(data)
    result = await convert_media(str(source), "mkv", video_codec="copy", audio_codec="copy")
    out = tmp_path / "late.mkv"
    out.write_bytes(result.save())
    assert ffprobe_problem(out, 2) is None
