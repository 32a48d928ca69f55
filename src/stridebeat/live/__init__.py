"""Live playback: what to play and its status, the output devices, and the callback stream."""
