"""A runner's step-length law, fitted to the samples of recorded runs.

A watch or foot pod records speed and cadence about once a second. Step length is speed / step frequency, and over the
speeds of a session (easy running to sprints) it follows a power law, the form the stride model uses:

    L(v) = a · (v / v_ref)^b        a: step length (m) at the reference speed v_ref, b: elasticity

fitted by least squares on log L against log v. :func:`fit_stride` fits and checks the samples, :func:`refit` adds a
new run's samples to a saved fit, and :class:`StrideFit` is saved as a TOML stride profile.

A profile keeps the (speed, cadence) points it was fitted to (thinned to ``MAX_KEPT``), so a later run refits the law
from all of them rather than averaging two laws. A profile saved before points were kept stands for its law sampled
across its speed range, as many points as it was fitted to.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from stridebeat.activity.record import RunSamples
from stridebeat.errors import UsageError

__all__ = ["DEFAULT_REF_SPEED_MPS", "StrideFit", "fit_stride", "refit"]

DEFAULT_REF_SPEED_MPS = 8.0  # a 50 s 400 m: inside every 400 m runner's calibration range, so a is easy to read
PLAUSIBLE_STEP_M = (0.8, 3.0)
PLAUSIBLE_EXPONENT = (0.0, 1.5)
# Speeds a profile may name (reference, range): from a walk to beyond the fastest sprint ever measured. Checked before
# any arithmetic, so a hand-edited profile cannot overflow a power.
SPEED_RANGE_MPS = (0.5, 15.0)
STEP_RANGE_M = (0.3, 5.0)
MAX_KEPT = 2000
PROFILE_VERSION = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class StrideFit:
    """A fitted step-length law ``L(v) = a_m · (v / ref_speed_mps)^b`` and how well it fits.

    ``points`` samples were used, at speeds ``speed_min_mps``–``speed_max_mps``; ``rms_m`` is the RMS of the step
    length residuals in metres and ``rms_pct`` the RMS of the relative residuals in percent. ``data`` holds the
    (speed m/s, cadence spm) points fitted, for a later refit (empty in profiles saved before they were kept).
    """

    a_m: float
    b: float
    ref_speed_mps: float = DEFAULT_REF_SPEED_MPS
    points: int
    speed_min_mps: float
    speed_max_mps: float
    rms_m: float
    rms_pct: float
    source: str = ""
    data: tuple[tuple[float, float], ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        numbers = (self.a_m, self.b, self.ref_speed_mps, self.speed_min_mps, self.speed_max_mps, self.rms_m)
        if not all(isinstance(x, int | float) and math.isfinite(x) for x in (*numbers, self.rms_pct)):
            raise UsageError("a stride profile value is missing or not a finite number: calibrate again")
        lo, hi = SPEED_RANGE_MPS
        speeds = (self.ref_speed_mps, self.speed_min_mps, self.speed_max_mps)
        if not (all(lo <= s <= hi for s in speeds) and self.speed_min_mps <= self.speed_max_mps):
            raise UsageError(
                f"a stride profile has a speed outside {lo:g}-{hi:g} m/s (reference {self.ref_speed_mps:g}, range "
                f"{self.speed_min_mps:g}-{self.speed_max_mps:g}): calibrate again"
            )
        if not STEP_RANGE_M[0] <= self.a_m <= STEP_RANGE_M[1] or self.rms_m < 0 or self.rms_pct < 0:
            raise UsageError(
                f"a stride profile has step length {self.a_m:g} m (plausible: {STEP_RANGE_M[0]:g}-"
                f"{STEP_RANGE_M[1]:g} m) or a negative residual: calibrate again"
            )
        # The same bound fit_stride applies, so a hand-edited profile cannot bring in a law no runner follows.
        if not PLAUSIBLE_EXPONENT[0] <= self.b <= PLAUSIBLE_EXPONENT[1] or not 1 <= self.points <= 10**9:
            raise UsageError(
                f"a stride profile has exponent b = {self.b:g} (plausible: {PLAUSIBLE_EXPONENT[0]:g}-"
                f"{PLAUSIBLE_EXPONENT[1]:g}) or no samples: calibrate again"
            )

    def step_length_at(self, speed_mps: float) -> float:
        """The step length (m) at ``speed_mps``."""
        return float(self.a_m * (speed_mps / self.ref_speed_mps) ** self.b)

    def cadence_at(self, speed_mps: float) -> float:
        """The cadence (steps per minute) at ``speed_mps``: speed over step length."""
        return 60.0 * speed_mps / self.step_length_at(speed_mps)

    def summary(self) -> str:
        """One line for the terminal."""
        return (
            f"step length {self.a_m:.3f} m at {self.ref_speed_mps:g} m/s, L ∝ v^{self.b:.3f}; "
            f"{self.points} samples at {self.speed_min_mps:.2f}-{self.speed_max_mps:.2f} m/s, "
            f"residual {self.rms_m * 100:.1f} cm ({self.rms_pct:.1f} %)"
        )

    def to_toml(self) -> str:
        """The profile as a TOML document (``[stride]`` table; ``version`` for later formats)."""
        import tomli_w

        table: dict[str, Any] = {
            "model": "L = a_m * (v / ref_speed_mps) ** b",
            "a_m": self.a_m,
            "b": self.b,
            "ref_speed_mps": self.ref_speed_mps,
            "points": self.points,
            "speed_min_mps": self.speed_min_mps,
            "speed_max_mps": self.speed_max_mps,
            "rms_m": self.rms_m,
            "rms_pct": self.rms_pct,
            "source": self.source,
        }
        if self.data:
            table["data_speed_mps"] = [v for v, _ in self.data]
            table["data_cadence_spm"] = [c for _, c in self.data]
        doc = {"version": PROFILE_VERSION, "stride": table}
        return "# stridebeat stride profile, fitted from recorded runs\n" + tomli_w.dumps(doc)

    @classmethod
    def from_toml(cls, text: str) -> StrideFit:
        """Read a profile written by :meth:`to_toml`; anything else raises a one-line UsageError."""
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise UsageError(f"the stride profile is not valid TOML ({exc}): calibrate again") from None
        version = doc.get("version")
        if version != PROFILE_VERSION:
            shown = repr(version)[:20]
            raise UsageError(
                f"the stride profile has version {shown}, this stridebeat reads {PROFILE_VERSION}: calibrate again"
            )
        table = doc.get("stride")
        if not isinstance(table, dict):
            raise UsageError("the stride profile has no [stride] table: calibrate again")
        floats = ("a_m", "b", "ref_speed_mps", "speed_min_mps", "speed_max_mps", "rms_m", "rms_pct")
        values: dict[str, Any] = {}
        for key in (*floats, "points"):
            values[key] = _number(table.get(key), key, whole=key == "points")
        source = table.get("source", "")
        return cls(**values, source=source if isinstance(source, str) else "", data=_data(table))


def _number(value: Any, key: str, *, whole: bool = False) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UsageError(f"the stride profile's {key} is missing or not a number: calibrate again")
    if whole:
        if not isinstance(value, int):
            raise UsageError(f"the stride profile's {key} is not a whole number: calibrate again")
        return value
    if isinstance(value, int) and abs(value) > 10**9:  # a float of it would overflow, or mean nothing
        raise UsageError(f"the stride profile's {key} is out of range: calibrate again")
    return float(value)


def _data(table: dict[str, Any]) -> tuple[tuple[float, float], ...]:
    speeds, cadences = table.get("data_speed_mps", []), table.get("data_cadence_spm", [])
    ok = isinstance(speeds, list) and isinstance(cadences, list) and len(speeds) == len(cadences) <= MAX_KEPT
    pairs = list(zip(speeds, cadences)) if ok else []
    if not ok or not all(isinstance(x, int | float) and not isinstance(x, bool) for p in pairs for x in p):
        raise UsageError("the stride profile's data points are not two lists of numbers of one length: calibrate again")
    out = tuple((float(v), float(c)) for v, c in pairs if abs(v) < 100 and abs(c) < 1000)
    if len(out) != len(pairs) or not all(math.isfinite(v) and math.isfinite(c) for v, c in out):
        raise UsageError("the stride profile's data points are out of range: calibrate again")
    return out


# --- Fitting ---------------------------------------------------------------------------------------------------------


def fit_stride(
    samples: RunSamples,
    *,
    min_speed_mps: float = 3.0,
    min_cadence_spm: float = 120.0,
    min_points: int = 30,
    min_speed_span_mps: float = 1.0,
    ref_speed_mps: float = DEFAULT_REF_SPEED_MPS,
) -> StrideFit:
    """Fit ``L = a · (v / ref_speed_mps)^b`` to the samples taken while running (speed and cadence at least the
    minimums), by least squares on logarithms.

    Raises
    ------
    UsageError
        No cadence, fewer than ``min_points`` running samples, a speed span narrower than ``min_speed_span_mps``
        (between the 5th and 95th percentiles, so one GPS spike cannot make the span), or an implausible fit (b
        outside 0–1.5, or fitted step lengths outside 0.8–3 m over the speeds run).
    """
    name = samples.source or "the run"
    v = np.asarray(samples.speed_mps, dtype=float)
    spm = np.asarray(samples.cadence_spm, dtype=float)
    if not np.any(np.isfinite(spm) & (spm > 0)):
        raise UsageError(f"{name} has no cadence: record the run with a watch or foot pod that counts steps")
    running = np.isfinite(v) & np.isfinite(spm) & (v >= min_speed_mps) & (spm >= min_cadence_spm)
    running &= v <= SPEED_RANGE_MPS[1]  # faster than any runner: a GPS jump, not a stride
    n = int(np.count_nonzero(running))
    if n < min_points:
        raise UsageError(
            f"{name} has {n} samples at {min_speed_mps:g} m/s or faster with cadence: at least {min_points} are "
            "needed, so record a session with runs at several speeds"
        )
    v, spm = v[running], spm[running]
    low, high = np.percentile(v, [5, 95])
    if high - low < min_speed_span_mps:
        raise UsageError(
            f"{name} covers only {low:.2f}-{high:.2f} m/s: runs spanning at least {min_speed_span_mps:g} m/s are "
            "needed, so add faster and slower runs"
        )
    step = v * 60.0 / spm
    b, log_a = np.polyfit(np.log(v / ref_speed_mps), np.log(step), 1)
    a = float(math.exp(log_a))
    _check_plausible(name, a, float(b), v, ref_speed_mps)
    fitted = a * (v / ref_speed_mps) ** b
    keep = np.unique(np.linspace(0, n - 1, min(n, MAX_KEPT)).round().astype(int))
    return StrideFit(
        a_m=a,
        b=float(b),
        ref_speed_mps=ref_speed_mps,
        points=n,
        speed_min_mps=float(v.min()),
        speed_max_mps=float(v.max()),
        rms_m=float(np.sqrt(np.mean((step - fitted) ** 2))),
        rms_pct=float(100.0 * np.sqrt(np.mean((step / fitted - 1.0) ** 2))),
        source=samples.source,
        data=tuple((float(x), float(c)) for x, c in zip(v[keep], spm[keep])),
    )


def _check_plausible(name: str, a: float, b: float, v: np.ndarray, ref_speed_mps: float) -> None:
    if not PLAUSIBLE_EXPONENT[0] <= b <= PLAUSIBLE_EXPONENT[1]:
        raise UsageError(
            f"{name} gives step length ∝ v^{b:.2f}, outside the plausible {PLAUSIBLE_EXPONENT[0]:g}-"
            f"{PLAUSIBLE_EXPONENT[1]:g}: check the recording (speed and cadence sensors) or record another session"
        )
    l_lo, l_hi = sorted((a * (float(v.min()) / ref_speed_mps) ** b, a * (float(v.max()) / ref_speed_mps) ** b))
    if l_lo < PLAUSIBLE_STEP_M[0] or l_hi > PLAUSIBLE_STEP_M[1]:
        hint = (
            "the cadence may be in steps, not strides, per minute"
            if l_lo < PLAUSIBLE_STEP_M[0]
            else "the speed may be wrong (GPS) or the cadence in strides where steps were expected"
        )
        raise UsageError(
            f"{name} gives step lengths {l_lo:.2f}-{l_hi:.2f} m, outside the plausible {PLAUSIBLE_STEP_M[0]:g}-"
            f"{PLAUSIBLE_STEP_M[1]:g} m: {hint}"
        )


def refit(previous: StrideFit | None, speed_mps: np.ndarray, cadence_spm: np.ndarray, *, source: str) -> StrideFit:
    """The law refitted from a saved fit's points and new (speed, cadence) points, or from the new ones alone.

    A fit saved without its points stands for its law sampled evenly over its speed range, as many points as it was
    fitted to (at most ``MAX_KEPT``), so an old profile weighs as much as the run it came from.

    Raises
    ------
    UsageError
        As :func:`fit_stride`, for the points put together.
    """
    old_v: np.ndarray = np.zeros(0)
    old_c: np.ndarray = np.zeros(0)
    if previous is not None and previous.data:
        old_v, old_c = (np.asarray(x, dtype=float) for x in zip(*previous.data))
    elif previous is not None:
        old_v = np.linspace(previous.speed_min_mps, previous.speed_max_mps, min(previous.points, MAX_KEPT))
        old_c = np.asarray([previous.cadence_at(float(x)) for x in old_v])
    v = np.concatenate([old_v, np.asarray(speed_mps, dtype=float)])
    c = np.concatenate([old_c, np.asarray(cadence_spm, dtype=float)])
    samples = RunSamples(time_s=np.arange(len(v), dtype=float), speed_mps=v, cadence_spm=c, source=source)
    return fit_stride(samples)
