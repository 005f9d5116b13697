"""Writing Matroska and WebM (RFC 9559; WebM is its subset, https://www.webmproject.org/docs/container/).

Layout, all written front to back with only small patches at the end:

    EBML header | Segment (8-byte size, patched) |
        SeekHead (space reserved, filled at finish: Info, Tracks, Tags, Cues)
        Info (TimestampScale 1 ms, Duration patched at finish)
        Tracks (a video's DefaultDuration filled in at finish, if its frame rate was constant)
        Tags (the file's tags; one DURATION per track, as ffmpeg writes them, patched at
            finish)
        Attachments (Matroska only: cover pictures, as ffmpeg and mkvmerge attach them)
        Cluster* (8-byte size, patched when the cluster closes) of SimpleBlocks, and
            BlockGroups for the blocks that end in padding (DiscardPadding) or carry an
            alpha channel (BlockAdditions, on a track with AlphaMode 1)
        Cues

Timestamps are milliseconds (TimestampScale 1 000 000 ns). A new cluster starts at each
video keyframe, when a block's offset from the cluster timestamp would leave the signed
16-bit range of SimpleBlock (RFC 9559 section 10.1), and every 5 s when there is no video.
``Track.description`` becomes CodecPrivate unchanged: avcC, hvcC, av1C, the
AudioSpecificConfig, the OpusHead, ``fLaC`` + metadata blocks, and for Vorbis the three
headers in Xiph lacing (the form both Matroska's CodecPrivate and WebCodecs'
``AudioDecoderConfig.description`` use). Without a description, AV1, Opus and AAC get one
made up (:mod:`.codec_private`); H.264, HEVC, Vorbis and FLAC cannot be written.

Packet pts may be negative only as far as an Opus track's pre-skip reaches: the block
timestamp is pts + CodecDelay (RFC 9559 section 5.1.4.1.19, as ffmpeg writes it), so the
priming packet at -6.5 ms is stored at 0. Anything earlier is a ``ValueError``. A packet
with ``discard_padding`` (an encoder's last frame, filled up with silence) is a BlockGroup
whose DiscardPadding (section 5.1.3.5.9) tells players how much of its end to drop.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import ClassVar

from ..errors import UnsupportedError
from ..muxer import Muxer
from ..sink import Sink
from ..track import NANOSECONDS, OPUS_RATE, AudioTrack, CoverImage, Packet, Track, VideoTrack
from . import ids
from .blocks import block_group, simple_block
from .codec_ids import CODEC_IDS, MATRIX, PCM_BITS, PRIMARIES, TRANSFER
from .codec_private import codec_private
from .duration_tags import format_duration_tag
from .ebml import (
    element,
    encode_id,
    encode_size,
    float_element,
    master,
    string_element,
    uint_element,
    void_element,
)

APP_NAME = "pywebcodecs"
#: Nanoseconds per timestamp unit: 1 ms, as WebM recommends.
TIMESTAMP_SCALE = 1_000_000
MS = 1000
#: Audio-only files get a cluster (and a cue point) every this many milliseconds.
AUDIO_CLUSTER_MS = 5000
#: An Opus decoder needs 80 ms of audio before a seek point (RFC 7845 section 4.6).
OPUS_SEEK_PRE_ROLL_NS = 80_000_000
#: Room for five Seek entries (Info, Tracks, Tags, Attachments, Cues) of 21 bytes each.
SEEK_HEAD_SPACE = 120
#: Bytes reserved for a track's DURATION tag value: "HH:MM:SS.nnnnnnnnn" plus NUL padding.
DURATION_TAG_SPACE = 20
#: DefaultDuration with an 8-byte value: ID (3), size (1), value (8).
DEFAULT_DURATION_SPACE = 12
UNKNOWN_8_BYTE_SIZE = b"\x01" + b"\xff" * 7
#: Our tag names → SimpleTag names (RFC 9559 section 5.1.8.1.2; the upper-case names
#: ffmpeg and mkvmerge use). "title" goes to Info's Title; "encoder" is not carried: the
#: output's writer is not the input's.
TAG_NAMES = {"artist": "ARTIST", "album": "ALBUM", "album_artist": "ALBUM_ARTIST",
             "date": "DATE", "genre": "GENRE", "comment": "COMMENT", "composer": "COMPOSER",
             "description": "DESCRIPTION", "copyright": "COPYRIGHT"}  # fmt: skip
#: Cover pictures' file names by media type, as ffmpeg names an attached picture.
COVER_NAMES = {"image/jpeg": "cover.jpg", "image/png": "cover.png", "image/bmp": "cover.bmp"}


def to_ms(value: int, timescale: int) -> int:
    """``value / timescale`` seconds in milliseconds, rounded half up, without floats."""
    return (2 * value * MS + timescale) // (2 * timescale)


@dataclass
class _OutTrack:
    number: int
    track: Track
    codec_private: bytes | None
    #: Added to every pts for the block timestamp (Opus pre-skip, RFC 9559 CodecDelay),
    #: in the track's timescale.
    lead_in: int = 0
    end_ms: int = 0
    tag_offset: int = 0
    last_pts: int = -1  # the latest pts so far, in the track's timescale
    step: int = 0  # the gap between the last two increasing pts
    #: Where DEFAULT_DURATION_SPACE bytes are kept for DefaultDuration (video), else 0.
    default_duration_offset: int = 0
    last_dts: int | None = None
    dts_steps: tuple[int, int] | None = None  # the smallest and largest decode-time step
    last_time: int = 0  # the latest block's time (ms), for a BlockGroup's ReferenceBlock
    is_video: bool = False


@dataclass
class _CuePoint:
    time: int
    track: int
    cluster: int
    relative: int


class MatroskaMuxer(Muxer):
    """The shared writer; :class:`WebmMuxer` and :class:`MkvMuxer` set the DocType."""

    doc_type: ClassVar[str]
    keeps_alpha = True

    def __init__(self, sink: Sink) -> None:
        super().__init__(sink)
        self._tracks: list[_OutTrack] = []
        self._has_video = False
        self._started = False
        self._segment_start = 0  # offset of the Segment's data
        self._seek_head_offset = 0
        self._duration_offset = 0
        self._sections: dict[int, int] = {}  # element id → offset in the segment
        self._cluster_offset: int | None = None  # file offset of the open cluster
        self._cluster_time = 0
        self._cluster_has_video = False
        self._cues: list[_CuePoint] = []
        self._duration_ms = 0

    def add_track(self, track: Track) -> int:
        self.check_codec(track.codec)
        if self._started:
            raise UnsupportedError("all tracks must be added before the first packet")
        out = _OutTrack(
            number=len(self._tracks) + 1, track=track, codec_private=codec_private(track)
        )
        out.lead_in = track.lead_in
        out.is_video = isinstance(track, VideoTrack)
        self._tracks.append(out)
        self._has_video = self._has_video or isinstance(track, VideoTrack)
        return out.number

    async def write_packet(self, track_id: int, packet: Packet) -> None:
        if not self._started:
            await self._write_header()
        if not 1 <= track_id <= len(self._tracks):
            raise ValueError(f"unknown track id {track_id}")
        out = self._tracks[track_id - 1]
        scale = out.track.timescale
        pts = packet.pts
        time = to_ms(pts + out.lead_in, scale)
        if time < 0:
            raise ValueError(
                f"track {track_id}: packet pts {pts}/{scale} s is before the start; "
                "Matroska block timestamps cannot be negative (shift the timeline first)"
            )
        if pts > out.last_pts:
            out.step = pts - out.last_pts if out.last_pts >= 0 else 0
            out.last_pts = pts
        dts = packet.dts
        if out.last_dts is not None:
            step = dts - out.last_dts
            if out.dts_steps is None:
                out.dts_steps = (step, step)
            elif not out.dts_steps[0] <= step <= out.dts_steps[1]:
                low, high = out.dts_steps
                out.dts_steps = (min(low, step), max(high, step))
        out.last_dts = dts
        # A packet without a duration (WebCodecs chunks may have none) lasts one frame, so
        # that Duration covers the last frame: the smallest decode-time step once known
        # (with B-frames the pts gap before a reference frame spans several frames),
        # else the gap before it.
        duration = packet.duration if packet.duration > 0 else _frame_step(out)
        end_ms = to_ms(pts + duration, scale)
        if end_ms > out.end_ms:
            out.end_ms = end_ms
            if end_ms > self._duration_ms:
                self._duration_ms = end_ms
        is_video, video_key = out.is_video, out.is_video and packet.is_key
        if self._needs_cluster(time, video_key):
            await self._open_cluster(time)
            if not self._has_video:
                self._add_cue(time, out.number)
        if video_key:
            self._add_cue(time, out.number)
        self._cluster_has_video = self._cluster_has_video or is_video
        relative = time - self._cluster_time
        previous, out.last_time = out.last_time, time
        data = packet.data
        if packet.discard_padding > 0 or packet.alpha is not None:
            reference = None if packet.is_key else (previous - time or -1)
            head, tail = block_group(
                out.number, relative, len(data), reference=reference,
                discard_ns=max(packet.discard_padding, 0), alpha=packet.alpha,
            )  # fmt: skip
            await self.sink.write(head + data + tail)
        else:
            # One write per block: in Pyodide an await costs more than copying a frame.
            await self.sink.write(
                simple_block(out.number, relative, packet.is_key, len(data)) + data
            )

    async def finish(self) -> None:
        if not self._started:
            await self._write_header()
        await self._close_cluster()
        if self._cues:
            self._sections[ids.CUES] = self.sink.position - self._segment_start
            await self.sink.write(master(ids.CUES, *map(_cue_point, self._cues)))
        end = self.sink.position
        await self.sink.write_at(self._segment_start - 8, encode_size(end - self._segment_start, 8))
        await self.sink.write_at(self._seek_head_offset, self._seek_head())
        await self.sink.write_at(self._duration_offset, struct.pack(">d", float(self._duration_ms)))
        for out in self._tracks:
            if out.default_duration_offset and _constant_frame_rate(out):
                assert isinstance(out.track, VideoTrack) and out.track.frame_rate
                ns = round(NANOSECONDS / out.track.frame_rate)
                default_duration = element(ids.DEFAULT_DURATION, ns.to_bytes(8, "big"))
                await self.sink.write_at(out.default_duration_offset, default_duration)
            # Past 99 hours (damaged input) the text outgrows its reserved space: its
            # fraction gives way, never the bytes after it.
            value = format_duration_tag(out.end_ms).encode()[:DURATION_TAG_SPACE]
            await self.sink.write_at(out.tag_offset, value.ljust(DURATION_TAG_SPACE, b"\0"))

    # -- header -------------------------------------------------------------------------

    async def _write_header(self) -> None:
        self._started = True
        ebml_header = master(
            ids.EBML,
            uint_element(ids.EBML_VERSION, 1),
            uint_element(ids.EBML_READ_VERSION, 1),
            uint_element(ids.EBML_MAX_ID_LENGTH, 4),
            uint_element(ids.EBML_MAX_SIZE_LENGTH, 8),
            string_element(ids.DOC_TYPE, self.doc_type),
            uint_element(ids.DOC_TYPE_VERSION, 4),
            uint_element(ids.DOC_TYPE_READ_VERSION, 2),
        )
        await self.sink.write(ebml_header + encode_id(ids.SEGMENT) + UNKNOWN_8_BYTE_SIZE)
        self._segment_start = self.sink.position
        self._seek_head_offset = self.sink.position
        await self.sink.write(void_element(SEEK_HEAD_SPACE))

        info_head = encode_id(ids.INFO)
        info_body = (
            uint_element(ids.TIMESTAMP_SCALE, TIMESTAMP_SCALE)
            + string_element(ids.MUXING_APP, APP_NAME)
            + string_element(ids.WRITING_APP, APP_NAME)
        )
        if self.tags.get("title"):
            info_body += string_element(ids.TITLE, self.tags["title"])
        duration = float_element(ids.DURATION, 0.0)
        info = info_head + encode_size(len(info_body) + len(duration)) + info_body + duration
        self._sections[ids.INFO] = self.sink.position - self._segment_start
        self._duration_offset = self.sink.position + len(info) - 8
        await self.sink.write(info)

        self._sections[ids.TRACKS] = self.sink.position - self._segment_start
        entries = [self._track_entry(out) for out in self._tracks]
        tracks = master(ids.TRACKS, *entries)
        entry_start = self.sink.position + len(tracks) - sum(map(len, entries))
        for out, entry in zip(self._tracks, entries, strict=True):
            if entry.find(void_element(DEFAULT_DURATION_SPACE)) >= 0:
                out.default_duration_offset = entry_start + entry.index(
                    void_element(DEFAULT_DURATION_SPACE)
                )
            entry_start += len(entry)
        await self.sink.write(tracks)

        self._sections[ids.TAGS] = self.sink.position - self._segment_start
        tags_start = self.sink.position
        durations = [_duration_tag_element(out) for out in self._tracks]
        tags = master(ids.TAGS, *_file_tag_elements(self.tags), *durations)
        # Each DURATION Tag ends with its placeholder TagString; find them in track order,
        # after the file's own tags (whose values could look like one).
        marker = encode_id(ids.TAG_STRING) + encode_size(DURATION_TAG_SPACE)
        at = len(tags) - sum(map(len, durations))
        for out in self._tracks:
            at = tags.index(marker, at) + len(marker)
            out.tag_offset = tags_start + at
        await self.sink.write(tags)
        covers = [image for image in self.images if image.mime_type in COVER_NAMES]
        if covers and self.doc_type == "matroska":  # WebM has no attachments
            self._sections[ids.ATTACHMENTS] = self.sink.position - self._segment_start
            attached = (_attached_file(image, uid) for uid, image in enumerate(covers, 1))
            await self.sink.write(master(ids.ATTACHMENTS, *attached))

    def _track_entry(self, out: _OutTrack) -> bytes:
        track = out.track
        video = isinstance(track, VideoTrack)
        children = [
            uint_element(ids.TRACK_NUMBER, out.number),
            uint_element(ids.TRACK_UID, out.number),
            uint_element(ids.TRACK_TYPE, 1 if video else 2),
            uint_element(ids.FLAG_LACING, 0),
            *_language_elements(track.language),
            string_element(ids.CODEC_ID, CODEC_IDS[track.codec]),
        ]
        if not track.is_default:
            children.append(uint_element(ids.FLAG_DEFAULT, 0))
        if track.name:
            children.append(string_element(ids.NAME, track.name))
        if out.codec_private:
            children.append(element(ids.CODEC_PRIVATE, out.codec_private))
        if isinstance(track, AudioTrack) and track.pre_skip:
            delay = track.pre_skip * NANOSECONDS // OPUS_RATE
            children.append(uint_element(ids.CODEC_DELAY, delay))
        if track.codec == "opus":
            children.append(uint_element(ids.SEEK_PRE_ROLL, OPUS_SEEK_PRE_ROLL_NS))
        if isinstance(track, VideoTrack):
            if track.frame_rate:  # first, so _write_header finds it; filled in at finish
                children.insert(0, void_element(DEFAULT_DURATION_SPACE))
            children.append(_video_element(track))
        elif isinstance(track, AudioTrack):
            children.append(_audio_element(track))
        return master(ids.TRACK_ENTRY, *children)

    def _seek_head(self) -> bytes:
        seeks = [
            master(
                ids.SEEK,
                element(ids.SEEK_ID, encode_id(section)),
                uint_element(ids.SEEK_POSITION, position, 8),
            )
            for section, position in self._sections.items()
        ]
        seek_head = master(ids.SEEK_HEAD, *seeks)
        return seek_head + void_element(SEEK_HEAD_SPACE - len(seek_head))

    # -- clusters -----------------------------------------------------------------------

    def _needs_cluster(self, time: int, video_key: bool) -> bool:
        if self._cluster_offset is None:
            return True
        if not -0x8000 <= time - self._cluster_time <= 0x7FFF:
            return True
        if video_key:
            return self._cluster_has_video
        return not self._has_video and time - self._cluster_time >= AUDIO_CLUSTER_MS

    async def _open_cluster(self, time: int) -> None:
        await self._close_cluster()
        self._cluster_offset = self.sink.position
        self._cluster_time = time
        self._cluster_has_video = False
        await self.sink.write(
            encode_id(ids.CLUSTER) + UNKNOWN_8_BYTE_SIZE + uint_element(ids.TIMESTAMP, time)
        )

    async def _close_cluster(self) -> None:
        if self._cluster_offset is None:
            return
        size = self.sink.position - self._cluster_offset - 12
        await self.sink.write_at(self._cluster_offset + 4, encode_size(size, 8))
        self._cluster_offset = None

    def _add_cue(self, time: int, track: int) -> None:
        assert self._cluster_offset is not None
        self._cues.append(
            _CuePoint(
                time=time,
                track=track,
                cluster=self._cluster_offset - self._segment_start,
                relative=self.sink.position - self._cluster_offset - 12,
            )
        )


class WebmMuxer(MatroskaMuxer):
    """WebM: the Matroska subset browsers play (VP8/VP9/AV1 video, Opus/Vorbis audio)."""

    format_name = "webm"
    mime_type = "video/webm"
    doc_type = "webm"
    codecs = frozenset({"vp8", "vp9", "av1", "opus", "vorbis"})


class MkvMuxer(MatroskaMuxer):
    """Matroska with every codec the engine reads."""

    format_name = "mkv"
    mime_type = "video/x-matroska"
    doc_type = "matroska"
    codecs = frozenset(CODEC_IDS)


def _frame_step(out: _OutTrack) -> int:
    """How long a packet without a duration lasts: the smallest positive decode-time step
    seen, else the gap between the last two increasing pts."""
    if out.dts_steps is not None and out.dts_steps[0] > 0:
        return out.dts_steps[0]
    return out.step


def _constant_frame_rate(out: _OutTrack) -> bool:
    """Whether every frame took as long as the next (within a tick of the timescale, which
    millisecond timestamps of 30 fps need): only then does DefaultDuration hold. Players
    and ffmpeg take it as every frame's duration, so a variable rate gets none."""
    low, high = out.dts_steps or (0, 0)
    return high - low <= 1


def _video_element(track: VideoTrack) -> bytes:
    children = [
        uint_element(ids.PIXEL_WIDTH, track.width),
        uint_element(ids.PIXEL_HEIGHT, track.height),
    ]
    display = _display_size(track)
    if display is not None:
        children.append(uint_element(ids.DISPLAY_WIDTH, display[0]))
        children.append(uint_element(ids.DISPLAY_HEIGHT, display[1]))
    if track.alpha:  # the packets' BlockAdditional 1 is an alpha channel
        children.append(uint_element(ids.ALPHA_MODE, 1))
    color = track.color
    if color is not None:
        colour = []
        if color.matrix in MATRIX:
            colour.append(uint_element(ids.MATRIX_COEFFICIENTS, MATRIX[color.matrix]))
        if color.full_range is not None:
            colour.append(uint_element(ids.RANGE, 2 if color.full_range else 1))
        if color.transfer in TRANSFER:
            colour.append(uint_element(ids.TRANSFER_CHARACTERISTICS, TRANSFER[color.transfer]))
        if color.primaries in PRIMARIES:
            colour.append(uint_element(ids.PRIMARIES, PRIMARIES[color.primaries]))
        if colour:
            children.append(master(ids.COLOUR, *colour))
    if track.rotation % 360:
        # ProjectionPoseRoll turns counter-clockwise (RFC 9559 section 5.1.4.1.28.45).
        roll = -track.rotation % 360
        children.append(
            master(
                ids.PROJECTION,
                uint_element(ids.PROJECTION_TYPE, 0),
                float_element(ids.PROJECTION_POSE_ROLL, float(roll if roll <= 180 else roll - 360)),
            )
        )
    return master(ids.VIDEO, *children)


def _display_size(track: VideoTrack) -> tuple[int, int] | None:
    """DisplayWidth/DisplayHeight that give players exactly the track's pixel aspect
    ratio: the width stretched when that is a whole number of pixels (4:3 pixels at
    180x120 show at 240x120), else both sides multiplied (160x120 at 4:3 show at
    640x360, as a 16:9 picture), since 213x120 would make it 213:160."""
    h_spacing, v_spacing = track.pixel_aspect
    if h_spacing > 0 and v_spacing > 0 and h_spacing != v_spacing:
        if track.width * h_spacing % v_spacing == 0:
            return track.width * h_spacing // v_spacing, track.height
        return track.width * h_spacing, track.height * v_spacing
    if track.display_width and track.display_height:
        return track.display_width, track.display_height
    return None


def _audio_element(track: AudioTrack) -> bytes:
    children = [
        float_element(ids.SAMPLING_FREQUENCY, float(track.sample_rate)),
        uint_element(ids.CHANNELS, track.channels),
    ]
    bits = PCM_BITS.get(track.codec) or track.bits_per_sample
    if bits:
        children.append(uint_element(ids.BIT_DEPTH, bits))
    return master(ids.AUDIO, *children)


def _duration_tag_element(out: _OutTrack) -> bytes:
    return master(
        ids.TAG,
        master(ids.TARGETS, uint_element(ids.TAG_TRACK_UID, out.number)),
        master(
            ids.SIMPLE_TAG,
            string_element(ids.TAG_NAME, "DURATION"),
            element(ids.TAG_STRING, bytes(DURATION_TAG_SPACE)),
        ),
    )


def _cue_point(cue: _CuePoint) -> bytes:
    return master(
        ids.CUE_POINT,
        uint_element(ids.CUE_TIME, cue.time),
        master(
            ids.CUE_TRACK_POSITIONS,
            uint_element(ids.CUE_TRACK, cue.track),
            uint_element(ids.CUE_CLUSTER_POSITION, cue.cluster),
            uint_element(ids.CUE_RELATIVE_POSITION, cue.relative),
        ),
    )


def _language_elements(language: str | None) -> list[bytes]:
    """Language (ISO 639-2) and, for a BCP 47 tag that is not one, LanguageBCP47 too
    (RFC 9559 section 5.1.4.1.20: readers prefer it)."""
    if not language:
        return [string_element(ids.LANGUAGE, "und")]
    if len(language) == 3 and language.isalpha():
        return [string_element(ids.LANGUAGE, language)]
    return [string_element(ids.LANGUAGE, "und"), string_element(ids.LANGUAGE_BCP47, language)]


def _file_tag_elements(tags: dict[str, str]) -> list[bytes]:
    """One Tag for the whole file (no target), holding every tag Matroska has a name for."""
    simple = [
        master(
            ids.SIMPLE_TAG,
            string_element(ids.TAG_NAME, TAG_NAMES[name]),
            string_element(ids.TAG_STRING, value),
        )
        for name, value in tags.items()
        if name in TAG_NAMES
    ]
    return [master(ids.TAG, master(ids.TARGETS), *simple)] if simple else []


def _attached_file(image: CoverImage, uid: int) -> bytes:
    children = [
        string_element(ids.FILE_NAME, COVER_NAMES[image.mime_type]),
        string_element(ids.FILE_MEDIA_TYPE, image.mime_type),
        element(ids.FILE_DATA, image.data),
        uint_element(ids.FILE_UID, uid),
    ]
    if image.description:
        children.insert(0, string_element(ids.FILE_DESCRIPTION, image.description))
    return master(ids.ATTACHED_FILE, *children)
