"""Sample tables (ISO 14496-12 section 8.6-8.7) and track fragments (section 8.8) as arrays.

Every track becomes four parallel arrays: byte offset, size, decode time, composition
offset, plus a key flag per sample. Arrays (not one object per sample) keep a two-hour
file's 200 000 samples small and quick to build. Every count read from a box is checked
against the bytes the box really holds before anything is allocated from it.
"""

from __future__ import annotations

import struct
from array import array
from dataclasses import dataclass, field

from ..errors import FormatError
from .boxes import BoxView

_U32 = struct.Struct(">I")
PCM_PACKET_SAMPLES = 1024
#: More constant-size samples than this (155 hours at 30 fps) are not believed: with a
#: constant size, stsz's count is the only thing that says how many there are.
MAX_CONSTANT_SIZE_SAMPLES = 1 << 24


@dataclass
class Samples:
    offsets: array[int] = field(default_factory=lambda: array("q"))
    sizes: array[int] = field(default_factory=lambda: array("q"))
    dts: array[int] = field(default_factory=lambda: array("q"))
    cts: array[int] = field(default_factory=lambda: array("q"))  # composition offset
    durations: array[int] = field(default_factory=lambda: array("q"))
    keys: bytearray = field(default_factory=bytearray)
    #: How far the decode times were moved down for negative composition offsets.
    dts_shift: int = 0

    def __len__(self) -> int:
        return len(self.sizes)

    def shift_decode_times(self, shift: int) -> None:
        """Decode times ``shift`` earlier, presentation times unchanged: what ffmpeg does
        when ``ctts`` has negative offsets, so that no frame is shown before it is decoded."""
        self.dts = array("q", [dts - shift for dts in self.dts])
        self.cts = array("q", [cts + shift for cts in self.cts])
        self.dts_shift += shift


def _entries(box: BoxView, header: int, entry_size: int, what: str) -> tuple[int, int]:
    """(count, start) of a table of fixed-size entries after ``header`` bytes."""
    (count,) = box.unpack(_U32, header - 4)
    available = (len(box.body) - header) // entry_size
    if count > available:
        raise FormatError(
            f"{box.type!r} box lists {count} {what} but holds only {available}",
            offset=box.body_offset,
        )
    return count, header


def _pairs(box: BoxView, what: str, signed_second: bool = False) -> list[tuple[int, int]]:
    count, start = _entries(box, 8, 8, what)
    fmt = ">" + ("Ii" if signed_second else "II") * count
    values = struct.unpack_from(fmt, box.body, start)
    return list(zip(values[0::2], values[1::2], strict=True))


def read_sample_table(stbl: BoxView, is_audio: bool) -> Samples:
    """Expand stts/ctts/stss/stsz/stsc/stco into per-sample arrays (packets as ffprobe
    counts them: constant-size audio such as PCM is one packet per chunk)."""
    sizes, constant_size, sample_count = _sample_sizes(stbl)
    stts = _box(stbl, "stts")
    deltas = _pairs(stts, "time entries")
    chunk_offsets = _chunk_offsets(stbl)
    stsc = _box(stbl, "stsc")
    count, start = _entries(stsc, 8, 12, "chunk runs")
    runs = struct.unpack_from(f">{count * 3}I", stsc.body, start)
    samples = Samples()
    if constant_size and is_audio:
        return _chunk_packets(samples, runs, chunk_offsets, constant_size, sample_count, deltas)
    if constant_size:
        if sample_count > MAX_CONSTANT_SIZE_SAMPLES:
            raise FormatError(f"stsz claims {sample_count} samples of {constant_size} bytes",
                              offset=stbl.body_offset)  # fmt: skip
        sizes = array("q", [constant_size]) * sample_count
    _fill_times(samples, deltas, sample_count)
    ctts = stbl.child("ctts")
    if ctts is not None:
        pairs = _pairs(ctts, "composition offsets", signed_second=True)
        for run, offset in pairs:
            samples.cts.extend([offset] * min(run, sample_count - len(samples.cts)))
        # ffmpeg (mov_read_ctts) takes the shift from all entries but the last two.
        shift = max((-offset for _, offset in pairs[:-2] if offset < 0), default=0)
    else:
        shift = 0
    samples.cts.extend([0] * (sample_count - len(samples.cts)))
    samples.sizes = array("q", sizes)
    _fill_offsets(samples, runs, chunk_offsets, sample_count)
    if shift:
        samples.shift_decode_times(shift)
    stss = stbl.child("stss")
    if stss is None:
        samples.keys = bytearray(b"\x01" * len(samples.sizes))
    else:
        count, start = _entries(stss, 8, 4, "sync samples")
        samples.keys = bytearray(len(samples.sizes))
        for number in struct.unpack_from(f">{count}I", stss.body, start):
            if 0 < number <= len(samples.keys):
                samples.keys[number - 1] = 1
    return samples


def _box(parent: BoxView, box_type: str) -> BoxView:
    box = parent.child(box_type)
    if box is None:
        raise FormatError(f"sample table has no {box_type!r} box", offset=parent.body_offset)
    return box


def _sample_sizes(stbl: BoxView) -> tuple[array[int], int, int]:
    """(per-sample sizes, the constant size or 0, the sample count)."""
    stsz = stbl.child("stsz")
    if stsz is not None:
        constant, count = stsz.unpack(struct.Struct(">II"), 4)
        if constant:
            return array("q"), constant, count
        count, start = _entries(stsz, 12, 4, "sample sizes")
        return array("q", struct.unpack_from(f">{count}I", stsz.body, start)), 0, count
    stz2 = _box(stbl, "stz2")
    field_size = stz2.unpack(struct.Struct(">I"), 4)[0] & 0xFF
    (count,) = stz2.unpack(_U32, 8)
    if field_size not in (4, 8, 16) or count * field_size > (len(stz2.body) - 12) * 8:
        raise FormatError(f"stz2 box with field size {field_size} cannot hold {count} sizes")
    data = stz2.body[12:]
    if field_size == 16:
        return array("q", struct.unpack_from(f">{count}H", data)), 0, count
    if field_size == 8:
        return array("q", data[:count]), 0, count
    nibbles = [n for byte in data[: (count + 1) // 2] for n in (byte >> 4, byte & 15)]
    return array("q", nibbles[:count]), 0, count


def _chunk_offsets(stbl: BoxView) -> tuple[int, ...]:
    stco = stbl.child("stco")
    if stco is not None:
        count, start = _entries(stco, 8, 4, "chunk offsets")
        return struct.unpack_from(f">{count}I", stco.body, start)
    co64 = _box(stbl, "co64")
    count, start = _entries(co64, 8, 8, "chunk offsets")
    return struct.unpack_from(f">{count}Q", co64.body, start)


def _fill_times(samples: Samples, deltas: list[tuple[int, int]], count: int) -> None:
    time = 0
    for run, delta in deltas:
        take = min(run, count - len(samples.dts))
        samples.dts.extend(range(time, time + take * delta, delta) if delta else [time] * take)
        samples.durations.extend([delta] * take)
        time += take * delta
    missing = count - len(samples.dts)
    if missing:  # stts shorter than stsz: the last delta goes on
        delta = deltas[-1][1] if deltas else 0
        samples.dts.extend(time + i * delta for i in range(missing))
        samples.durations.extend([delta] * missing)


def _chunk_runs(runs: tuple[int, ...], chunk_count: int) -> list[int]:
    """Samples per chunk for every chunk, from stsc's runs."""
    per_chunk = []
    for index in range(0, len(runs), 3):
        first = runs[index] - 1
        last = runs[index + 3] - 1 if index + 3 < len(runs) else chunk_count
        per_chunk.extend([runs[index + 1]] * max(0, min(last, chunk_count) - first))
    return per_chunk


def _fill_offsets(samples: Samples, runs: tuple[int, ...], chunks: tuple[int, ...],
                  count: int) -> None:  # fmt: skip
    sizes = samples.sizes
    offsets = samples.offsets
    index = 0
    for chunk, in_chunk in zip(chunks, _chunk_runs(runs, len(chunks)), strict=False):
        offset = chunk
        for _ in range(min(in_chunk, count - index)):
            offsets.append(offset)
            offset += sizes[index]
            index += 1
        if index >= count:
            break
    if index < count:  # the chunk table ends before the samples do
        for arr in (samples.sizes, samples.dts, samples.cts, samples.durations):
            del arr[index:]


def _chunk_packets(samples: Samples, runs: tuple[int, ...], chunks: tuple[int, ...],
                   size: int, total: int, deltas: list[tuple[int, int]]) -> Samples:  # fmt: skip
    """Constant-size audio (PCM): packets of at most 1024 samples cut from each chunk,
    which is how ffmpeg presents them; no more than stsz's ``total`` samples in all."""
    delta = deltas[0][1] if deltas else 1
    time = 0
    for chunk, in_chunk in zip(chunks, _chunk_runs(runs, len(chunks)), strict=False):
        offset = chunk
        in_chunk = min(in_chunk, total)
        total -= in_chunk
        for first in range(0, in_chunk, PCM_PACKET_SAMPLES):
            count = min(PCM_PACKET_SAMPLES, in_chunk - first)
            samples.offsets.append(offset)
            samples.sizes.append(count * size)
            samples.dts.append(time)
            samples.cts.append(0)
            samples.durations.append(count * delta)
            offset += count * size
            time += count * delta
    samples.keys = bytearray(b"\x01" * len(samples.sizes))
    return samples


@dataclass
class TrackDefaults:
    """trex (section 8.8.3): what a track fragment falls back on."""

    description_index: int = 1
    duration: int = 0
    size: int = 0
    flags: int = 0


_NON_SYNC = 0x10000


def read_track_fragment(traf: BoxView, moof_offset: int, defaults: dict[int, TrackDefaults],
                        next_dts: dict[int, int], out: dict[int, Samples]) -> None:  # fmt: skip
    """Append the samples of one ``traf`` to ``out[track_id]`` (sections 8.8.7-8.8.12)."""
    tfhd = traf.child("tfhd")
    if tfhd is None:
        raise FormatError("traf box without tfhd", offset=traf.body_offset)
    _, flags = tfhd.full_box()
    (track_id,) = tfhd.unpack(_U32, 4)
    base = defaults.get(track_id, TrackDefaults())
    pos = 8
    base_offset = moof_offset
    if flags & 0x1:
        (base_offset,) = tfhd.unpack(struct.Struct(">Q"), pos)
        _check_64(base_offset, f"track {track_id}: tfhd base data offset", tfhd)
        pos += 8
    if flags & 0x2:
        pos += 4
    duration, size, sample_flags = base.duration, base.size, base.flags
    for bit, name in ((0x8, "duration"), (0x10, "size"), (0x20, "flags")):
        if flags & bit:
            (value,) = tfhd.unpack(_U32, pos)
            pos += 4
            if name == "duration":
                duration = value
            elif name == "size":
                size = value
            else:
                sample_flags = value
    tfdt = traf.child("tfdt")
    if tfdt is not None:
        version, _ = tfdt.full_box()
        fmt = struct.Struct(">Q" if version == 1 else ">I")
        (next_dts[track_id],) = tfdt.unpack(fmt, 4)
        _check_64(next_dts[track_id], f"track {track_id}: tfdt decode time", tfdt)
    samples = out.setdefault(track_id, Samples())
    data_end = base_offset
    for trun in traf.all("trun"):
        data_end = _read_trun(trun, base_offset, data_end, duration, size, sample_flags,
                              track_id, next_dts, samples)  # fmt: skip


#: 64-bit fields are read into signed 64-bit tables with sample sizes and durations (at most
#: 2^32 each) added: values past this are damage, not a file anyone could have written.
_MAX_64 = 1 << 62


def _check_64(value: int, what: str, box: BoxView) -> None:
    if value >= _MAX_64:
        raise FormatError(f"{what} {value} is out of range", offset=box.body_offset)


def _read_trun(trun: BoxView, base_offset: int, data_end: int, duration: int, size: int,
               sample_flags: int, track_id: int, next_dts: dict[int, int],
               samples: Samples) -> int:  # fmt: skip
    version, flags = trun.full_box()
    (count,) = trun.unpack(_U32, 4)
    pos = 8
    offset = data_end
    if flags & 0x1:
        (relative,) = trun.unpack(struct.Struct(">i"), pos)
        offset = base_offset + relative
        pos += 4
    first_flags = None
    if flags & 0x4:
        (first_flags,) = trun.unpack(_U32, pos)
        pos += 4
    fields = [bit for bit in (0x100, 0x200, 0x400, 0x800) if flags & bit]
    if count * 4 * len(fields) > len(trun.body) - pos:
        raise FormatError(f"trun box lists {count} samples it does not hold",
                          offset=trun.body_offset)  # fmt: skip
    row = struct.Struct(">" + "".join("i" if bit == 0x800 and version else "I" for bit in fields))
    dts = next_dts.get(track_id, 0)
    for index in range(count):
        values = dict(zip(fields, row.unpack_from(trun.body, pos), strict=True)) if fields else {}
        pos += row.size
        sample_duration = values.get(0x100, duration)
        sample_size = values.get(0x200, size)
        this_flags = values.get(0x400, first_flags if index == 0 and first_flags is not None
                                else sample_flags)  # fmt: skip
        samples.offsets.append(offset)
        samples.sizes.append(sample_size)
        samples.dts.append(dts)
        samples.cts.append(values.get(0x800, 0))
        samples.durations.append(sample_duration)
        samples.keys.append(0 if this_flags & _NON_SYNC else 1)
        offset += sample_size
        dts += sample_duration
    next_dts[track_id] = dts
    return offset
