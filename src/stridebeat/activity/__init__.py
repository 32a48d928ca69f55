"""Recorded runs (FIT, TCX, GPX): read once, shared by calibrate and review."""
