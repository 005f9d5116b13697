"""A tiny edge-case corpus: one file (or HLS folder) per oddity that real inputs have,
each named for its oddity, each at most a second of 64x48 video or a second of audio.

``make_corpus(folder)`` writes it (ffmpeg makes the media; a few layouts ffmpeg never
writes are put together here from ffmpeg's own packets, read with PyAV).
``EXPECTED`` says, per file and output container, what ``build_scripts/corpus_report.py``
must find: ``"good"``, or a refusal whose reason matches a pattern. These are the
engine's targets, not a record of what it does today; where a browser may or may not
have a codec (AC-3 decoding, a 6-channel Opus encoder), both its use and a refusal that
names it are accepted.
"""

from __future__ import annotations

import shutil
import struct
import tempfile
from collections.abc import Callable
from pathlib import Path

import av

from oracle import ffmpeg
from pywebcodecs.matroska import ids
from pywebcodecs.matroska.ebml import (
    element,
    encode_size,
    float_element,
    master,
    string_element,
    uint_element,
)
from test_matroska_old_muxers import write_old_mkvmerge_file
from test_mpegts_damage import without_audio_packets

VIDEO = ["-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10:duration=1"]
AUDIO = ["-f", "lavfi", "-i", "sine=duration=1:sample_rate=48000"]
H264 = ["-c:v", "libx264", "-g", "5"]


def _ffmpeg_file(*args: str) -> Callable[[Path], None]:
    return lambda out: ffmpeg(*args, out)


def _appended(make: Callable[[Path], None], tail: bytes) -> Callable[[Path], None]:
    def build(out: Path) -> None:
        make(out)
        out.write_bytes(out.read_bytes() + tail)

    return build


def _truncated(make: Callable[[Path], None], keep: float) -> Callable[[Path], None]:
    def build(out: Path) -> None:
        make(out)
        data = out.read_bytes()
        out.write_bytes(data[: int(len(data) * keep)])

    return build


def _id3v2(padding: int) -> bytes:
    """An ID3v2.3 tag with a title and ``padding`` zero bytes of padding."""
    title = b"\x00" + b"Odd tag"
    frame = b"TIT2" + struct.pack(">I", len(title)) + b"\x00\x00" + title
    size = len(frame) + padding
    syncsafe = bytes((size >> shift) & 0x7F for shift in (21, 14, 7, 0))
    return b"ID3\x03\x00\x00" + syncsafe + frame + bytes(padding)


def _big_id3_mp3(out: Path) -> None:
    """A 256 KiB ID3v2 tag (mostly padding) in front, an ID3v1 tag at the end."""
    with tempfile.TemporaryDirectory() as folder:
        plain = Path(folder) / "plain.mp3"
        ffmpeg(*AUDIO, "-c:a", "libmp3lame", "-write_xing", "0", "-id3v2_version", "0", plain)
        id3v1 = b"TAG" + b"Odd tag".ljust(30, b"\0") + bytes(95)
        out.write_bytes(_id3v2(256 << 10) + plain.read_bytes() + id3v1)


def _ts_without_auds(out: Path) -> None:
    """H.264 in MPEG-TS without access unit delimiters (ffmpeg always writes them): each
    6-byte AUD is cut from its TS packet, which gets 6 bytes of adaptation stuffing."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "with-auds.ts"
        ffmpeg(*VIDEO, *AUDIO, *H264, "-c:a", "aac", "-f", "mpegts", source)
        data = bytearray(source.read_bytes())
    aud = b"\x00\x00\x00\x01\x09\xf0"
    for start in range(0, len(data), 188):
        packet = data[start : start + 188]
        at = packet.find(aud)
        if at < 0 or not packet[1] & 0x40:  # an AUD follows a PES header
            continue
        body = packet[:at] + packet[at + len(aud) :]
        control = (body[3] >> 4) & 3
        if control == 3:  # adaptation field there: make it 6 bytes longer
            length = body[4]
            stuffed = body[5 : 5 + length] + b"\xff" * 6
            body = body[:4] + bytes([length + 6]) + stuffed + body[5 + length :]
        else:  # add one: length byte, flags byte, 4 stuffing bytes
            body = body[:3] + bytes([body[3] | 0x20]) + b"\x05\x00" + b"\xff" * 4 + body[4:]
        data[start : start + 188] = body
    out.write_bytes(bytes(data))


def _laced_mkv_without_cues(out: Path) -> None:
    """VP8 video and Vorbis audio with three audio frames per block (Xiph lacing), one
    Cluster, no Cues and no SeekHead: a layout mkvmerge-style muxers write."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "source.webm"
        ffmpeg(*VIDEO, *AUDIO, "-c:v", "libvpx", "-c:a", "libvorbis", source)
        with av.open(str(source)) as container:
            video, audio = container.streams.video[0], container.streams.audio[0]
            private = {1: b"", 2: bytes(audio.codec_context.extradata or b"")}
            packets = [(1 if p.stream is video else 2, int(p.pts or 0), p.is_keyframe, bytes(p))
                       for p in container.demux() if p.size]  # fmt: skip
    tracks = master(
        ids.TRACKS,
        master(ids.TRACK_ENTRY, uint_element(ids.TRACK_NUMBER, 1),
               uint_element(ids.TRACK_UID, 1), uint_element(ids.TRACK_TYPE, 1),
               string_element(ids.CODEC_ID, "V_VP8"),
               master(ids.VIDEO, uint_element(ids.PIXEL_WIDTH, 64),
                      uint_element(ids.PIXEL_HEIGHT, 48))),
        master(ids.TRACK_ENTRY, uint_element(ids.TRACK_NUMBER, 2),
               uint_element(ids.TRACK_UID, 2), uint_element(ids.TRACK_TYPE, 2),
               string_element(ids.CODEC_ID, "A_VORBIS"),
               element(ids.CODEC_PRIVATE, private[2]),
               master(ids.AUDIO, float_element(ids.SAMPLING_FREQUENCY, 48000.0),
                      uint_element(ids.CHANNELS, 1))),
    )  # fmt: skip
    blocks = []
    pending: list[tuple[int, int, bool, bytes]] = []
    for packet in [*packets, (0, 0, False, b"")]:
        if pending and (packet[0] != 2 or len(pending) == 3):
            blocks.append(_laced_block(pending))
            pending = []
        if packet[0] == 1:
            blocks.append(_block(1, packet[1], 0x80 if packet[2] else 0, packet[3]))
        elif packet[0] == 2:
            pending.append(packet)
    cluster = master(ids.CLUSTER, uint_element(ids.TIMESTAMP, 0), *blocks)
    info = master(ids.INFO, uint_element(ids.TIMESTAMP_SCALE, 1_000_000))
    header = master(ids.EBML, string_element(ids.DOC_TYPE, "matroska"),
                    uint_element(ids.DOC_TYPE_VERSION, 4))  # fmt: skip
    out.write_bytes(header + master(ids.SEGMENT, info, tracks, cluster))


def _block(track: int, time: int, flags: int, payload: bytes) -> bytes:
    return element(ids.SIMPLE_BLOCK, encode_size(track) + struct.pack(">hB", time, flags) + payload)


def _laced_block(frames: list[tuple[int, int, bool, bytes]]) -> bytes:
    """One SimpleBlock of audio frames in Xiph lacing (RFC 9559 section 10.3)."""
    if len(frames) == 1:
        return _block(2, frames[0][1], 0x80, frames[0][3])
    sizes = b""
    for frame in frames[:-1]:
        size = len(frame[3])
        sizes += b"\xff" * (size // 255) + bytes([size % 255])
    lacing = bytes([len(frames) - 1]) + sizes
    return _block(2, frames[0][1], 0x82, lacing + b"".join(f[3] for f in frames))


def _hls_aes128(folder: Path) -> None:
    """An HLS presentation whose segments are AES-128 encrypted (key file beside it)."""
    folder.mkdir()
    (folder / "video.key").write_bytes(bytes(range(16)))
    info = folder / "key-info.txt"
    info.write_text(f"video.key\n{folder / 'video.key'}\n")
    ffmpeg(*VIDEO, *AUDIO, *H264, "-c:a", "aac", "-f", "hls", "-hls_time", "0.5",
           "-hls_list_size", "0", "-hls_key_info_file", str(info),
           "-hls_segment_filename", str(folder / "seg%d.ts"), folder / "index.m3u8")  # fmt: skip
    info.unlink()


def _chained_ogg(out: Path) -> None:
    """Two Vorbis files one after the other (Ogg chaining, as internet radio records and
    ``cat`` make): the second link's timestamps start again at 0."""
    with tempfile.TemporaryDirectory() as folder:
        links = [Path(folder) / f"{frequency}.ogg" for frequency in (440, 880)]
        for link in links:
            ffmpeg("-f", "lavfi", "-i", f"sine=frequency={link.stem}:duration=1:sample_rate=48000",
                   "-c:a", "libvorbis", link)  # fmt: skip
        out.write_bytes(b"".join(link.read_bytes() for link in links))


def _ts_lost_packets(out: Path) -> None:
    """A recording that lost three audio TS packets (continuity counter gaps)."""
    ffmpeg(*VIDEO, *AUDIO, *H264, "-c:a", "aac", "-f", "mpegts", out)
    out.write_bytes(without_audio_packets(out.read_bytes())[0])


#: file name → how to make it (HLS: a folder whose playlist is ``index.m3u8``).
MAKERS: dict[str, Callable[[Path], None]] = {
    "vfr.mp4": _ffmpeg_file(*VIDEO, "-vf", "select='lt(mod(n\\,4)\\,2)'", "-fps_mode", "vfr",
                            "-c:v", "libx264"),
    "two-audio-tracks.mp4": _ffmpeg_file(
        *VIDEO, *AUDIO, "-f", "lavfi", "-i", "sine=frequency=880:duration=1",
        "-map", "0", "-map", "1", "-map", "2", *H264, "-c:a", "aac",
        "-metadata:s:a:0", "language=eng", "-metadata:s:a:1", "language=fra"),
    "moov-at-end.mp4": _ffmpeg_file(*VIDEO, *AUDIO, *H264, "-c:a", "aac"),
    "wide-free-2-entry-edts.mov": _appended(_ffmpeg_file(
        *VIDEO, "-itsoffset", "0.3", *AUDIO, *H264, "-c:a", "pcm_s16le", "-f", "mov"),
        struct.pack(">I4s", 16, b"free") + bytes(8)),
    "laced-audio-no-cues.mkv": _laced_mkv_without_cues,
    "truncated-mid-mdat.mp4": _truncated(_ffmpeg_file(
        *VIDEO, *AUDIO, *H264, "-c:a", "aac", "-movflags", "+faststart"), 0.7),
    "big-id3-tag.mp3": _big_id3_mp3,
    "mp3-in.ts": _ffmpeg_file(*VIDEO, *AUDIO, *H264, "-c:a", "libmp3lame", "-f", "mpegts"),
    "aac-5.1.mp4": _ffmpeg_file(*VIDEO, "-f", "lavfi", "-i", "sine=duration=1:sample_rate=48000",
                                *H264, "-c:a", "aac", "-ac", "6"),
    "dash-fragmented.mp4": _ffmpeg_file(
        *VIDEO, *AUDIO, *H264, "-c:a", "aac", "-f", "mp4",
        "-movflags", "frag_keyframe+empty_moov+default_base_moof"),
    "hls-aes128": _hls_aes128,
    "vp8-alpha.webm": _ffmpeg_file(*VIDEO, "-c:v", "libvpx", "-pix_fmt", "yuva420p",
                                   "-auto-alt-ref", "0"),
    "vp9-alpha.webm": _ffmpeg_file(*VIDEO, "-c:v", "libvpx-vp9", "-pix_fmt", "yuva420p",
                                   "-deadline", "realtime", "-cpu-used", "8"),
    "ts-without-auds.ts": _ts_without_auds,
    "ac3.mp4": _ffmpeg_file(*VIDEO, *AUDIO, *H264, "-c:a", "ac3", "-f", "mp4"),
    "chained.ogg": _chained_ogg,
    "ts-lost-packets.ts": _ts_lost_packets,
    "latm-aac.ts": _ffmpeg_file(*VIDEO, *AUDIO, *H264, "-c:a", "aac", "-mpegts_flags", "latm",
                                "-f", "mpegts"),
    "old-mkvmerge-blockgroups.mkv": write_old_mkvmerge_file,
}  # fmt: skip

#: An outcome the report may give: "good", or ("refused" or "good", a regex the reason or
#: the warnings must match).
Outcome = str | tuple[str, str]
GOOD = "good"
#: A WebM/MKV copy keeps the alpha channel; an MP4 cannot hold it and says it was dropped.
ALPHA_KEPT_OR_WARNED: dict[str, tuple[Outcome, ...]] = {
    "webm": (GOOD,),
    "mp4": ((GOOD, r"track 1 \(vp[89] video\): its alpha channel \(transparency\) was dropped"),),
}

#: input name (as the report lists it) → output container → the outcomes accepted.
EXPECTED: dict[str, dict[str, tuple[Outcome, ...]]] = {
    **{name: {"webm": (GOOD,), "mp4": (GOOD,)} for name in MAKERS},
    "aac-5.1.mp4": {"webm": (GOOD, ("refused", r"track 2 \(aac audio\): .*opus encoder takes "
                                          r"at most \d channels?; this track has 6")),
                    "mp4": (GOOD,)},
    "hls-aes128/index.m3u8": {"webm": (("refused", r"encrypted"),),
                              "mp4": (("refused", r"encrypted"),)},
    "vp8-alpha.webm": ALPHA_KEPT_OR_WARNED,
    "vp9-alpha.webm": ALPHA_KEPT_OR_WARNED,
    "ac3.mp4": {"webm": (GOOD, ("refused", r"track 2 \(ac3 audio\): .*cannot decode ac3")),
                "mp4": (GOOD,)},
    "ts-lost-packets.ts": {target: ((GOOD, r"PID 257 \(audio\): TS packets are missing"),)
                           for target in ("webm", "mp4")},
    "latm-aac.ts": {target: (("refused", r"latm-aac.ts: track 257 \(aac_latm audio\): this "
                                         r"browser cannot decode aac_latm"),)
                    for target in ("webm", "mp4")},
}  # fmt: skip
del EXPECTED["hls-aes128"]


def make_corpus(folder: Path) -> list[str]:
    """Write every corpus file into ``folder`` (made fresh); returns their names."""
    for name, make in MAKERS.items():
        target = folder / name
        if target.exists():
            shutil.rmtree(target) if target.is_dir() else target.unlink()
        make(target)
    return sorted(EXPECTED)
