"""The Ogg reader against ffprobe, packet by packet: Opus, Vorbis and FLAC, one or several
streams, small and large pages; tags, descriptions, damaged and cut-off files."""

from __future__ import annotations

import base64
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from demux_check import assert_clean_or_format_error
from oracle import ffprobe_json, ffprobe_packets, ffprobe_skipped_samples, ffprobe_streams, make
from pywebcodecs.errors import FormatError
from pywebcodecs.ogg.comments import parse_comments
from pywebcodecs.ogg.demuxer import OggDemuxer
from pywebcodecs.ogg.page import page_crc
from pywebcodecs.reader import Reader
from pywebcodecs.source import BytesSource, FileSource
from pywebcodecs.track import AudioTrack, Packet, VideoTrack

TONE = ["-f", "lavfi", "-i", "sine=frequency=440:duration=1.5:sample_rate=48000"]
TONE_44K = ["-f", "lavfi", "-i", "sine=frequency=330:duration=1.5:sample_rate=44100"]
SMALL_PAGES = ["-page_duration", "100000"]
VARIANTS = {
    "opus-stereo.ogg": [*TONE, "-ac", "2", "-c:a", "libopus", *SMALL_PAGES],
    "opus-mono-20k.ogg": [*TONE, "-c:a", "libopus", "-b:a", "20k", "-frame_duration", "40"],
    "vorbis-stereo.ogg": [*TONE_44K, "-ac", "2", "-c:a", "libvorbis", *SMALL_PAGES],
    "vorbis-mono-22k.ogg": [*TONE_44K, "-ar", "22050", "-c:a", "libvorbis", "-q:a", "1"],
    "vorbis-one-page.ogg": [*TONE_44K, "-c:a", "libvorbis"],
    "flac.ogg": [*TONE_44K, "-c:a", "flac", *SMALL_PAGES],
    "flac-24bit.ogg": [*TONE, "-c:a", "flac", "-sample_fmt", "s32"],
    "two-streams.ogg": [*TONE, *TONE_44K, "-map", "0", "-map", "1", "-c:a:0", "libopus",
                        "-c:a:1", "libvorbis", *SMALL_PAGES],
    "opus-5.1.ogg": [*TONE, "-ac", "6", "-c:a", "libopus"],
    "flac-pages-spanned.ogg": ["-f", "lavfi", "-i", "anoisesrc=d=1:r=96000:a=0.5", "-ac", "2",
                               "-c:a", "flac", "-sample_fmt", "s32", "-frame_size", "32768"],
    "tags.ogg": [*TONE, "-c:a", "libopus", "-metadata", "title=Tïtle",
                 "-metadata", "artist=Someone"],
}  # fmt: skip


def variant(name: str) -> Path:
    return make(f"ogg-{name}", *VARIANTS[name])


async def demux_bytes(data: bytes, name: str = "test.ogg") -> tuple[OggDemuxer, list[Packet]]:
    demuxer = OggDemuxer(await Reader.open(BytesSource(data, name=name)))
    await demuxer.open()
    return demuxer, [packet async for packet in demuxer.packets()]


async def demux(path: Path) -> tuple[OggDemuxer, list[Packet]]:
    demuxer = OggDemuxer(await Reader.open(FileSource(path), window=4096))
    await demuxer.open()
    return demuxer, [packet async for packet in demuxer.packets()]


@pytest.mark.parametrize("name", sorted(VARIANTS))
async def test_packets_and_tracks_match_ffprobe(name: str) -> None:
    # Durations too: Vorbis ones come from the setup header's modes, the last packet's
    # from the end granule position.
    path = variant(name)
    demuxer, packets = await demux(path)
    ids = [track.id for track in demuxer.tracks]
    ours = [(ids.index(p.track_id), p.pts, p.dts, len(p.data), p.is_key) for p in packets]
    theirs = [(p.stream_index, p.pts, p.dts, p.size, p.is_key) for p in ffprobe_packets(path)]
    assert len(ours) == len(theirs)
    assert [(i, a, b) for i, (a, b) in enumerate(zip(ours, theirs, strict=True)) if a != b][
        :5
    ] == []
    probed = ffprobe_json(path, "-show_packets", "-show_entries", "packet=duration")["packets"]
    assert [p.duration for p in packets] == [int(p["duration"]) for p in probed]
    streams = ffprobe_streams(path)
    skipped = ffprobe_skipped_samples(path)
    for index, (track, stream) in enumerate(zip(demuxer.tracks, streams, strict=True)):
        assert isinstance(track, AudioTrack)
        assert track.codec == track.codec_string == stream["codec_name"]
        assert f"1/{track.timescale}" == stream["time_base"]
        assert (track.sample_rate, track.channels) == (
            int(stream["sample_rate"]),
            stream["channels"],
        )
        # The audible length: ffprobe counts Opus's pre-skip in duration_ts, our track not.
        played = stream["duration_ts"] + stream.get("start_pts", 0) - skipped[index]
        assert track.duration == played


async def test_chained_links_continue_the_track_one_after_the_other(tmp_path: Path) -> None:
    # Two files one after the other (RFC 3533 section 4, "chaining"); ffmpeg keeps one
    # stream and its timestamps start again with each link, which written as they are
    # would run a converted track backwards: each link starts where the one before ended.
    path = tmp_path / "chained.ogg"
    first, second = variant("opus-stereo.ogg"), variant("tags.ogg")
    path.write_bytes(first.read_bytes() + second.read_bytes() + first.read_bytes())
    demuxer, packets = await demux(path)
    assert len(demuxer.tracks) == 1
    theirs = ffprobe_packets(path)
    assert [len(p.data) for p in packets] == [p.size for p in theirs]
    starts = [0] + [i for i in range(1, len(theirs)) if theirs[i].pts < theirs[i - 1].pts]
    assert len(starts) == 3
    for start, end in zip(starts, [*starts[1:], len(theirs)], strict=True):
        shifts = {
            ours.pts - probe.pts
            for ours, probe in zip(packets[start:end], theirs[start:end], strict=True)
        }
        assert len(shifts) == 1  # each link keeps ffprobe's timing, moved as a whole
        if start:
            before = packets[start - 1]
            assert packets[start].pts == before.pts + before.duration
    assert demuxer.tracks[0].duration is None  # the tail's granule is only the last link's


async def test_a_chained_link_that_changes_the_rate_is_refused_where_it_starts(
    tmp_path: Path,
) -> None:
    path = tmp_path / "chained.ogg"
    first, second = variant("vorbis-stereo.ogg"), make("ogg-vorbis-48k.ogg", *TONE, "-ac", "2",
                                                       "-c:a", "libvorbis")  # fmt: skip
    path.write_bytes(first.read_bytes() + second.read_bytes())
    with pytest.raises(FormatError, match=r"stream \d+, chained after track \d+, changes its "
                       r"sample rate 44100 -> 48000, Vorbis codebooks") as error:  # fmt: skip
        await demux(path)
    assert first.stat().st_size < error.value.offset < path.stat().st_size


async def test_a_theora_stream_is_listed_for_refusal_and_the_audio_matches_ffprobe() -> None:
    path = make("ogg-theora-vorbis.ogg", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=10:d=1",
                *TONE_44K, "-c:v", "libtheora", "-c:a", "libvorbis", "-shortest")  # fmt: skip
    demuxer, packets = await demux(path)
    video, audio_track = demuxer.tracks
    assert (video.codec, video.codec_string, audio_track.codec) == ("theora", "theora", "vorbis")
    assert isinstance(video, VideoTrack) and (video.width, video.height) == (160, 120)
    assert video.frame_rate == 10 and not demuxer.warnings
    audio = [p for p in ffprobe_packets(path) if p.stream_index == 1]
    assert [(p.pts, len(p.data)) for p in packets] == [(p.pts, p.size) for p in audio]


async def test_a_file_with_only_unknown_codecs_is_refused() -> None:
    path = make("ogg-speex.ogg", *TONE_44K, "-ar", "16000", "-c:a", "libspeex")
    with pytest.raises(FormatError, match="no Opus, Vorbis or FLAC stream"):
        await demux(path)


async def test_opus_description_is_the_opus_head_and_timestamps_start_at_minus_pre_skip() -> None:
    demuxer, packets = await demux(variant("opus-stereo.ogg"))
    head = demuxer.tracks[0].description
    assert head is not None and head[:8] == b"OpusHead" and len(head) == 19
    pre_skip = struct.unpack_from("<H", head, 10)[0]
    assert packets[0].pts == -pre_skip
    assert demuxer.tracks[0].duration == 72000


async def test_vorbis_description_holds_the_three_headers_xiph_laced() -> None:
    demuxer, _ = await demux(variant("vorbis-stereo.ogg"))
    description = demuxer.tracks[0].description
    assert description is not None and description[0] == 2
    pos, sizes = 1, []
    for _ in range(2):
        size = 0
        while description[pos] == 255:
            size, pos = size + 255, pos + 1
        sizes.append(size + description[pos])
        pos += 1
    first = description[pos : pos + sizes[0]]
    second = description[pos + sizes[0] : pos + sizes[0] + sizes[1]]
    third = description[pos + sizes[0] + sizes[1] :]
    assert first[:7] == b"\x01vorbis" and second[:7] == b"\x03vorbis" and third[:7] == b"\x05vorbis"


async def test_flac_description_is_flac_marker_and_streaminfo() -> None:
    demuxer, _ = await demux(variant("flac-24bit.ogg"))
    track = demuxer.tracks[0]
    assert track.description is not None and track.description[:8] == b"fLaC\x80\x00\x00\x22"
    assert len(track.description) == 42
    assert isinstance(track, AudioTrack) and track.bits_per_sample == 24


async def test_comment_header_gives_tags() -> None:
    demuxer, _ = await demux(variant("tags.ogg"))
    assert demuxer.tags["title"] == "Tïtle" and demuxer.tags["artist"] == "Someone"
    theirs = ffprobe_streams(variant("tags.ogg"))[0]["tags"]
    assert demuxer.tags == {key.lower(): value for key, value in theirs.items()}


def test_metadata_block_picture_comment_becomes_a_cover() -> None:
    picture = struct.pack(">II", 3, 9) + b"image/png" + struct.pack(">I", 5) + b"front"
    picture += struct.pack(">IIIII", 1, 1, 24, 0, 4) + b"\x89PNG"
    comment = b"METADATA_BLOCK_PICTURE=" + base64.b64encode(picture)
    body = struct.pack("<I", 3) + b"abc" + struct.pack("<II", 1, len(comment)) + comment
    comments = parse_comments(body)
    assert [(i.mime_type, i.data, i.description) for i in comments.images] == [
        ("image/png", b"\x89PNG", "front")
    ]


def pages(data: bytes) -> list[tuple[int, int]]:
    """(offset, size) of every page of a well-formed file."""
    found, pos = [], 0
    while pos < len(data):
        count = data[pos + 26]
        size = 27 + count + sum(data[pos + 27 : pos + 27 + count])
        found.append((pos, size))
        pos += size
    return found


async def test_a_page_with_a_bad_crc_is_skipped_with_a_warning() -> None:
    data = bytearray(variant("flac.ogg").read_bytes())
    offset, size = pages(bytes(data))[5]
    data[offset + size - 10] ^= 0xFF
    demuxer, packets = await demux_bytes(bytes(data))
    _, clean = await demux(variant("flac.ogg"))
    assert len(packets) == len(clean) - 1
    assert any("CRC" in w for w in demuxer.warnings)


async def test_cut_off_file_yields_the_complete_packets_with_a_warning() -> None:
    data = variant("vorbis-stereo.ogg").read_bytes()
    offset, _ = pages(data)[6]
    with pytest.warns(UserWarning, match="cut off"):
        _, packets = await demux_bytes(data[: offset + 40])
    _, clean = await demux(variant("vorbis-stereo.ogg"))
    assert 0 < len(packets) < len(clean)
    assert [p.data for p in packets] == [p.data for p in clean[: len(packets)]]


def with_crc(page: bytes) -> bytes:
    return page[:22] + struct.pack("<I", page_crc(page)) + page[26:]


def ogg_page(body: bytes, flags: int = 2, lacing: bytes | None = None) -> bytes:
    lacing = bytes([len(body)]) if lacing is None else lacing
    header = b"OggS\0" + bytes([flags]) + struct.pack("<qIIIB", 0, 7, 0, 0, len(lacing))
    return with_crc(header + lacing + body)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"OggS", "expected an Ogg page"),
        (b"OggS\x01" + bytes(40), "expected an Ogg page"),
        (ogg_page(b"Speex   " + bytes(72)), "no Opus, Vorbis or FLAC stream"),
        (ogg_page(b"OpusHead\x01\x00" + bytes(9)), "0 channels"),
        (ogg_page(b"OpusHead\x01\x02" + bytes(9)), "ends inside its header packets"),
        (ogg_page(b"\x01vorbis" + bytes(23)), "Vorbis identification header"),
        (ogg_page(b"OpusHead\x01\x02" + bytes(9)) + ogg_page(b"Opus", flags=0),
         "not OpusTags"),
        (ogg_page(b"\x7fFLAC\x01\x00\x00\x01fLaC" + bytes(40)), "sample rate of 0"),
    ],
)  # fmt: skip
async def test_broken_files_give_specific_errors(data: bytes, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        await demux_bytes(data, "bad.ogg")


async def test_a_packet_continued_over_many_pages_is_refused_past_the_limit() -> None:
    head = ogg_page(b"OpusHead\x01\x02" + bytes(9))
    start = ogg_page(b"\0" * 255 * 255, flags=0, lacing=b"\xff" * 255)
    more = ogg_page(b"\0" * 255 * 255, flags=1, lacing=b"\xff" * 255)
    demuxer = OggDemuxer(await Reader.open(BytesSource(head + start + more * 3)))
    demuxer.max_packet = 200_000
    with pytest.raises(FormatError, match="grows past 200000 bytes"):
        await demuxer.open()


FUZZ_INPUTS = [variant("opus-stereo.ogg"), variant("vorbis-mono-22k.ogg"), variant("flac.ogg")]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
async def test_mutated_files_give_format_errors_or_packets(data: st.DataObject) -> None:
    original = bytearray(FUZZ_INPUTS[data.draw(st.integers(0, 2))].read_bytes()[:6000])
    for _ in range(data.draw(st.integers(0, 8))):
        at = data.draw(st.integers(0, len(original) - 1))
        original[at] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):  # keep the CRCs right so the codec parsers see the damage
        original = bytearray(
            b"".join(with_crc(bytes(original[o : o + s])) for o, s in _safe_pages(original))
        )
    cut = data.draw(st.integers(0, len(original)))
    await assert_clean_or_format_error(BytesSource(bytes(original[:cut]), "fuzz.ogg"), OggDemuxer)


def _safe_pages(data: bytearray) -> list[tuple[int, int]]:
    """The pages of ``data`` as far as their headers still describe whole pages."""
    found, pos = [], 0
    while pos + 27 <= len(data) and data[pos : pos + 4] == b"OggS":
        count = data[pos + 26]
        size = 27 + count + sum(data[pos + 27 : pos + 27 + count])
        if pos + size > len(data):
            break
        found.append((pos, size))
        pos += size
    return found
