"""Configuration: the settings vocabulary shared by options and preset keys, presets, and the one job type."""
