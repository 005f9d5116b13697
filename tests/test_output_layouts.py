"""Output choices that need no browser: the MP4 layouts (fast start, fragmented) as
ffprobe and the top-level box order show them, when a conversion streams to disk, and
the streamed sink's positioned writes."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from oracle import decode_errors, ffprobe_format, make
from pywebcodecs import OptionError, convert_media
from pywebcodecs.options import conversion_kwargs
from pywebcodecs.sink import MemorySink, StreamedSink, fast_start_fits, streams_output

TWO_SECONDS = [
    "-f", "lavfi", "-i", "testsrc2=size=96x64:rate=15:duration=2",
    "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=2",
    "-c:v", "libx264", "-g", "15", "-c:a", "aac", "-shortest",
]  # fmt: skip


def top_boxes(data: bytes) -> list[str]:
    boxes, pos = [], 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack_from(">I4s", data, pos)
        if size == 1:
            (size,) = struct.unpack_from(">Q", data, pos + 8)
        boxes.append(kind.decode())
        pos += size
    return boxes


@pytest.mark.parametrize(
    ("options", "order"),
    [
        ({}, ["ftyp", "moov", "mdat"]),  # in memory and small: fast start by default
        ({"fast_start": False}, ["ftyp", "mdat", "moov"]),
        ({"fragmented": True}, ["ftyp", "moov", "moof", "mdat"]),
    ],
)
async def test_mp4_layouts(options: dict, order: list[str], tmp_path: Path) -> None:
    src = make("layouts-2s.mp4", *TWO_SECONDS)
    result = await convert_media(str(src), "mp4", **options)
    out = tmp_path / "out.mp4"
    out.write_bytes(result.save())
    boxes = top_boxes(out.read_bytes())
    assert [box for i, box in enumerate(boxes) if box not in boxes[:i]] == order
    if options.get("fragmented"):
        assert boxes.count("moof") >= 2  # a fragment per keyframe (every second)
    assert float(ffprobe_format(out)["duration"]) == pytest.approx(2.0, abs=0.07)
    assert decode_errors(out) == ""


async def test_layout_options_are_checked() -> None:
    src = make("layouts-2s.mp4", *TWO_SECONDS)
    with pytest.raises(OptionError, match="two MP4 layouts"):
        await convert_media(str(src), "mp4", fast_start=True, fragmented=True)
    with pytest.raises(OptionError, match="MP4 layouts"):
        await convert_media(str(src), "mkv", fragmented=True)
    with pytest.raises(OptionError, match="sink must be"):
        await convert_media(str(src), "mkv", sink="opfs")


def test_when_the_output_goes_to_disk() -> None:
    assert not streams_output(900 << 20, None)
    assert streams_output((1 << 30) + 1, None)
    assert streams_output(600 << 20, 2)  # a quarter of 2 GiB of device memory
    assert not streams_output(600 << 20, 8)
    assert fast_start_fits(100 << 20, in_memory=True)
    assert not fast_start_fits(100 << 20, in_memory=False)
    assert not fast_start_fits(300 << 20, in_memory=True)


class _Recorder(StreamedSink):
    def __init__(self) -> None:
        super().__init__()
        self.file = bytearray()
        self.puts: list[tuple[int, int]] = []

    async def put(self, offset: int, data: bytes | bytearray | memoryview) -> None:
        self.puts.append((offset, len(data)))
        self.file[offset : offset + len(data)] = data


async def test_streamed_sink_patches_sent_and_buffered_bytes(monkeypatch) -> None:
    monkeypatch.setattr("pywebcodecs.sink.STREAM_CHUNK_BYTES", 8)
    sink, expected = _Recorder(), MemorySink()
    for part in (b"aaaaaa", b"bbbbbb", b"cccc"):
        await sink.write(part)
        await expected.write(part)
    await sink.write_at(4, b"XYZWVUTS")  # spans handed-on and buffered bytes
    await expected.write_at(4, b"XYZWVUTS")
    await sink.flush()
    assert bytes(sink.file) == expected.getvalue()
    assert sink.puts[0] == (0, 12) and sink.position == 16


def test_js_options_for_the_output() -> None:
    assert conversion_kwargs({"sink": "opfs", "fastStart": True, "fragmented": None}) == {
        "sink": "opfs",
        "fast_start": True,
    }
    with pytest.raises(OptionError, match="fastStart must be true or false"):
        conversion_kwargs({"fastStart": 1})
    with pytest.raises(OptionError, match="sink must be 'memory', 'opfs'"):
        conversion_kwargs({"sink": "disk"})
