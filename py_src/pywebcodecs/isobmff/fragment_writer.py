"""Movie fragments for the fragmented MP4 layout (ISO 14496-12 sections 8.8.4-8.8.12).

One fragment is a ``moof`` with a ``traf`` per track (tfhd with default-base-is-moof,
tfdt, one trun with duration, size, flags and signed composition offset per sample) and
the ``mdat`` holding each track's samples in turn.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from .box_writer import MAX_32, box, full_box, large_box_header

_DEFAULT_BASE_IS_MOOF = 0x020000
#: trun flags: data-offset, sample duration, size, flags, composition offset present.
_TRUN_FLAGS = 0x000001 | 0x000100 | 0x000200 | 0x000400 | 0x000800
#: sample_flags (section 8.8.3.1): a sync sample depends on nothing; others depend on
#: earlier samples and are marked sample_is_non_sync_sample.
SYNC_FLAGS = 0x02000000
NON_SYNC_FLAGS = 0x01010000


@dataclass
class TrackRun:
    track_id: int
    decode_time: int
    durations: list[int]
    sizes: list[int]
    keys: bytes
    composition_offsets: list[int]
    data: list[bytes]


def fragment(sequence: int, runs: list[TrackRun]) -> list[bytes]:
    """``moof`` + ``mdat`` header, then the sample data: the pieces to write in order."""
    moof_size = len(_moof(sequence, runs, [0] * len(runs)))
    payload = sum(sum(run.sizes) for run in runs)
    header_size = 8 if payload + 8 <= MAX_32 else 16
    offsets = []
    at = moof_size + header_size
    for run in runs:
        offsets.append(at)
        at += sum(run.sizes)
    header = (
        struct.pack(">I4s", payload + 8, b"mdat")
        if header_size == 8
        else large_box_header("mdat", payload + 16)
    )
    pieces = [_moof(sequence, runs, offsets), header]
    for run in runs:
        pieces.extend(run.data)
    return pieces


def _moof(sequence: int, runs: list[TrackRun], data_offsets: list[int]) -> bytes:
    trafs = [_traf(run, offset) for run, offset in zip(runs, data_offsets, strict=True)]
    return box("moof", full_box("mfhd", 0, 0, struct.pack(">I", sequence)), *trafs)


def _traf(run: TrackRun, data_offset: int) -> bytes:
    rows = [
        value
        for duration, size, key, cts in zip(
            run.durations, run.sizes, run.keys, run.composition_offsets, strict=True
        )
        for value in (duration, size, SYNC_FLAGS if key else NON_SYNC_FLAGS, cts)
    ]
    trun = full_box(
        "trun",
        1,
        _TRUN_FLAGS,
        struct.pack(f">Ii{'IIIi' * len(run.sizes)}", len(run.sizes), data_offset, *rows),
    )
    return box(
        "traf",
        full_box("tfhd", 0, _DEFAULT_BASE_IS_MOOF, struct.pack(">I", run.track_id)),
        full_box("tfdt", 1, 0, struct.pack(">Q", run.decode_time)),
        trun,
    )
