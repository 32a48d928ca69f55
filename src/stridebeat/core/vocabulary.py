"""The core's own words, which settings, presets and the command line offer as choices."""

STARTS = ("blocks", "standing", "rolling")
# race: the shape published races have; even: constant pace after the start; custom: the runner's own splits.
STRATEGIES = ("race", "even", "custom")
CLICK_SOUNDS = ("woodblock", "tick", "beep")
VOICES = ("female", "male", "joe")
VOICE_CHOICES = (*VOICES, "none")  # "none": a bare click track
# What is said at each 100 m: the planned elapsed time, the distance, both, or nothing.
CALLS = ("time", "distance", "both", "none")
# The reference races' levels (world class, national, junior, masters) and the sexes the race model is fitted for.
LEVELS = ("world", "national", "junior", "masters")
SEXES = ("M", "F")
