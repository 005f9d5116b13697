"""Free-format MPEG audio (bitrate index 0) gets a specific error, not a generic "no frame":
its frame lengths are not in the headers, so this reader cannot delimit packets."""

from __future__ import annotations

import pytest

from pywebcodecs.errors import FormatError
from pywebcodecs.mp3.demuxer import Mp3Demuxer
from pywebcodecs.reader import Reader
from pywebcodecs.source import BytesSource

FREE_FORMAT_FRAME = b"\xff\xfb\x04\x00" + bytes(400)  # MPEG-1 Layer III, 44.1 kHz, index 0
ID3_EMPTY = b"ID3\x04\x00\x00\x00\x00\x00\x00"


@pytest.mark.parametrize("prefix", [b"", ID3_EMPTY], ids=["bare", "after-id3"])
async def test_free_format_stream_is_rejected_by_name(prefix: bytes) -> None:
    demuxer = Mp3Demuxer(await Reader.open(BytesSource(prefix + FREE_FORMAT_FRAME * 8, "f.mp3")))
    with pytest.raises(FormatError, match="free-format MPEG audio") as caught:
        await demuxer.open()
    assert caught.value.offset == len(prefix)


async def test_zeros_still_say_no_frame_was_found() -> None:
    demuxer = Mp3Demuxer(await Reader.open(BytesSource(ID3_EMPTY + bytes(4000), "z.mp3")))
    with pytest.raises(FormatError, match="no MPEG audio frame found"):
        await demuxer.open()
