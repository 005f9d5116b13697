"""Codec strings and parameter sets, checked against streams ffmpeg made (read with PyAV)."""

import av
import pytest

from oracle import ffprobe_streams, make
from pywebcodecs.codec_data import (
    annexb_to_length_prefixed,
    audio_specific_config,
    av1_codec_string,
    avc_codec_string,
    avcc_from_parameter_sets,
    hevc_codec_string,
    hvcc_from_parameter_sets,
    length_prefixed_to_annexb,
    parse_audio_specific_config,
    parse_h264_sps,
    parse_hevc_sps,
    split_annexb,
)
from pywebcodecs.errors import FormatError


def extradata(path):
    with av.open(str(path)) as container:
        return bytes(container.streams[0].codec_context.extradata)


def avcc_units(avcc):
    """SPS and PPS NAL units listed in an avcC record."""
    pos, units = 6, []
    for count_pos in (5, None):
        count = (avcc[5] & 0x1F) if count_pos else avcc[pos - 1]
        for _ in range(count):
            size = int.from_bytes(avcc[pos : pos + 2], "big")
            units.append(avcc[pos + 2 : pos + 2 + size])
            pos += 2 + size
        pos += 1
    return units


@pytest.mark.parametrize(
    ("profile", "size", "expected"),
    [("high", "161x121", "avc1.64000a"), ("baseline", "320x240", "avc1.42c00b")],
)
def test_h264_codec_string_and_sps_match_ffprobe(profile, size, expected):
    path = make(f"sps-{profile}-{size}.mp4", "-f", "lavfi", "-i",
                f"testsrc2=size={size}:rate=10:duration=0.3", "-c:v", "libx264",
                "-profile:v", profile, "-pix_fmt", "yuv420p")  # fmt: skip
    avcc = extradata(path)
    assert avc_codec_string(avcc) == expected
    assert int(expected[-2:], 16) == ffprobe_streams(path)[0]["level"]
    sps, pps = avcc_units(avcc)
    info = parse_h264_sps(sps)
    stream = ffprobe_streams(path)[0]
    assert (info.width, info.height) == (stream["width"], stream["height"])
    assert info.level == stream["level"]
    rebuilt = avcc_from_parameter_sets([sps], [pps])
    assert rebuilt[:5] == avcc[:5] and avcc_units(rebuilt) == [sps, pps]


@pytest.mark.parametrize(
    ("pix_fmt", "expected"), [("yuv444p", "avc1.f400"), ("yuv422p", "avc1.7a00")]
)
def test_h264_sps_cropping_gives_odd_sizes(pix_fmt, expected):
    # 4:2:0 cannot be odd-sized; 4:4:4 crops by single pixels, 4:2:2 by 2 across, 1 down.
    width, height = (161, 121) if pix_fmt == "yuv444p" else (162, 121)
    path = make(f"sps-{pix_fmt}-{width}x{height}.mp4", "-f", "lavfi", "-i",
                "testsrc2=size=160x120:rate=10:duration=0.3", "-vf", f"scale={width}:{height}",
                "-c:v", "libx264", "-pix_fmt", pix_fmt)  # fmt: skip
    avcc = extradata(path)
    stream = ffprobe_streams(path)[0]
    assert avc_codec_string(avcc) == f"{expected}{stream['level']:02x}"
    info = parse_h264_sps(avcc_units(avcc)[0])
    assert (info.width, info.height) == (stream["width"], stream["height"])
    assert info.chroma_format == (3 if pix_fmt == "yuv444p" else 2)


def test_hevc_codec_string_and_hvcc_from_parameter_sets():
    path = make("sps-hevc.mkv", "-f", "lavfi", "-i",
                "testsrc2=size=200x120:rate=10:duration=0.3", "-c:v", "libx265",
                "-pix_fmt", "yuv420p", "-x265-params", "log-level=error")  # fmt: skip
    hvcc = extradata(path)
    assert hevc_codec_string(hvcc) == f"hvc1.1.6.L{ffprobe_streams(path)[0]['level']}.90"
    arrays, pos, units = hvcc[22], 23, {}
    for _ in range(arrays):
        nal_type, count = hvcc[pos] & 0x3F, int.from_bytes(hvcc[pos + 1 : pos + 3], "big")
        pos += 3
        for _ in range(count):
            size = int.from_bytes(hvcc[pos : pos + 2], "big")
            units.setdefault(nal_type, []).append(hvcc[pos + 2 : pos + 2 + size])
            pos += 2 + size
    sps = parse_hevc_sps(units[33][0])
    assert (sps.width, sps.height) == (200, 120)
    rebuilt = hvcc_from_parameter_sets(units[32], units[33], units[34])
    assert hevc_codec_string(rebuilt) == hevc_codec_string(hvcc)


def test_av1_codec_string():
    # av1C: marker/version 0x81, profile 0 level 8 (4.0), main tier, 8-bit 4:2:0.
    assert av1_codec_string(bytes([0x81, 0x08, 0x0C, 0x00])) == "av01.0.08M.08"
    assert av1_codec_string(bytes([0x81, 0x4D, 0xCC, 0x00])) == "av01.2.13H.10"
    with pytest.raises(FormatError):
        av1_codec_string(b"\x00")


def test_audio_specific_config_round_trip():
    for rate, channels in ((44100, 2), (48000, 6), (8000, 1), (37800, 2)):
        asc = audio_specific_config(2, rate, channels)
        assert parse_audio_specific_config(asc) == (2, rate, channels)
    path = make("asc.m4a", "-f", "lavfi", "-i", "sine=duration=0.2:sample_rate=22050",
                "-c:a", "aac")  # fmt: skip
    assert parse_audio_specific_config(extradata(path)) == (2, 22050, 1)
    with pytest.raises(FormatError, match="too short"):
        parse_audio_specific_config(b"\x12")


def test_annexb_and_length_prefixed_convert_both_ways():
    units = [b"\x67\x64\x00\x1f", b"\x68\xee", b"\x65" + b"\x00\x00\x03\x01" * 3]
    stream = b"\x00\x00\x00\x01" + b"\x00\x00\x01".join(units)
    assert split_annexb(stream) == units
    prefixed = annexb_to_length_prefixed(stream)
    assert length_prefixed_to_annexb(prefixed) == b"".join(b"\x00\x00\x00\x01" + u for u in units)
    with pytest.raises(FormatError, match="overruns"):
        length_prefixed_to_annexb(b"\x00\x00\x00\x09abc")
