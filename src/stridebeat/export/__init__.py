"""Files: the audio export (WAV, FLAC, OGG, MP3), markers and labels, written atomically."""
