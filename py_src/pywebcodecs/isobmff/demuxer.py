"""Reading MP4, MOV and M4A (ISO/IEC 14496-12, QuickTime File Format).

``open()`` walks the top-level boxes by their headers only (a 16-byte read each, mostly
answered from the reader's window), reads ``moov`` and any ``moof`` whole, and parses
them in memory. Media data is read only by :meth:`IsobmffDemuxer.packets`, front to back
in file order across tracks.

Timestamps follow the track's edit list the way ffprobe applies it: leading empty edits
delay the track, the first media edit's ``media_time`` is subtracted. That is why an
ffmpeg-made AAC track starts at -1024 (encoder priming meant to be cut) and H.264 with
B-frames has negative decode times.
"""

from __future__ import annotations

import heapq
import itertools
import math
import operator
import struct
from array import array
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Iterator
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from ..codec_data import annexb_to_length_prefixed, looks_annexb, split_annexb
from ..codec_data import length_prefixed_to_annexb as to_annexb
from ..demuxer import Demuxer
from ..errors import FormatError
from ..mpegts.parameter_sets import is_keyframe, video_config
from ..track import AudioTrack, Packet, Track, VideoTrack
from .boxes import BoxHeader, BoxView, parse_header
from .sample_entries import SampleEntry, parse_sample_entry
from .sample_table import Samples, TrackDefaults, read_sample_table, read_track_fragment
from .tags import read_tags

MAX_TOP_LEVEL_BOX = 1 << 28  # a moov or moof larger than 256 MiB is not believed
_MOV_BRANDS = {"qt  "}
_AUDIO_BRANDS = {"M4A ", "M4B ", "M4P "}
#: Samples searched for in-band H.264/HEVC parameter sets when the sample entry has none.
CONFIG_SAMPLES = 8


@dataclass
class _TrackState:
    track: Track
    samples: Samples
    shift: int  # added to dts and cts: the edit list's effect, in track timescale
    nal_length_size: int = 4
    annexb: bool | None = None  # H.264/HEVC samples stored with start codes (None: unseen)
    rewrite: bool = False  # samples get 4-byte NAL lengths when read (Annex-B or other sizes)


class IsobmffDemuxer(Demuxer):
    format_name = "mp4"
    sniff_size = 16

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        return head[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip", b"styp")

    async def open(self) -> None:
        moov: BoxView | None = None
        moofs: list[tuple[int, BoxView]] = []
        brand = ""
        async with aclosing(self._top_level_boxes()) as boxes:
            async for header in boxes:
                if header.type == "ftyp":
                    ftyp = await self._read_box(header)
                    brand = bytes(ftyp.body[:4]).decode("latin-1")
                elif header.type == "moov":
                    moov = await self._read_box(header)
                    if not _has_fragments(moov):
                        break  # all there is to know; what follows is media data
                elif header.type == "moof":
                    moofs.append((header.offset, await self._read_box(header)))
        if moov is None:
            raise self.error("no moov box: not a complete MP4/MOV file (is it cut off?)")
        self.container = (
            "mov" if brand in _MOV_BRANDS else "m4a" if brand in _AUDIO_BRANDS else "mp4"
        )
        self._states = self._read_movie(moov, moofs)
        for state in self._states.values():
            if state.track.codec not in ("h264", "hevc") or not len(state.samples):
                state.annexb = False
            elif state.track.description is None:
                await self._in_band_config(state)
        self.tracks = [state.track for state in self._states.values()]

    async def _top_level_boxes(self) -> AsyncGenerator[BoxHeader, None]:
        offset = 0
        size = self.reader.size
        while size is None or offset < size:
            head = await self.reader.read(offset, 16)
            if not head:
                return
            if len(head) < 8:
                self.warn_truncated(f"{len(head)} stray bytes after the last box", offset)
                return
            try:
                header = parse_header(head, 0, offset)
            except FormatError as exc:
                raise exc.located(source=self.reader.name, format=self.format_name) from None
            box_size = header.size if header.size is not None else (size or 0) - offset
            if size is not None and offset + box_size > size:
                if header.type == "mdat":
                    self.warn_truncated(
                        f"mdat box claims {box_size} bytes but the file ends "
                        f"{size - offset} bytes after it starts; reading what is there",
                        offset,
                    )
                    yield header
                    return
                if header.type == "moov":
                    raise self.error(
                        f"{header.type!r} box claims {box_size} bytes, past the end of the "
                        f"{size}-byte file",
                        offset,
                    )
                # A fragmented file cut inside its last moof: the fragments before it stand.
                self.warn_truncated(
                    f"{header.type!r} box claims {box_size} bytes, past the end of the "
                    f"{size}-byte file; ignoring it and what follows",
                    offset,
                )
                return
            yield header
            if header.size is None:
                return
            offset += box_size

    async def _read_box(self, header: BoxHeader) -> BoxView:
        size = (header.size or (self.reader.size or 0) - header.offset) - header.header_size
        if size > MAX_TOP_LEVEL_BOX:
            raise self.error(f"{header.type!r} box of {size} bytes is too large", header.offset)
        body = await self.reader.read_exact(header.body_offset, size, f"the {header.type} box",
                                            "MP4")  # fmt: skip
        return BoxView(header.type, memoryview(body), header.body_offset)

    def _read_movie(
        self, moov: BoxView, moofs: list[tuple[int, BoxView]]
    ) -> dict[int, _TrackState]:
        try:
            return self._parse_movie(moov, moofs)
        except FormatError as exc:
            raise exc.located(source=self.reader.name, format=self.format_name) from None

    def _parse_movie(
        self, moov: BoxView, moofs: list[tuple[int, BoxView]]
    ) -> dict[int, _TrackState]:
        mvhd = moov.child("mvhd")
        if mvhd is None:
            raise FormatError("moov box has no mvhd", offset=moov.body_offset)
        version, _ = mvhd.full_box()
        movie_scale, movie_duration = mvhd.unpack(
            struct.Struct(">16xIQ" if version == 1 else ">8xII"), 4
        )
        if movie_scale == 0:
            raise FormatError("mvhd timescale is 0", offset=mvhd.body_offset)
        self.duration = (
            movie_duration / movie_scale
            if movie_duration not in (0, 2**32 - 1, 2**64 - 1)
            else None
        )
        defaults = _track_defaults(moov)
        states: dict[int, _TrackState] = {}
        traks = moov.all("trak")
        chapters = {ref for trak in traks for ref in _references(trak, "chap")}
        for trak in traks:
            state = self._read_track(trak, movie_scale, chapters)
            if state is not None:
                states[state.track.id] = state
        self._read_fragments(moofs, states, defaults)
        for state in states.values():
            track = state.track
            track.packet_count = len(state.samples)
            track.keyframe_count = sum(state.samples.keys)
            if isinstance(track, VideoTrack) and track.packet_count and track.duration:
                track.frame_rate = round(track.packet_count * track.timescale / track.duration, 3)
        self.tags, self.images = read_tags(moov)
        if self.duration is None:
            spans = [t.duration_seconds for t in self.tracks if t.duration_seconds]
            self.duration = max(spans, default=None)
        return states

    def _read_track(
        self, trak: BoxView, movie_scale: int, chapters: set[int]
    ) -> _TrackState | None:
        tkhd = trak.child("tkhd")
        mdia = trak.child("mdia")
        if tkhd is None or mdia is None:
            raise FormatError("trak box without tkhd or mdia", offset=trak.body_offset)
        version, _ = tkhd.full_box()
        (track_id,) = tkhd.unpack(struct.Struct(">16xI" if version == 1 else ">8xI"), 4)
        matrix_at = 4 + (32 if version == 1 else 20) + 16
        matrix = tkhd.unpack(struct.Struct(">9i"), matrix_at)
        mdhd, hdlr = mdia.child("mdhd"), mdia.child("hdlr")
        stbl = mdia.path("minf", "stbl")
        if mdhd is None or hdlr is None or stbl is None:
            raise FormatError("mdia box without mdhd, hdlr or stbl", offset=mdia.body_offset)
        version, _ = mdhd.full_box()
        timescale, media_duration, language = mdhd.unpack(
            struct.Struct(">16xIQH" if version == 1 else ">8xIIH"), 4
        )
        if timescale == 0:
            raise FormatError(f"track {track_id}: mdhd timescale is 0", offset=mdhd.body_offset)
        handler = bytes(hdlr.body[8:12]).decode("latin-1")
        stsd = stbl.child("stsd")
        if handler not in ("vide", "soun"):
            note = _dropped_track(track_id, handler, stsd, chapters)
            self.warnings.append(f"{self.reader.name}: {note}")
            return None
        if stsd is None:
            raise FormatError(f"track {track_id}: no stsd box", offset=stbl.body_offset)
        entry = parse_sample_entry(stsd, handler)
        samples = (
            read_sample_table(stbl, handler == "soun")
            if stbl.child("stsz") or stbl.child("stz2")
            else Samples()
        )
        shift, edited = _edit_shift(trak, movie_scale, timescale)
        duration = edited if edited is not None else media_duration or None
        common: dict[str, Any] = {
            "id": track_id,
            "codec": entry.codec,
            "codec_string": entry.codec_string,
            "description": entry.description,
            "timescale": timescale,
            "duration": duration,
            "language": _language(language),
            "name": _track_name(trak),
        }
        track: Track
        if handler == "vide":
            track = _video_track(entry, matrix, common)
        else:
            track = AudioTrack(sample_rate=entry.sample_rate, channels=entry.channels,
                               bits_per_sample=entry.bits_per_sample, **common)  # fmt: skip
        for note in entry.notes:
            self.warnings.append(f"{self.reader.name}: track {track_id}: {note}")
        return _TrackState(track, samples, shift, entry.nal_length_size)

    async def _in_band_config(self, state: _TrackState) -> None:
        """An H.264/HEVC track with no usable avcC/hvcC gets one built from the parameter
        sets in its first samples (as for MPEG-TS), so it copies and decodes like any other.
        Its samples may be stored Annex-B style (start codes, as some writers do); they are
        rewritten with 4-byte lengths as they are read."""
        track, samples = state.track, state.samples
        head = await self.reader.read(samples.offsets[0], min(4, samples.sizes[0]))
        state.annexb = state.rewrite = looks_annexb(head, strict=False)
        nals: list[bytes] = []
        for index in range(min(len(samples), CONFIG_SAMPLES)):
            data = await self.reader.read(samples.offsets[index], samples.sizes[index])
            try:
                if not state.annexb:
                    data = to_annexb(data, state.nal_length_size)
                nals += split_annexb(data)
                config = video_config(track.codec, nals)
            except FormatError as exc:  # a broken sample or parameter set
                raise self.error(f"track {track.id} sample {index + 1}: {exc.message}",
                                 samples.offsets[index]) from None  # fmt: skip
            if config is not None:
                track.description = config.description
                track.codec_string = track.codec_string[:4] + config.codec_string[4:]
                # The new record says 4-byte lengths: other sizes are rewritten too.
                state.rewrite = state.annexb or state.nal_length_size != 4
                return
        if track.description is None:
            record = "avcC" if track.codec == "h264" else "hvcC"
            self.warnings.append(
                f"{self.reader.name}: track {track.id}: {track.codec} with no usable {record} "
                f"and no parameter sets in its first {CONFIG_SAMPLES} samples: it can be "
                "neither decoded nor copied"
            )

    def _read_fragments(self, moofs: list[tuple[int, BoxView]], states: dict[int, _TrackState],
                        defaults: dict[int, TrackDefaults]) -> None:  # fmt: skip
        if not moofs:
            return
        fragments: dict[int, Samples] = {}
        next_dts: dict[int, int] = {}
        for track_id, state in states.items():
            samples = state.samples
            if len(samples):
                next_dts[track_id] = samples.dts[-1] + samples.durations[-1] + samples.dts_shift
        for moof_offset, moof in moofs:
            for traf in moof.all("traf"):
                read_track_fragment(traf, moof_offset, defaults, next_dts, fragments)
        for track_id, extra in fragments.items():
            target = states.get(track_id)
            if target is None:
                continue
            samples = target.samples
            lowest = min(extra.cts, default=0)
            if lowest < 0:  # ffmpeg shows fragments' frames later instead of decoding earlier
                extra.cts = array("q", [cts - lowest for cts in extra.cts])
            for name in ("offsets", "sizes", "dts", "cts", "durations"):
                getattr(samples, name).extend(getattr(extra, name))
            samples.keys.extend(extra.keys)
            if not target.track.duration and len(samples):
                target.track.duration = samples.dts[-1] + samples.durations[-1] - samples.dts[0]

    async def packets(self) -> AsyncIterator[Packet]:
        size = self.reader.size
        for offset, track_id, index in _file_order(self._states):
            state = self._states[track_id]
            samples = state.samples
            length = samples.sizes[index]
            if size is not None and offset + length > size:
                self.warn_truncated(
                    f"track {track_id} sample {index + 1} of {length} bytes is cut off at the "
                    "end of the file; stopping there",
                    offset,
                )
                return
            # Samples that follow each other are served from the reader's window, so an
            # interleaved file costs one fetch per window, not one per sample.
            data = await self.reader.read(offset, length)
            dts = samples.dts[index] + state.shift
            is_key = bool(samples.keys[index])
            if state.annexb is None:  # a valid avcC/hvcC, and still start codes in the samples
                state.annexb = state.rewrite = looks_annexb(data[:4], strict=True)
            if state.rewrite:
                if not state.annexb:
                    try:
                        data = to_annexb(data, state.nal_length_size)
                    except FormatError as exc:
                        raise self.error(f"track {track_id}: {exc.message}", offset) from None
                nals = split_annexb(data)
                # A table with no stss calls every sample a sync sample; the NAL types know.
                is_key = is_key and is_keyframe(state.track.codec, nals)
                data = annexb_to_length_prefixed(data)
            yield Packet(
                track_id=track_id,
                pts=dts + samples.cts[index],
                dts=dts,
                duration=samples.durations[index],
                is_key=is_key,
                data=data,
            )


def _file_order(states: dict[int, _TrackState]) -> Iterator[tuple[int, int, int]]:
    """(byte offset, track id, sample index) of every sample, in byte order: the tracks'
    tables merged lazily, so no list of all samples is ever built."""
    return heapq.merge(
        *(_track_order(track_id, s.samples.offsets) for track_id, s in states.items())
    )


def _track_order(track_id: int, offsets: array[int]) -> Iterator[tuple[int, int, int]]:
    indices: Iterable[int] = range(len(offsets))
    if not all(map(operator.le, offsets, itertools.islice(offsets, 1, None))):
        indices = sorted(indices, key=offsets.__getitem__)  # rare: samples stored out of order
    for index in indices:
        yield offsets[index], track_id, index


def _has_fragments(moov: BoxView) -> bool:
    """Whether movie fragments may follow (an mvex box, section 8.8.1)."""
    try:
        return moov.child("mvex") is not None
    except FormatError:
        return True  # a broken moov: keep walking; parsing it reports where it breaks


def _track_defaults(moov: BoxView) -> dict[int, TrackDefaults]:
    defaults = {}
    mvex = moov.child("mvex")
    for trex in mvex.all("trex") if mvex is not None else []:
        track_id, index, duration, size, flags = trex.unpack(struct.Struct(">5I"), 4)
        defaults[track_id] = TrackDefaults(index, duration, size, flags)
    return defaults


def _edit_shift(trak: BoxView, movie_scale: int, timescale: int) -> tuple[int, int | None]:
    """(timestamp shift, edited duration) from the edit list (section 8.6.6)."""
    elst = trak.path("edts", "elst")
    if elst is None:
        return 0, None
    version, _ = elst.full_box()
    (count,) = elst.unpack(struct.Struct(">I"), 4)
    entry = struct.Struct(">Qqi" if version == 1 else ">Iii")
    if count * entry.size > len(elst.body) - 8:
        raise FormatError(f"elst lists {count} edits it does not hold", offset=elst.body_offset)
    empty = 0
    for index in range(count):
        segment, media_time, _rate = entry.unpack_from(elst.body, 8 + index * entry.size)
        if media_time == -1:
            empty += segment
            continue
        delay = _rescale(empty, timescale, movie_scale)
        duration = _rescale(segment, timescale, movie_scale) if segment else None
        return delay - media_time, duration
    return _rescale(empty, timescale, movie_scale), None


def _rescale(value: int, timescale: int, movie_scale: int) -> int:
    """Movie units → track units, rounded to nearest as ffmpeg's av_rescale does."""
    return (2 * value * timescale + movie_scale) // (2 * movie_scale)


def _video_track(entry: SampleEntry, matrix: tuple[int, ...], common: dict[str, Any]) -> VideoTrack:
    a, b = matrix[0], matrix[1]
    rotation = round(math.degrees(math.atan2(b, a))) % 360 if (a or b) else 0
    rotation = rotation if rotation in (0, 90, 180, 270) else 0
    h_spacing, v_spacing = entry.pixel_aspect
    display_width = entry.width * h_spacing // v_spacing if v_spacing else entry.width
    return VideoTrack(
        width=entry.width,
        height=entry.height,
        display_width=display_width,
        display_height=entry.height,
        rotation=rotation,
        pixel_aspect=entry.pixel_aspect,
        color=entry.color,
        **common,
    )


def _track_name(trak: BoxView) -> str | None:
    """The track's title from ``trak/udta/name``, where ffmpeg writes it (the handler's
    name is usually the writer's own, such as "VideoHandler", so it is not taken)."""
    name = trak.path("udta", "name")
    text = bytes(name.body).split(b"\0", 1)[0] if name is not None else b""
    return text.decode("utf-8", "replace") or None


def _language(code: int) -> str | None:
    """ISO 639-2/T packed in 15 bits (section 8.4.2.3)."""
    if code in (0, 0x7FFF, 0x55C4):
        return "und" if code == 0x55C4 else None
    return "".join(chr(((code >> shift) & 0x1F) + 0x60) for shift in (10, 5, 0))


#: What a track other than audio or video holds, by its handler (QuickTime File Format
#: and ISO/IEC 14496-12 8.4.3; 'text' and 'sbtl' are QuickTime's, 'subt' MP4's).
_OTHER_HANDLERS = {"text": "text", "sbtl": "subtitle", "subt": "subtitle", "clcp": "caption",
                   "tmcd": "timecode", "meta": "timed metadata", "hint": "hint"}  # fmt: skip


def _references(trak: BoxView, kind: str) -> list[int]:
    """The track IDs that ``trak/tref/<kind>`` points at ('chap': its chapter list)."""
    reference = trak.path("tref", kind)
    if reference is None:
        return []
    count = len(reference.body) // 4
    return list(struct.unpack_from(f">{count}I", reference.body))


def _dropped_track(track_id: int, handler: str, stsd: BoxView | None, chapters: set[int]) -> str:
    """The warning for a track this reader leaves out: a conversion drops subtitles, chapter
    lists, timecodes and timed metadata (phones' and action cameras' sensor tracks), and
    says which, with the sample entry's format so that the user knows what it was."""
    what = "chapter list" if track_id in chapters else _OTHER_HANDLERS.get(handler, "data")
    entry = "" if stsd is None or len(stsd.body) < 16 else bytes(stsd.body[12:16]).decode("latin-1")
    return (f"track {track_id} ({what} {entry or handler!r}) is dropped: only audio and "
            "video tracks are converted")  # fmt: skip
