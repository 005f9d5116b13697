"""The windowed reader and the sinks that every demuxer and muxer builds on."""

import pytest

from pywebcodecs.errors import FormatError
from pywebcodecs.reader import Reader
from pywebcodecs.sink import FileSink, MemorySink
from pywebcodecs.source import BytesSource, FileSource

DATA = bytes(range(256)) * 64  # 16 KiB


async def test_reads_inside_the_window_do_not_fetch_again():
    reader = await Reader.open(BytesSource(DATA), window=4096)
    assert await reader.read(10, 4) == DATA[10:14]
    assert await reader.read(100, 200) == DATA[100:300]
    assert reader.fetches == 1
    assert await reader.read(5000, 10) == DATA[5000:5010]
    assert reader.fetches == 2


async def test_large_reads_go_straight_through_and_keep_the_window():
    reader = await Reader.open(BytesSource(DATA), window=1024)
    await reader.read(0, 8)
    assert await reader.read(2000, 8000) == DATA[2000:10000]
    assert await reader.read(8, 8) == DATA[8:16]
    assert reader.fetches == 2


class LoggedSource(BytesSource):
    """Records the offset of each read, to see whether the reader walks forward."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.offsets: list[int] = []

    async def read(self, offset: int, size: int) -> bytes:
        self.offsets.append(offset)
        return await super().read(offset, size)


async def test_a_read_past_the_window_reads_on_from_its_end():
    source = LoggedSource(DATA)
    reader = await Reader.open(source, window=1024)
    assert await reader.read(0, 1000) == DATA[:1000]
    assert await reader.read(1000, 100) == DATA[1000:1100]  # 24 bytes kept, 1000 read on
    assert await reader.read(2000, 100) == DATA[2000:2100]
    assert source.offsets == [0, 1024, 2024]
    assert await reader.read(len(DATA) - 10, 20) == DATA[-10:]


async def test_reads_stop_at_the_end_of_the_file():
    reader = await Reader.open(BytesSource(DATA))
    assert await reader.read(len(DATA) - 3, 10) == DATA[-3:]
    assert await reader.read(len(DATA) + 5, 10) == b""


async def test_read_exact_names_what_was_cut_off():
    reader = await Reader.open(BytesSource(DATA, name="clip.mp4"))
    with pytest.raises(FormatError) as caught:
        await reader.read_exact(len(DATA) - 4, 8, "the moov box", "MP4")
    assert str(caught.value) == (
        f"clip.mp4: MP4: at byte {len(DATA) - 4}: file ends inside the moov box: "
        "needed 8 bytes, 4 left"
    )


async def test_file_source_reads_ranges(tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(DATA)
    with FileSource(path) as source:
        assert await source.size() == len(DATA)
        assert await source.read(1000, 24) == DATA[1000:1024]
        assert source.name == "data.bin"


async def test_memory_sink_patches_across_chunk_boundaries():
    sink = MemorySink()
    for part in (b"aaaa", b"bbbb", b"cccc"):
        await sink.write(part)
    await sink.write_at(2, b"XYZWV")
    assert sink.getvalue() == b"aaXYZWVbcccc"
    assert sink.position == 12
    with pytest.raises(ValueError):
        await sink.write_at(10, b"too long")


async def test_file_sink_patches_and_keeps_appending(tmp_path):
    path = tmp_path / "out.bin"
    sink = FileSink(path)
    await sink.write(b"header--body")
    await sink.write_at(0, b"HEADER")
    await sink.write(b"++")
    sink.close()
    assert path.read_bytes() == b"HEADER--body++"
