"""VP8/VP9 alpha in WebM (AlphaMode 1, BlockAdditional 1): kept by a copy into WebM/MKV,
dropped with a warning naming the file and track anywhere else, never refused or lost
silently. Checked by ffprobe and by ffmpeg's libvpx decoders, which read the alpha."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from oracle import ffprobe_packets, ffprobe_streams, libvpx_decoded, make, stream_hashes
from pywebcodecs import convert_media
from pywebcodecs.formats import MUXERS
from pywebcodecs.plan import Target, plan_track
from pywebcodecs.sink import FileSink
from pywebcodecs.track import VideoTrack

#: An alpha that changes across the picture and from frame to frame: an opaque plane (all
#: 255) would come out the same whether the alpha was kept or not.
CLIP = ["-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10:duration=1,format=yuva420p,"
        "geq=lum='lum(X,Y)':cb='cb(X,Y)':cr='cr(X,Y)':a='mod(4*X+16*N,256)'"]  # fmt: skip
ENCODERS = {
    "vp8": ["-c:v", "libvpx", "-auto-alt-ref", "0"],
    "vp9": ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8"],
}


def alpha_webm(codec: str) -> Path:
    return make(f"{codec}-alpha.webm", *CLIP, *ENCODERS[codec])


async def copy_to(src: Path, out: Path, container: str) -> object:
    sink = FileSink(out)
    try:
        return await convert_media(str(src), container, video_codec="copy", sink=sink)
    finally:
        sink.close()


@pytest.mark.parametrize("codec", ["vp8", "vp9"])
@pytest.mark.parametrize("container", ["webm", "mkv"])
async def test_a_copy_into_matroska_keeps_the_alpha(
    tmp_path: Path, codec: str, container: str
) -> None:
    source = alpha_webm(codec)
    out = tmp_path / f"out.{container}"
    result = await copy_to(source, out, container)

    [stream] = ffprobe_streams(out)
    tags = {key.lower(): value for key, value in stream.get("tags", {}).items()}
    assert (stream["codec_name"], tags.get("alpha_mode")) == (codec, "1")
    assert stream_hashes(out) == stream_hashes(source)
    # Delta frames with alpha are BlockGroups: their ReferenceBlock keeps them non-key.
    assert [p.is_key for p in ffprobe_packets(out)] == [p.is_key for p in ffprobe_packets(source)]
    alpha = libvpx_decoded(out, codec, alpha_only=True)
    assert len(set(alpha)) > 2  # a real alpha plane came out, not an opaque fill
    assert alpha == libvpx_decoded(source, codec, alpha_only=True)
    assert (
        hashlib.md5(libvpx_decoded(out, codec)).digest()
        == hashlib.md5(libvpx_decoded(source, codec)).digest()
    )
    assert result.warnings == []  # type: ignore[attr-defined]


async def test_a_copy_into_mp4_drops_the_alpha_with_a_warning(tmp_path: Path) -> None:
    source = alpha_webm("vp9")
    out = tmp_path / "out.mp4"
    result = await copy_to(source, out, "mp4")

    lost = "track 1 (vp9 video): its alpha channel (transparency) was dropped: MP4 cannot hold it"
    assert result.warnings == [f"{source.name}: {lost}"]  # type: ignore[attr-defined]
    [outcome] = result.tracks  # type: ignore[attr-defined]
    assert outcome.action == "copy" and "alpha channel (transparency) was dropped" in outcome.note
    [stream] = ffprobe_streams(out)
    assert stream["codec_name"] == "vp9" and stream["nb_frames"] == "10"
    assert stream_hashes(out) == stream_hashes(source)


def test_only_a_copy_into_matroska_keeps_the_alpha_and_any_other_plan_says_it_is_lost() -> None:
    track = VideoTrack(id=2, codec="vp8", codec_string="vp8", timescale=1000, width=64,
                       height=48, alpha=True)  # fmt: skip
    for container in ("webm", "mkv"):
        plan = plan_track(track, Target(MUXERS[container], "rec.webm"), None)
        assert (plan.action, plan.warning) == ("copy", "")
    rotated = plan_track(track, Target(MUXERS["webm"], "rec.webm", rotate=90), None)
    assert rotated.action == "reencode"
    assert rotated.warning == ("rec.webm: track 2 (vp8 video): its alpha channel (transparency) "
                               "was dropped: the re-encoded video has none")  # fmt: skip
    assert rotated.note.endswith("; its alpha channel (transparency) was dropped: the re-encoded "
                                 "video has none")  # fmt: skip
    assert plan_track(track, Target(MUXERS["webm"], "rec.webm"), "drop").warning == ""
