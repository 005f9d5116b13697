"""MPEG audio files (MP3, and MP1/MP2) with ID3 tags."""
