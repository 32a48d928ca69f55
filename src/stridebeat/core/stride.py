"""The stride model: how many steps a runner takes, and how fast, at each speed.

Speed = step length × step frequency. What the model needs is the cadence f(v) at every speed; step length follows as
v / f. Published figures it rests on:

* Race means of 289 world-class 400 m races: men 8.85 m/s with 2.31 m steps (≈ 43 steps / 100 m), women 7.81 m/s with
  2.09 m (≈ 48 / 100 m). A power law through both points, L = 2.31·(v/8.85)^0.8, is the default calibration of the step
  length at an athlete's race pace (``DEFAULT_*`` below).
* Within one race, world-class men peak at 10.12 m/s and 4.12 Hz (Hanon & Gajer 2009) against means of 8.85 m/s and
  3.84 Hz: step length scales as v^0.5 and so does frequency (ln(2.46/2.31)/ln(10.12/8.85) ≈ 0.5). That elasticity moves
  an athlete's calibrated step length to other speeds.
* Out of the blocks the frequency starts near 80 % of its maximum and reaches ~90 % after the third step (block-start
  reviews), while the first step is only 0.85–1.37 m (men) and 0.82–1.07 m (women). Cadence during acceleration is
  therefore modelled as rising linearly with speed from 72 % of the peak cadence at rest to 100 % at peak speed, which
  yields first steps of ~1.0–1.2 m and ~90 % cadence by the third step.
* Step length and leg length go together (Hunter et al. 2004); a height-based guess (step ≈ 1.24 × height at 8.85 m/s)
  is only an estimate and says so: counting steps over 100 m at race pace is the reliable input.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from stridebeat.errors import PlanError

if TYPE_CHECKING:
    from stridebeat.core.arrays import ArrayLike, Floats


REF_SPEED = 8.85  # m/s, men's world-class race mean
REF_STEP = 2.31  # m at REF_SPEED
POPULATION_EXPONENT = 0.8  # through (8.85 m/s, 2.31 m) and (7.81 m/s, 2.09 m)
WITHIN_RACE_EXPONENT = 0.5  # Hanon & Gajer peak vs race means
HEIGHT_RATIO = 1.24  # step length / height at REF_SPEED; an estimate (see module docstring)
START_CADENCE_SHARE = 0.72  # cadence at rest as a share of the peak cadence during acceleration

# Steps of 1.25 to 2.9 m at race pace: from a jog to beyond the longest measured sprint strides (about 2.7 m).
STEPS_RANGE = (35.0, 80.0)  # steps per 100 m
STEP_LENGTH_RANGE = (1.25, 2.9)
HEIGHT_RANGE = (1.2, 2.3)


@dataclass(frozen=True, slots=True, kw_only=True)
class StrideModel:
    """One way to know the athlete's step length at race pace; at most one of the three may be given.

    ``steps_per_100m`` (counted at race pace: the most reliable), ``step_length_m`` (at race pace) or ``height_m``
    (an estimate). With none, the published race means calibrate it.
    """

    steps_per_100m: float | None = None
    step_length_m: float | None = None
    height_m: float | None = None
    # The speed the calibration was made at: the athlete's race pace. None means the plan's own average speed; a rep
    # run at an intensity of a reference race sets it to that race's pace, so a count made racing still applies.
    race_pace_mps: float | None = None

    def __post_init__(self) -> None:
        given = [k for k in ("steps_per_100m", "step_length_m", "height_m") if getattr(self, k) is not None]
        if len(given) > 1:
            raise PlanError("give one of --steps-per-100m, --step-length and --height, not several")
        for key, flag, (lo, hi), unit in (
            ("steps_per_100m", "--steps-per-100m", STEPS_RANGE, ""),
            ("step_length_m", "--step-length", STEP_LENGTH_RANGE, " m"),
            ("height_m", "--height", HEIGHT_RANGE, " m"),
        ):
            val = getattr(self, key)
            if val is not None and not (math.isfinite(val) and lo <= val <= hi):
                raise PlanError(f"{flag} {val:g} is out of range: give {lo:g} to {hi:g}{unit}")

    @property
    def source(self) -> str:
        if self.steps_per_100m is not None:
            return f"counted: {self.steps_per_100m:g} steps per 100 m at race pace"
        if self.step_length_m is not None:
            return f"given: {self.step_length_m:g} m steps at race pace"
        if self.height_m is not None:
            return f"estimated from height {self.height_m:g} m (count your steps per 100 m to calibrate)"
        return "default: published world-class race means"

    def step_length_at(self, race_speed: float) -> float:
        """The step length (m) at the athlete's race pace ``race_speed``."""
        if self.steps_per_100m is not None:
            return 100.0 / self.steps_per_100m
        if self.step_length_m is not None:
            return self.step_length_m
        base: float = REF_STEP * (race_speed / REF_SPEED) ** POPULATION_EXPONENT
        if self.height_m is not None:
            return base * self.height_m * HEIGHT_RATIO / REF_STEP
        return base


@dataclass(frozen=True, slots=True, kw_only=True)
class Cadence:
    """Cadence (steps per second) as a function of speed for one athlete in one plan."""

    race_speed: float  # m/s, the plan's average
    race_step: float  # m at race_speed
    peak_speed: float  # m/s, the top of the acceleration

    @property
    def peak_cadence(self) -> float:
        return float(self.cruise(self.peak_speed))

    def cruise(self, v: ArrayLike) -> Floats:
        """Cadence once up to speed: step length scales as v^0.5 about the race-pace calibration."""
        x = np.asarray(v, dtype=float)
        step: Floats = self.race_step * (np.maximum(x, 1e-9) / self.race_speed) ** WITHIN_RACE_EXPONENT
        return x / step

    def accelerating(self, v: ArrayLike) -> Floats:
        """Cadence while accelerating: linear in speed from 72 % of peak cadence at rest to the peak cadence."""
        x = np.asarray(v, dtype=float)
        cadence: Floats = self.peak_cadence * (START_CADENCE_SHARE + (1 - START_CADENCE_SHARE) * x / self.peak_speed)
        return cadence


def cadence_for(model: StrideModel, *, race_speed: float, peak_speed: float) -> Cadence:
    return Cadence(race_speed=race_speed, race_step=model.step_length_at(race_speed), peak_speed=peak_speed)
