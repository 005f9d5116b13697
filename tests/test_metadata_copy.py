"""Metadata carried from input to output when copying (CPython): file tags and cover art,
track languages and names, pixel aspect, colour and rotation, as far as each output
container can hold them. Every output is read back by ffprobe/ffmpeg, not by our readers.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from oracle import ffprobe_json, make
from pywebcodecs import convert_media
from pywebcodecs.sink import FileSink
from pywebcodecs.track import VideoTrack, pixel_aspect_after

TAGS = {"title": "Tïtle one", "artist": "Ann Artist", "album": "An Album", "date": "2024",
        "comment": "said twice", "genre": "Test"}  # fmt: skip


def tag_args(tags: dict[str, str]) -> list[str]:
    return [arg for name, value in tags.items() for arg in ("-metadata", f"{name}={value}")]


def tagged_mp4() -> Path:
    """H.264 with 4:3 pixels and a BT.709 colour description, AAC in French, the tags,
    and a PNG cover (an attached picture, which ffmpeg writes as ``covr``)."""
    return make(
        "meta-tagged.mp4",
        "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25:duration=1",
        "-f", "lavfi", "-i", "sine=duration=1",
        "-f", "lavfi", "-i", "color=red:size=32x32:duration=0.04",
        "-map", "0", "-map", "1", "-map", "2",
        "-c:v:0", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-vf", "setsar=4/3",
        "-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709",
        "-c:a", "aac", "-c:v:1", "png", "-disposition:v:1", "attached_pic",
        "-metadata:s:a:0", "language=fra", "-metadata:s:v:0", "language=deu",
        *tag_args(TAGS),
    )  # fmt: skip


def named_mkv() -> Path:
    """Matroska whose tracks have names and languages."""
    return make(
        "meta-named.mkv",
        "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25:duration=1",
        "-f", "lavfi", "-i", "sine=duration=1", "-f", "lavfi", "-i", "sine=f=880:duration=1",
        "-map", "0", "-map", "1", "-map", "2",
        "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "flac",
        "-metadata:s:v:0", "title=The picture", "-metadata:s:a:0", "language=fra",
        "-metadata:s:a:0", "title=Commentaire", "-metadata:s:a:1", "language=jpn",
        "-metadata:s:a:1", "title=解説",
    )  # fmt: skip


async def copy(src: Path, out: Path, container: str) -> Path:
    sink = FileSink(out)
    try:
        await convert_media(str(src), container, sink=sink)
    finally:
        sink.close()
    return out


def format_tags(path: Path) -> dict[str, str]:
    tags = ffprobe_json(path, "-show_format")["format"].get("tags", {})
    return {name.lower(): value for name, value in tags.items()}


def streams(path: Path) -> list[dict]:
    return ffprobe_json(path, "-show_streams")["streams"]


def cover_bytes(path: Path) -> bytes:
    """The attached picture's bytes (the second video stream), as ffmpeg extracts them."""
    out = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-map", "0:v:1", "-c", "copy",
         "-f", "image2pipe", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    assert out.startswith(b"\x89PNG"), out[:8]
    return out


def video_metadata(path: Path) -> tuple[str, str, str, str, str]:
    video = next(s for s in streams(path) if s["codec_name"] == "h264")
    return (video["sample_aspect_ratio"], video["display_aspect_ratio"],
            video["color_primaries"], video["color_transfer"], video["color_space"])  # fmt: skip


async def test_tags_and_cover_art_survive_mp4_to_mkv_to_mp4(tmp_path: Path) -> None:
    src = tagged_mp4()
    mkv = await copy(src, tmp_path / "mid.mkv", "mkv")
    mp4 = await copy(mkv, tmp_path / "back.mp4", "mp4")
    assert {name: format_tags(src)[name] for name in TAGS} == TAGS  # what the input says
    for out in (mkv, mp4):
        tags = format_tags(out)
        assert {name: tags.get(name) for name in TAGS} == TAGS, out.name
        assert cover_bytes(out) == cover_bytes(src), out.name
        pictures = [s for s in streams(out) if s["disposition"]["attached_pic"]]
        assert len(pictures) == 1 and pictures[0]["codec_name"] == "png"
        languages = [s.get("tags", {}).get("language") for s in streams(out)][:2]
        assert languages == ["deu", "fra"], out.name
        assert video_metadata(out) == ("4:3", "16:9", "bt709", "bt709", "bt709"), out.name
    # The output's writer is not the input's: its encoder tag is not carried.
    assert "Lavf" not in format_tags(mkv).get("encoder", "")


async def test_webm_keeps_tags_but_has_no_attachments(tmp_path: Path) -> None:
    src = make("meta-tagged.webm", "-f", "lavfi", "-i", "sine=duration=1", "-c:a", "libopus",
               *tag_args(TAGS))  # fmt: skip
    out = await copy(src, tmp_path / "out.webm", "webm")
    tags = format_tags(out)
    assert {name: tags.get(name) for name in TAGS} == TAGS
    assert [s["codec_type"] for s in streams(out)] == ["audio"]


@pytest.mark.parametrize(
    ("name", "codec"),
    [("opus.webm", "libopus"), ("vorbis.mka", "libvorbis"), ("flac.flac", "flac")],
)
async def test_ogg_keeps_tags_as_vorbis_comments(name: str, codec: str, tmp_path: Path) -> None:
    src = make(f"meta-tagged-{name}", "-f", "lavfi", "-i", "sine=duration=1", "-c:a", codec,
               *tag_args(TAGS))  # fmt: skip
    out = await copy(src, tmp_path / "out.ogg", "ogg")
    tags = {k.lower(): v for k, v in streams(out)[0].get("tags", {}).items()}
    tags.update(format_tags(out))
    assert {name: tags.get(name) for name in TAGS} == TAGS
    assert subprocess.run(["ffmpeg", "-v", "error", "-i", str(out), "-f", "null", "-"],
                          capture_output=True, text=True).stderr == ""  # fmt: skip


async def test_track_names_and_languages_are_kept(tmp_path: Path) -> None:
    src = named_mkv()
    mkv = await copy(src, tmp_path / "named.mkv", "mkv")
    found = [(s.get("tags", {}).get("language"), s.get("tags", {}).get("title"))
             for s in streams(mkv)]  # fmt: skip
    assert found[1:] == [("fra", "Commentaire"), ("jpn", "解説")]
    assert found[0][1] == "The picture"
    mp4 = await copy(src, tmp_path / "named.mp4", "mp4")
    # MP4 keeps the ISO 639-2 code in mdhd and the name as the handler's (handler_name).
    found = [(s["tags"]["language"], s["tags"]["handler_name"]) for s in streams(mp4)]
    assert found[1:] == [("fra", "Commentaire"), ("jpn", "解説")]
    assert found[0][1] == "The picture"
    # ...and in trak/udta/name, from where the next conversion takes them.
    again = await copy(mp4, tmp_path / "again.mkv", "mkv")
    assert [s["tags"].get("title") for s in streams(again)] == [
        "The picture", "Commentaire", "解説"]  # fmt: skip


async def test_wav_tags_go_to_list_info(tmp_path: Path) -> None:
    src = make("meta-tagged.wav", "-f", "lavfi", "-i", "sine=duration=1", *tag_args(TAGS))
    out = await copy(src, tmp_path / "out.wav", "wav")
    tags = format_tags(out)
    assert {name: tags.get(name) for name in TAGS} == TAGS
    assert ffprobe_json(out, "-show_streams")["streams"][0]["duration_ts"] == 44100


async def test_rotation_is_kept_as_metadata_when_copying(tmp_path: Path) -> None:
    """A turned MP4 (matrix) → MKV (ProjectionPoseRoll) → MP4 (matrix) still turns."""
    plain = make("meta-plain.mkv", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25:duration=1",
                 "-c:v", "libx264", "-preset", "ultrafast")  # fmt: skip
    src = make("meta-rotated.mp4", "-i", str(plain), "-c", "copy", "-metadata:s:v:0", "rotate=270")
    mkv = await copy(src, tmp_path / "rotated.mkv", "mkv")
    mp4 = await copy(mkv, tmp_path / "rotated.mp4", "mp4")
    # ffprobe counts counter-clockwise: -90 is a quarter turn clockwise.
    turns = [streams(out)[0]["side_data_list"][0]["rotation"] for out in (src, mkv, mp4)]
    assert turns == [-90, -90, -90]


def test_a_reencoded_picture_keeps_its_shape_on_screen() -> None:
    """The output's pixel aspect for each geometry re-encoding can give (shown at 16:9)."""
    track = VideoTrack(id=1, codec="h264", codec_string="avc1", timescale=25, width=160,
                       height=120, pixel_aspect=(4, 3))  # fmt: skip
    assert pixel_aspect_after(track, (160, 120), 0, (160, 120)) == (4, 3)
    assert pixel_aspect_after(track, (160, 120), 0, (320, 180)) == (1, 1)  # resized to 16:9
    assert pixel_aspect_after(track, (160, 120), 90, (120, 160)) == (3, 4)  # turned
    assert pixel_aspect_after(track, (80, 120), 0, (80, 120)) == (4, 3)  # cropped
    square = VideoTrack(id=1, codec="h264", codec_string="avc1", timescale=25, width=160,
                        height=120)  # fmt: skip
    assert pixel_aspect_after(square, (160, 120), 0, (160, 120)) == (1, 1)
    assert pixel_aspect_after(square, (160, 120), 0, (160, 60)) == (1, 2)  # squeezed by resize
