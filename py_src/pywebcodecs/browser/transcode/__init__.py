"""Re-encoding stages: WebCodecs decoder → (frame or sample transforms) → encoder, driven
from Python.

Decoded ``VideoFrame``/``AudioData`` objects never enter Python: the decoder's output
callback hands each one straight to the encoder and closes it. Only the encoder's chunks
are copied into Python bytes for the muxer. :mod:`.session` holds what both kinds share,
:mod:`.video_session` and :mod:`.audio_session` one kind each, and the transforms and the
PCM stand-in encoder have modules of their own.
"""

from __future__ import annotations

from ...interleave import Interleaver
from ...plan import TrackPlan
from ...track import VideoTrack
from .audio_session import AudioSession
from .video_session import VideoSession


async def make_transcoder(
    plan: TrackPlan, interleaver: Interleaver, index: int
) -> VideoSession | AudioSession:
    """A started session for a track the plan re-encodes (closed again if it fails to
    start)."""
    stage: VideoSession | AudioSession
    if isinstance(plan.track, VideoTrack):
        stage = VideoSession(plan, interleaver, index)
    else:
        stage = AudioSession(plan, interleaver, index)
    try:
        await stage.start()
    except BaseException:
        stage.close()
        raise
    return stage
