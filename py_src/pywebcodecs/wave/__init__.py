"""WAV files: RIFF/RF64 ``WAVE`` with PCM audio."""
