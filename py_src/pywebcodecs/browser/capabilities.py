"""Fills :class:`~pywebcodecs.capabilities.Capabilities` from WebCodecs' answers.

Only the tracks a plan may re-encode are asked about, and only about the codecs that plan
may pick, in its order of preference, stopping at the first the encoder takes. Tracks,
and each track's decoder and encoders, are asked at the same time (``asyncio.gather``).
Audio encoders are asked about the output's shape (the caller's ``sample_rate`` and
``channels``, the track's where not given). Only an audio encoder that refused is asked
again, all at once, with fewer channels and at 48 kHz, to learn whether the channel count
or the sample rate is the cause.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import js
from pyodide.ffi import JsException

from ..audio_plan import REFERENCE_RATE
from ..capabilities import Capabilities, EncoderCheck, ProbeRequest, decoder_config
from ..encoding import PCM_ENCODERS, audio_encoder_config, video_encoder_config
from ..track import AudioTrack, Track, VideoTrack
from .interop import js_bytes, js_object


async def probe_capabilities(requests: list[ProbeRequest | None]) -> list[Capabilities | None]:
    """One :class:`Capabilities` per request (None where nothing is asked)."""
    asked = [request for request in requests if request is not None]
    answers = iter(await asyncio.gather(*(_probe(request) for request in asked)))
    return [None if request is None else next(answers) for request in requests]


async def _probe(request: ProbeRequest) -> Capabilities:
    decodable, checks = await asyncio.gather(_decodable(request.track), _encoder_checks(request))
    return Capabilities(decodable, {check.codec: check for check in checks})


async def _decodable(track: Track) -> bool:
    codec_class = js.VideoDecoder if isinstance(track, VideoTrack) else js.AudioDecoder
    return await supported(codec_class, js_decoder_config(track))


def js_decoder_config(track: Track) -> Any:
    """:func:`~pywebcodecs.capabilities.decoder_config` as the JS object WebCodecs takes:
    the probe and the stage that decodes use this same config."""
    config = decoder_config(track)
    if "description" in config:
        config["description"] = js_bytes(config["description"])
    return js_object(config)


async def _encoder_checks(request: ProbeRequest) -> list[EncoderCheck]:
    """The encoders in preference order, up to the first that takes the track: the plan
    picks that one, so asking about the rest would only cost start-up time (a VP9
    encoder probe alone can take ~100 ms). All are asked only when all refuse, and then
    every refusal is known for the error."""
    checks = []
    for codec in request.codecs:
        check = await _encoder_check(request, codec)
        checks.append(check)
        if check.supported:
            break
    return checks


async def _encoder_check(request: ProbeRequest, codec: str) -> EncoderCheck:
    track = request.track
    if isinstance(track, VideoTrack):
        width, height = request.size or (track.width, track.height)
        frame_rate = request.frame_rate or track.frame_rate
        config = video_encoder_config(codec, width, height, frame_rate, request.settings)
        return EncoderCheck(codec, await supported(js.VideoEncoder, config))
    assert isinstance(track, AudioTrack)
    return await _audio_check(track, codec, request)


async def _audio_check(track: AudioTrack, codec: str, request: ProbeRequest) -> EncoderCheck:
    """Whether ``codec``'s encoder takes this track at the asked rate and channel count
    (the track's where not asked); when not, whether fewer channels or the reference
    sample rate would have been taken (the cause an error should name)."""
    if codec in PCM_ENCODERS:
        return EncoderCheck(codec, True)
    rate, channels = request.audio_shape()
    settings = request.settings
    asked = EncoderCheck(codec, True, sample_rate=request.sample_rate, channels=request.channels)
    if await supported(js.AudioEncoder, audio_encoder_config(codec, rate, channels, settings)):
        return asked
    fewer = range(channels - 1, 0, -1)
    answers = await asyncio.gather(
        supported(js.AudioEncoder, audio_encoder_config(codec, REFERENCE_RATE, channels)),
        *(supported(js.AudioEncoder, audio_encoder_config(codec, rate, n)) for n in fewer),
    )
    rate_refused = rate != REFERENCE_RATE and answers[0]
    max_channels = next((n for n, ok in zip(fewer, answers[1:], strict=True) if ok), None)
    return replace(asked, supported=False, max_channels=max_channels, rate_refused=rate_refused)


async def supported(codec_class: Any, config: Any) -> bool:
    """``codec_class.isConfigSupported(config)`` (a dict or a JS object); a config it
    throws on is unsupported."""
    if isinstance(config, dict):
        config = js_object(config)
    try:
        return bool((await codec_class.isConfigSupported(config)).supported)
    except JsException:
        return False
