"""stridebeat: cadence click tracks for 400 m runners, rendered to a file or played live."""

__version__ = "0.1.0"
