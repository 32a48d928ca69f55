"""Recorded runs (FIT, TCX, GPX): each file decoded once into one record, shared by calibrate and review; the
runner's step-length law fitted to them."""

from stridebeat.activity.read import read_activity, read_run
from stridebeat.activity.record import (
    EARTH_RADIUS_M,
    Activity,
    CadenceUnit,
    DistanceSource,
    FileKind,
    Lap,
    RunSamples,
)
from stridebeat.activity.stride_fit import DEFAULT_REF_SPEED_MPS, StrideFit, fit_stride, refit

__all__ = [
    "DEFAULT_REF_SPEED_MPS",
    "EARTH_RADIUS_M",
    "Activity",
    "CadenceUnit",
    "DistanceSource",
    "FileKind",
    "Lap",
    "RunSamples",
    "StrideFit",
    "fit_stride",
    "read_activity",
    "read_run",
    "refit",
]
