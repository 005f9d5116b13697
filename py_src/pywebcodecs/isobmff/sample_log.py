"""What the MP4 writer remembers of each sample, and the sample table boxes made from it
(ISO 14496-12 sections 8.6.1-8.7.5).

Samples are kept as parallel arrays (decode time, composition offset, size, key flag),
chunks as (offset relative to the mdat payload, sample count): a two-hour track costs a
few megabytes, not an object per sample.
"""

from __future__ import annotations

import struct
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field

from .box_writer import MAX_32, full_box


@dataclass
class SampleLog:
    dts: array[int] = field(default_factory=lambda: array("q"))
    cts: array[int] = field(default_factory=lambda: array("q"))  # pts - dts
    sizes: array[int] = field(default_factory=lambda: array("q"))
    keys: bytearray = field(default_factory=bytearray)
    last_duration: int = 0
    chunk_offsets: array[int] = field(default_factory=lambda: array("q"))
    chunk_counts: array[int] = field(default_factory=lambda: array("q"))

    def __len__(self) -> int:
        return len(self.sizes)

    def add(self, dts: int, cts: int, size: int, is_key: bool, duration: int) -> None:
        self.dts.append(dts)
        self.cts.append(cts)
        self.sizes.append(size)
        self.keys.append(is_key)
        self.last_duration = duration

    def durations(self, start: int = 0, stop: int | None = None) -> list[int]:
        """Sample durations as decode-time differences, so a reader rebuilds the exact
        decode times; the last sample keeps its packet's own duration."""
        stop = len(self.dts) if stop is None else stop
        dts = self.dts
        out = [dts[i + 1] - dts[i] for i in range(start, stop - 1)]
        if stop > start:
            out.append(self.last_duration if stop == len(dts) else dts[stop] - dts[stop - 1])
        return out

    @property
    def media_duration(self) -> int:
        return sum(self.durations())

    def stbl_children(self, base: int, force_co64: bool) -> list[bytes]:
        """stts, ctts, stss, stsz, stsc, stco/co64 with chunk offsets moved by ``base``."""
        children = [_run_length("stts", self.durations(), ">II", 0)]
        if any(self.cts):
            version = 1 if min(self.cts) < 0 else 0
            children.append(_run_length("ctts", self.cts, ">Ii" if version else ">II", version))
        if not all(self.keys):
            numbers = [i + 1 for i, key in enumerate(self.keys) if key]
            children.append(full_box("stss", 0, 0, _table(">I", numbers)))
        # Always per-sample sizes: readers take a constant size in an audio track for PCM.
        children.append(full_box("stsz", 0, 0, struct.pack(">I", 0), _table(">I", self.sizes)))
        children.append(_stsc(self.chunk_counts))
        offsets = [base + offset for offset in self.chunk_offsets]
        if force_co64 or (offsets and offsets[-1] > MAX_32):
            children.append(full_box("co64", 0, 0, _table(">Q", offsets)))
        else:
            children.append(full_box("stco", 0, 0, _table(">I", offsets)))
        return children


def _table(fmt: str, values: Iterable[int]) -> bytes:
    values = list(values)
    return struct.pack(f">I{len(values)}{fmt[1:]}", len(values), *values)


def _runs(values: Iterable[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for value in values:
        if runs and runs[-1][1] == value:
            runs[-1] = (runs[-1][0] + 1, value)
        else:
            runs.append((1, value))
    return runs


def _run_length(box_type: str, values: Iterable[int], row: str, version: int) -> bytes:
    runs = _runs(values)
    flat = [number for run in runs for number in run]
    body = struct.pack(f">I{row[1:] * len(runs)}", len(runs), *flat)
    return full_box(box_type, version, 0, body)


def _stsc(counts: Iterable[int]) -> bytes:
    """One entry per run of chunks with the same sample count (section 8.7.4)."""
    rows: list[int] = []
    chunk = 1
    for run, count in _runs(counts):
        rows += (chunk, count, 1)
        chunk += run
    return full_box("stsc", 0, 0, struct.pack(f">I{len(rows)}I", len(rows) // 3, *rows))


def empty_stbl_children() -> list[bytes]:
    """The empty tables of a fragmented file's moov: samples live in the fragments."""
    no_entries = struct.pack(">I", 0)
    return [
        full_box("stts", 0, 0, no_entries),
        full_box("stsz", 0, 0, no_entries, no_entries),
        full_box("stsc", 0, 0, no_entries),
        full_box("stco", 0, 0, no_entries),
    ]
