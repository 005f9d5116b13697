"""A muxer's refusal reaches the caller naming the input file: the muxers know tracks, not
files, so convert_media adds the name once, where it drives them. CPython, copy path."""

from __future__ import annotations

from pathlib import Path

import pytest

from oracle import make
from pywebcodecs import UnsupportedError, convert_media
from pywebcodecs.sink import FileSink


async def test_a_muxer_refusal_names_the_input_file(tmp_path: Path) -> None:
    """Two PCM tracks copied into WAV, which holds one: the WAV writer refuses the second
    when it is added, and the message starts with the input's name, once."""
    source = make("two-pcm-tracks.mkv", "-f", "lavfi", "-i", "sine=frequency=440:duration=0.5",
                  "-f", "lavfi", "-i", "sine=frequency=880:duration=0.5",
                  "-map", "0:a", "-map", "1:a", "-c:a", "pcm_s16le")  # fmt: skip
    output = tmp_path / "out.wav"
    sink = FileSink(output)
    try:
        with pytest.raises(UnsupportedError) as error:
            await convert_media(str(source), "wav", audio_codec="copy", sink=sink)
    finally:
        sink.close()
    assert str(error.value) == "two-pcm-tracks.mkv: a WAV file holds one audio track"
