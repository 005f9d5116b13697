"""What the page shows before a conversion: the file's tracks, the codecs this browser can
encode for each, and what "automatic" would do with each track in each container.

The page offers only choices that can work, so it asks the browser's encoders
(``isConfigSupported``) about every codec the engine writes, at each track's own size,
sample rate and channel count, once per file. "Automatic" is explained with the engine's
own planner (:func:`~pywebcodecs.plan.plan_track`) fed those same answers, so the page
never tells a different story than the conversion will.
"""

from __future__ import annotations

import asyncio
from typing import Any

import js

from ..capabilities import Capabilities, EncoderCheck
from ..encoding import (
    AUDIO_ENCODERS,
    PCM_ENCODERS,
    VIDEO_ENCODERS,
    audio_encoder_config,
    video_encoder_config,
)
from ..errors import UnsupportedError
from ..formats import MUXERS
from ..plan import Target, plan_track
from ..probe import parse_media
from ..track import AudioTrack, Track, VideoTrack
from .capabilities import js_decoder_config, supported


async def inspection(src: Any) -> dict[str, Any]:
    """``parse_media``'s description of ``src`` (JSON-ready) plus, per track,
    ``decodable`` and ``encodable`` (codecs), and per container the automatic plan:
    ``automatic[container]`` as is, ``automaticTransformed[container]`` when rotate or
    resize change the pixels; each a list of ``{track_id, action, codec, note}``."""
    info = await parse_media(src, count_packets=False)
    capabilities = await asyncio.gather(*(_capabilities(track) for track in info.tracks))
    described = info.to_dict()
    for track, caps in zip(described["tracks"], capabilities, strict=True):
        track["decodable"] = caps.decodable
        track["encodable"] = sorted(c for c, check in caps.encoders.items() if check.supported)
    described["holds"] = {name: sorted(muxer.codecs) for name, muxer in MUXERS.items()}
    described["automatic"], described["automaticTransformed"] = (
        {name: _automatic(info.name, info.tracks, capabilities, name, rotate) for name in MUXERS}
        for rotate in (0, 90)
    )
    return described


async def _capabilities(track: Track) -> Capabilities:
    codecs = sorted(VIDEO_ENCODERS if isinstance(track, VideoTrack) else AUDIO_ENCODERS)
    decoder = js.VideoDecoder if isinstance(track, VideoTrack) else js.AudioDecoder
    decodable, *answers = await asyncio.gather(
        supported(decoder, js_decoder_config(track)),
        *(_encodes(track, codec) for codec in codecs),
    )
    checks = {codec: EncoderCheck(codec, ok) for codec, ok in zip(codecs, answers, strict=True)}
    return Capabilities(decodable, checks)


async def _encodes(track: Track, codec: str) -> bool:
    if isinstance(track, VideoTrack):
        config = video_encoder_config(codec, track.width, track.height, track.frame_rate)
        return await supported(js.VideoEncoder, config)
    assert isinstance(track, AudioTrack)
    if codec in PCM_ENCODERS:
        return True
    config = audio_encoder_config(codec, track.sample_rate, track.channels)
    return await supported(js.AudioEncoder, config)


def _automatic(
    source: str, tracks: list[Track], capabilities: list[Capabilities], container: str,
    rotate: int,
) -> list[dict[str, Any]]:  # fmt: skip
    target = Target(MUXERS[container], source, rotate)
    plans = []
    for track, caps in zip(tracks, capabilities, strict=True):
        try:
            plan = plan_track(track, target, None, caps)
        except UnsupportedError as exc:
            plans.append({"track_id": track.id, "action": "fail", "codec": None,
                          "note": str(exc)})  # fmt: skip
            continue
        plans.append({"track_id": track.id, "action": plan.action, "codec": plan.codec,
                      "note": plan.note})  # fmt: skip
    return plans
