"""The engine: race model → stride model → schedule → track → block renderer, plus the sounds and voice it places.

Pure computation on numpy. Nothing here imports the configuration layer, the shells, or click, rich, soundfile or
sounddevice (an import-linter contract in pyproject.toml holds it to that).
"""
