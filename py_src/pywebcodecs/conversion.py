"""``convert_media``: the pipeline, source to sink.

    source → reader → demuxer → per track: copy (cut to the trim window)
                                          | decode → frame plan → encode | drop
           → interleaver → muxer → sink

Copying is pure Python and also runs in CPython. Re-encoding uses the browser's WebCodecs
through :mod:`pywebcodecs.browser`, imported only when a track needs it. Whatever happens,
one usage event is reported when the conversion ends (in the browser only; it never delays
or fails the conversion).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import os
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from typing import Any, NamedTuple, ParamSpec, Protocol, cast

from .audio_plan import check_audio_options
from .capabilities import Capabilities, ProbeRequest
from .demuxer import Demuxer
from .encoding import EncoderSettings
from .errors import (
    CodecError,
    ConversionAborted,
    FormatError,
    OptionError,
    PyWebCodecsError,
    UnsupportedError,
)
from .formats import muxer_class, open_demuxer
from .frame_plan import Crop, TrimWindow
from .interleave import Interleaver
from .plan import Resize, Target, TrackChoice, TrackPlan, plan_track, probe_request
from .reader import DEFAULT_WINDOW, Reader
from .runtime import IN_BROWSER
from .sink import MemorySink, Sink, fast_start_fits
from .source import Source
from .track import Packet, Track, VideoTrack
from .trim import PacketTrim


@dataclass
class ConversionProgress:
    """What ``on_progress`` receives: about ten times a second while the input is read,
    and once at the end (``done``). Counts are of what is already in the output, so they
    grow during the run; a re-encoded track lags its input by the encoder's queue."""

    fraction: float = 0.0  # 0..1 of the input's duration (or bytes, when it has none)
    input_bytes: int = 0
    bytes_read: int = 0
    input_packets: int = 0
    video_frames: int = 0  # video packets written to the output so far
    audio_frames: int = 0  # audio packets written to the output so far
    bytes_written: int = 0  # the output's size so far
    output_seconds: float = 0.0  # media time written so far
    rate: float = 0.0  # input seconds converted per second of wall-clock time
    eta_ms: float | None = None  # time left at the rate so far; None until it can be told
    elapsed_ms: float = 0.0
    done: bool = False


@dataclass(frozen=True)
class TrackOutcome:
    """What the conversion did with one input track. Every input track has one, so a
    track never disappears unnoticed: ``action`` is ``"copy"``, ``"reencode"`` or
    ``"drop"``, and ``note`` says why (``"dropped by choice"``, ``"dropped: a WAV file
    holds no video"``, ``"re-encoded from h264 to vp8 (a WEBM file cannot hold h264)"``)."""

    track_id: int
    kind: str
    input_codec: str
    action: str
    output_codec: str | None
    note: str

    @classmethod
    def of(cls, plan: TrackPlan) -> TrackOutcome:
        track = plan.track
        return cls(track.id, track.kind, track.codec, plan.action, plan.codec, plan.note)


@dataclass
class ConversionResult:
    container: str
    mime_type: str
    progress: ConversionProgress
    tracks: list[TrackOutcome]  # one per input track, in the input's order
    sink: Sink
    #: What was wrong with the input and how it was handled: a damaged or cut-off part
    #: (from the reader), timestamps repaired so the output could be written.
    warnings: list[str] = field(default_factory=list)

    @property
    def output_bytes(self) -> int:
        return self.sink.position

    def save(self) -> Any:
        """The output: a JS ``Blob`` in the browser (a ``File`` on disk when written to
        OPFS or a picked file), ``bytes`` for an in-memory sink."""
        save = getattr(self.sink, "save", None)
        if save is not None:
            return save(self.mime_type)
        if isinstance(self.sink, MemorySink):
            return self.sink.getvalue()
        raise TypeError(f"{type(self.sink).__name__} was written in place; nothing to save")

    async def remove(self) -> None:
        """Delete the output from disk when the conversion made an OPFS file for it
        (``sink="opfs"``, or a large input); nothing for other outputs."""
        remove = getattr(self.sink, "remove", None)
        if remove is not None:
            await remove()


class Stage(Protocol):
    """What the pipeline does with one input track's packets."""

    async def push(self, packet: Packet) -> None: ...

    async def flush(self) -> None: ...

    def close(self) -> None: ...


class CopyStage:
    """Remux: packets go to the output as they are (only cut to the trim window)."""

    def __init__(
        self, interleaver: Interleaver, index: int, track: Track, trim: TrimWindow | None = None
    ) -> None:
        self._interleaver = interleaver
        self._index = index
        self._track = track
        self._trim = trim and PacketTrim(trim, track.timescale, isinstance(track, VideoTrack))
        interleaver.set_track(index, track)

    async def push(self, packet: Packet) -> None:
        self._write(self._trim.push(packet) if self._trim else [packet])

    async def flush(self) -> None:
        self._write(self._trim.finish() if self._trim else [])
        self._interleaver.finish_track(self._index)

    def _write(self, packets: list[Packet]) -> None:
        track = self._track
        lead_in = self._trim.lead_in if self._trim and packets else 0
        hides = self._interleaver.muxer.hides_video_lead_in
        if lead_in and hides and isinstance(track, VideoTrack) and not track.hidden_lead_in:
            # Before the first packet: the interleaver times the track from it.
            self._track = replace(track, hidden_lead_in=lead_in)
            self._interleaver.set_track(self._index, self._track)
        for kept in packets:
            self._interleaver.push(self._index, kept)

    def close(self) -> None:
        pass


TrackCallback = Callable[[Track], Any]
ProgressCallback = Callable[[ConversionProgress], Any]


_P = ParamSpec("_P")


def _accepts_js_values(
    convert: Callable[_P, Awaitable[ConversionResult]],
) -> Callable[_P, Awaitable[ConversionResult]]:
    """In the browser, JS may call ``convert_media`` itself
    (``convert_media.callKwargs(file, {video_codec: null})``), past the options boundary
    (:mod:`.options`) of the Worker, the runner and ``engine.mjs``. Its ``null`` arrives as
    ``jsnull`` and its arrays as proxies, so the arguments go through
    :func:`~.browser.interop.from_js` first, and a ``null`` keyword means the default, as
    a left-out option does."""
    if not IN_BROWSER:
        return convert
    from pyodide.ffi import jsnull

    from .browser.interop import from_js

    @functools.wraps(convert)
    async def plain(*args: _P.args, **kwargs: _P.kwargs) -> ConversionResult:
        options = {name: from_js(value) for name, value in kwargs.items() if value is not jsnull}
        return await cast(Any, convert)(*map(from_js, args), **options)

    return plain


@_accepts_js_values
async def convert_media(
    src: Any,
    container: str = "webm",
    *,
    video_codec: TrackChoice = None,
    audio_codec: TrackChoice = None,
    on_video_track: TrackCallback | None = None,
    on_audio_track: TrackCallback | None = None,
    rotate: int = 0,
    resize: Resize | tuple[int | None, int | None] | None = None,
    crop: Crop | tuple[int, int, int, int] | None = None,
    trim: TrimWindow | tuple[float | None, float | None] | None = None,
    frame_rate: float | None = None,
    video_bitrate: int | None = None,
    audio_bitrate: int | None = None,
    quality: str = "medium",
    keyframe_interval: float = 2.0,
    hardware_acceleration: str = "no-preference",
    latency_mode: str = "quality",
    sample_rate: int | None = None,
    channels: int | None = None,
    on_progress: ProgressCallback | None = None,
    signal: Any = None,
    api_key: str | None = None,
    telemetry_endpoint: str | None = None,
    sink: Any = None,
    fast_start: bool | None = None,
    fragmented: bool = False,
) -> ConversionResult:
    """Convert ``src`` into ``container`` ("webm", "mp4", "mkv", "wav").

    ``src`` is a JS ``File``/``Blob``, a URL (in the browser) or path (in CPython), bytes, or
    a :class:`~pywebcodecs.source.Source`. ``video_codec``/``audio_codec`` are ``None``
    (copy when possible, else the container's default), ``"copy"``, ``"drop"`` or a codec
    name (``vp8``, ``vp9``, ``av1``, ``h264``, ``opus``, ``aac``…). ``on_video_track`` and
    ``on_audio_track`` get each input track and may return such a choice per track.
    ``rotate`` (clockwise degrees) and ``resize`` (``Resize`` or ``(width, height)``, one
    side may be None), ``crop`` (``(left, top, width, height)`` of the stored picture)
    and ``frame_rate`` (constant frames per second) re-encode the video. ``trim`` is
    ``(start, end)`` in seconds (either may be None). ``video_bitrate``/``audio_bitrate``
    (bits/s) or ``quality`` ("low", "medium", "high", "very-high"), ``keyframe_interval``
    (seconds), ``hardware_acceleration`` and ``latency_mode`` go to the encoders.
    ``sample_rate`` (Hz) and ``channels`` re-encode the audio to that shape (resampled,
    downmixed with the ITU-R BS.775 coefficients or mono upmixed); a track the encoder
    refuses as it is is remixed without being asked, and its note says so.
    ``signal`` is an ``AbortSignal`` (or anything with ``.aborted``). ``api_key`` is the
    site's public usage key.

    ``sink`` is where the output goes: None (a ``Blob`` in memory, or an OPFS file when
    the input is large: see :func:`pywebcodecs.sink.streams_output`), ``"memory"``,
    ``"opfs"``, a ``FileSystemFileHandle`` the user picked, or a :class:`Sink`.
    ``fast_start`` (MP4: moov before mdat; by default when the output stays in memory and
    the input is at most 256 MiB) and ``fragmented`` (MP4: moof/mdat pairs) choose the MP4
    layout.
    """
    started = time.monotonic()
    succeeded = False
    try:
        settings = EncoderSettings(video_bitrate, audio_bitrate, quality, keyframe_interval,
                                   hardware_acceleration, latency_mode)  # fmt: skip
        target_options = _TargetOptions(
            rotate, _as_resize(resize), _as_crop(crop), _as_frame_rate(frame_rate),
            _as_trim(trim), settings, *_audio_options(sample_rate, channels),
        )  # fmt: skip
        result = await _convert(
            src, container, video_codec, audio_codec, on_video_track, on_audio_track,
            target_options, on_progress, signal,
            _Output(sink, fast_start, fragmented), started,
        )  # fmt: skip
        succeeded = True
        return result
    except PyWebCodecsError:
        raise
    except Exception as exc:
        # The last safety net. Each long fuzz run of the copy path (build_scripts/fuzz_copy.py)
        # still found a new place in a few thousand damaged inputs (a struct.error in a box
        # writer, an OverflowError in a sample table), each fixed where it arose; what is
        # left reaches the caller as the engine's error, naming the input, cause attached.
        raise PyWebCodecsError(
            f"{_input_name(src)}: the conversion failed on something the engine does not "
            f"handle yet ({type(exc).__name__}: {exc}); please report it with the file"
        ) from exc
    finally:
        if IN_BROWSER:
            from .browser.telemetry import report_usage

            report_usage(api_key=api_key, succeeded=succeeded, endpoint=telemetry_endpoint)


async def _convert(
    src: Any,
    container: str,
    video_codec: TrackChoice,
    audio_codec: TrackChoice,
    on_video_track: TrackCallback | None,
    on_audio_track: TrackCallback | None,
    target_options: _TargetOptions,
    on_progress: ProgressCallback | None,
    signal: Any,
    output: _Output,
    started: float,
) -> ConversionResult:
    muxer_type = muxer_class(container)
    source = open_source(src)
    reader = await Reader.open(source, window=getattr(source, "read_window", DEFAULT_WINDOW))
    demuxer = await open_demuxer(reader)
    choices = []
    for track in demuxer.tracks:
        is_video = isinstance(track, VideoTrack)
        choice = video_codec if is_video else audio_codec
        callback = on_video_track if is_video else on_audio_track
        if callback is not None:
            answer = await _maybe_await(callback(track))
            choice = choice if answer is None else str(answer)
        choices.append(choice)
    target = Target(muxer_type, reader.name, *target_options)
    tracks = demuxer.tracks
    requests = [probe_request(t, target, c) for t, c in zip(tracks, choices, strict=True)]
    capabilities = await _probe_capabilities(requests)
    plans = [
        plan_track(track, target, choice, caps)
        for track, choice, caps in zip(tracks, choices, capabilities, strict=True)
    ]
    kept = [plan for plan in plans if plan.action != "drop"]
    if not kept:
        fates = "; ".join(f"track {plan.track.id} {plan.note}" for plan in plans)
        raise PyWebCodecsError(
            f"{reader.name}: no track left to write to {container.upper()} ({fates})"
        )

    input_size = reader.size or 0
    out_sink = await _open_sink(output.sink, input_size, muxer_type.format_name)
    muxer = muxer_type(out_sink, **output.layout(muxer_type.format_name, out_sink, input_size))
    muxer.tags, muxer.images = dict(demuxer.tags), list(demuxer.images)
    interleaver = Interleaver(muxer, len(kept))
    stages: dict[int, Stage] = {}
    try:
        for index, plan in enumerate(kept):
            stages[plan.track.id] = await _make_stage(plan, interleaver, index)
        progress = ConversionProgress(input_bytes=reader.size or 0)
        reporter = _ProgressReporter(on_progress, progress, started, interleaver, demuxer.duration)
        end = target.trim.end if target.trim else None
        with reporter.ticking():
            delivered = await _pump(demuxer, stages, interleaver, reporter, signal, end)
            for stage in stages.values():
                await stage.flush()
        _check_every_track_has_packets(reader.name, kept, interleaver, delivered)
        await interleaver.finish()
        await _sink_step(out_sink, "complete")  # flush, close: the output is whole
    except BaseException as exc:
        await _sink_step(out_sink, "abort")  # no half-written file left on disk
        if isinstance(exc, UnsupportedError | CodecError) and not str(exc).startswith(
            f"{reader.name}: "
        ):
            # The muxers and codec sessions know tracks, not files: the input's name goes
            # in front here, once, rather than threaded through each of them.
            raise type(exc)(f"{reader.name}: {exc}") from exc
        raise
    finally:
        for stage in stages.values():
            stage.close()
    progress.fraction = 1.0
    progress.done = True
    await reporter.report(force=True)
    outcomes = [TrackOutcome.of(plan) for plan in plans]
    warnings = demuxer.warnings + [plan.warning for plan in plans if plan.warning]
    warnings += [f"{reader.name}: {line}" for line in interleaver.warnings]
    return ConversionResult(container, muxer_type.mime_type, progress, outcomes, out_sink, warnings)


async def _pump(
    demuxer: Demuxer,
    stages: dict[int, Stage],
    interleaver: Interleaver,
    reporter: _ProgressReporter,
    signal: Any,
    trim_end: float | None = None,
) -> Counter[int]:
    """Feed every packet of the input to its track's stage, front to back; returns how
    many packets each kept track was given. With a trim end, reading stops once every
    kept track is well past it (a margin for reordered frames and codec delay)."""
    delivered: Counter[int] = Counter()
    progress = reporter.progress
    duration = demuxer.duration
    reader = demuxer.reader
    unfinished = set(stages)
    async for packet in demuxer.packets():
        if signal is not None and signal.aborted:
            raise ConversionAborted("the conversion was aborted")
        stage = stages.get(packet.track_id)
        progress.input_packets += 1
        if stage is None:
            continue
        if trim_end is not None:
            timescale = demuxer.track(packet.track_id).timescale
            if packet.dts / timescale >= trim_end + _PAST_END_MARGIN:
                unfinished.discard(packet.track_id)
                if not unfinished:
                    break
        delivered[packet.track_id] += 1
        await stage.push(packet)
        await interleaver.drain()
        progress.bytes_read = reader.bytes_fetched
        if duration:
            timescale = demuxer.track(packet.track_id).timescale
            progress.fraction = min(max(packet.pts / timescale / duration, progress.fraction), 1.0)
        elif reader.size:
            progress.fraction = min(reader.bytes_fetched / reader.size, 1.0)
        if reporter.due():
            await reporter.report()
    return delivered


def _check_every_track_has_packets(
    name: str, kept: list[TrackPlan], interleaver: Interleaver, delivered: Counter[int]
) -> None:
    """A kept track without a single packet would make an output that players cannot
    open (Matroska without a Cluster, MP4 without samples) or that silently lacks the
    track: an error naming the track instead, before the muxer writes its indexes."""
    for plan, out in zip(kept, interleaver.tracks, strict=True):
        if out.packets_pushed:
            continue
        track = plan.track
        if not delivered[track.id]:
            raise FormatError(
                f"no media data in track {track.id} ({track.codec}): the file holds its "
                "header but not a single packet of it (drop the track to convert the rest)",
                source=name,
            )
        raise CodecError(
            f"{name}: track {track.id} ({track.codec}): {delivered[track.id]} packets went "
            f"in, the {plan.codec} encoder gave none out"
        )


class _ProgressReporter:
    """Calls ``on_progress`` at most every :attr:`INTERVAL` seconds (and at the end) with
    what the interleaver has written so far, the rate and the time left. The final
    :class:`ConversionProgress` is filled in the same way, callback or not."""

    INTERVAL = 0.1

    def __init__(
        self,
        callback: ProgressCallback | None,
        progress: ConversionProgress,
        started: float,
        interleaver: Interleaver,
        input_seconds: float | None,
    ) -> None:
        self.callback = callback
        self.progress = progress
        self.started = started
        self._interleaver = interleaver
        self._input_seconds = input_seconds
        self._last = 0.0

    def due(self) -> bool:
        return self.callback is not None and time.monotonic() - self._last >= self.INTERVAL

    @contextlib.contextmanager
    def ticking(self) -> Iterator[None]:
        """Report every :attr:`INTERVAL` inside the block also while the pipeline waits
        (for an encoder's queue to drain, for a slow source), not only after a packet."""
        task = asyncio.ensure_future(self._tick()) if self.callback is not None else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.INTERVAL)
            await self.report()

    async def report(self, force: bool = False) -> None:
        if not force and not self.due():
            return
        self._last = time.monotonic()
        self._measure(self._last - self.started)
        if self.callback is not None:
            await _maybe_await(self.callback(_for_callback(self.progress)))

    def _measure(self, elapsed: float) -> None:
        progress, interleaver = self.progress, self._interleaver
        progress.video_frames = interleaver.packets_written("video")
        progress.audio_frames = interleaver.packets_written("audio")
        progress.bytes_written = interleaver.muxer.sink.position
        progress.output_seconds = interleaver.duration
        progress.elapsed_ms = elapsed * 1000
        fraction = progress.fraction
        if elapsed > 0 and self._input_seconds:
            progress.rate = fraction * self._input_seconds / elapsed
        if progress.done:
            progress.eta_ms = 0.0
        elif fraction > 0:
            progress.eta_ms = elapsed * 1000 * (1 - fraction) / fraction


def _for_callback(progress: ConversionProgress) -> Any:
    """A snapshot; a JS callback gets a plain object."""
    snapshot = ConversionProgress(**asdict(progress))
    if IN_BROWSER:
        from .browser.interop import wants_js

        return wants_js(snapshot)
    return snapshot


async def _maybe_await(value: Any) -> Any:
    if isinstance(value, Awaitable):
        return await value
    return value


#: Seconds past a trim's end after which a track's packets can no longer matter.
_PAST_END_MARGIN = 1.0


class _TargetOptions(NamedTuple):
    """The pixel, time, encoder and audio options, in :class:`Target`'s order."""

    rotate: int
    resize: Resize | None
    crop: Crop | None
    frame_rate: float | None
    trim: TrimWindow | None
    settings: EncoderSettings
    sample_rate: int | None
    channels: int | None


def _audio_options(sample_rate: int | None, channels: int | None) -> tuple[int | None, int | None]:
    check_audio_options(sample_rate, channels)
    return sample_rate, channels


def _as_crop(crop: Crop | tuple[int, int, int, int] | None) -> Crop | None:
    if crop is None or isinstance(crop, Crop):
        return crop
    if len(crop) != 4:
        raise OptionError(f"crop must be (left, top, width, height), got {crop!r}")
    return Crop(*(int(side) for side in crop))


def _as_trim(trim: TrimWindow | tuple[float | None, float | None] | None) -> TrimWindow | None:
    if trim is None or isinstance(trim, TrimWindow):
        return trim
    if len(trim) != 2:
        raise OptionError(f"trim must be (start, end) in seconds, got {trim!r}")
    start, end = trim
    if start is None and end is None:
        return None
    return TrimWindow(start, end)


def _as_frame_rate(frame_rate: float | None) -> float | None:
    if frame_rate is not None and (
        isinstance(frame_rate, bool)
        or not isinstance(frame_rate, int | float)
        or not 0 < frame_rate <= 1000
    ):
        raise OptionError(f"frame_rate must be frames per second > 0, got {frame_rate!r}")
    return frame_rate


def _as_resize(resize: Resize | tuple[int | None, int | None] | None) -> Resize | None:
    if resize is None or isinstance(resize, Resize):
        return resize
    width, height = resize
    return Resize(width, height)


def _input_name(src: Any) -> str:
    """The input's name for a message: a file's or source's name, a path's last part."""
    name = getattr(src, "name", None)
    if isinstance(name, str) and name:
        return name
    if isinstance(src, str | os.PathLike):
        return os.path.basename(os.fspath(src)) or str(src)
    return f"the {type(src).__name__} input"


def open_source(src: Any) -> Source:
    """A :class:`Source` for anything ``convert_media`` accepts."""
    if isinstance(src, Source):
        return src
    if isinstance(src, bytes | bytearray | memoryview):
        from .source import BytesSource

        return BytesSource(src)
    if IN_BROWSER:
        from .browser.sources import open_browser_source

        return open_browser_source(src)
    from .source import FileSource

    try:
        if os.path.isdir(src):  # os.open takes a folder; its first read would fail
            raise IsADirectoryError(errno.EISDIR, "it is a folder")
        return FileSource(src)
    except (OSError, ValueError) as exc:  # no such file, a folder, a NUL in the name...
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise PyWebCodecsError(f"{src}: cannot open the input: {reason}") from None


class _Output(NamedTuple):
    """Where the output goes and, for MP4, its layout."""

    sink: Any
    fast_start: bool | None
    fragmented: bool

    def layout(self, container: str, sink: Sink, input_size: int) -> dict[str, bool]:
        """The muxer's layout keywords (MP4 only)."""
        if container != "mp4":
            if self.fast_start or self.fragmented:
                raise OptionError("fast_start and fragmented are MP4 layouts; "
                                  f"a {container.upper()} file has one layout")  # fmt: skip
            return {}
        if self.fast_start and self.fragmented:
            raise OptionError("fast_start and fragmented are two MP4 layouts; choose one")
        fast_start = self.fast_start
        if fast_start is None:
            in_memory = bool(getattr(sink, "in_memory", False))
            fast_start = not self.fragmented and fast_start_fits(input_size, in_memory)
        return {"fast_start": fast_start, "fragmented": self.fragmented}


async def _open_sink(sink: Any, input_size: int, extension: str) -> Sink:
    if IN_BROWSER:
        from .browser.sinks import open_sink

        return await open_sink(sink, input_size, extension)
    if sink is None or sink == "memory":
        return MemorySink()
    if not hasattr(sink, "write_at"):
        raise OptionError(f"sink must be 'memory' or a Sink outside the browser, got {sink!r}")
    return sink


async def _sink_step(sink: Sink, name: str) -> None:
    """Call the sink's optional ``complete``/``abort`` step."""
    step = getattr(sink, name, None)
    if step is not None:
        await step()


async def _probe_capabilities(requests: list[ProbeRequest | None]) -> list[Capabilities | None]:
    """The browser's answers for the tracks that may be re-encoded. Outside the browser
    nothing is asked, so that the stage says re-encoding needs WebCodecs."""
    if not IN_BROWSER or not any(requests):
        return [None] * len(requests)
    from .browser.capabilities import probe_capabilities

    return await probe_capabilities(requests)


async def _make_stage(plan: TrackPlan, interleaver: Interleaver, index: int) -> Stage:
    if plan.action == "copy":
        return CopyStage(interleaver, index, plan.track, plan.trim)
    if not IN_BROWSER:
        raise PyWebCodecsError(
            f"re-encoding {plan.track.codec} to {plan.codec} needs the browser's WebCodecs; "
            "outside the browser only copy is possible"
        )
    from .browser.transcode import make_transcoder

    return await make_transcoder(plan, interleaver, index)
