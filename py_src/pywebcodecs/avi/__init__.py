"""AVI files (RIFF 'AVI ' and OpenDML 'AVIX')."""
