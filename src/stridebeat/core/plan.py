"""The race plan: distance, target time, start and split strategy → a velocity profile.

Sources: the reference race library (``races.toml``: published races with 100 m splits) fixes the default shape;
velocity peaks between 50 and 100 m and fades after it (Hanon & Gajer 2009); acceleration is mono-exponential (Clark &
Ryan 2022). The ``race`` strategy is

    v(u) = v_max · (1 − e^(−u/τ)) · (1 − φ·h(u/U)),      U = target time − reaction,

with h(s) a fade that grows with time as s^p (``FadeShape.power``; a power between two whole numbers mixes the two, so
v stays a cubic and position stays in closed form). v_max comes in closed form from the target time; φ (the fade) comes
from the runner's level, or is solved from a requested share of time in the first half.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from stridebeat.core.profile import Coeffs, Profile, exp_moments
from stridebeat.core.vocabulary import SEXES, STARTS, STRATEGIES, Start, Strategy
from stridebeat.errors import PlanError

# Reaction time of elite 400 m runners out of the blocks is 0.15–0.18 s; a standing or rolling start is
# timed from the runner's own first movement.
REACTION_S: dict[str, float] = {Start.BLOCKS: 0.15, Start.STANDING: 0.0, Start.ROLLING: 0.0}
# τ ≈ 1 s across levels (Clark & Ryan 2022), 1.39 s for Bolt's 9.69: 1.2 s is inside the published range. A standing
# start loses the push against the blocks, but its time constant is of the same order.
TAU_S: dict[str, float] = dict.fromkeys(STARTS, 1.2)

# World records and world bests (men's: the fastest anyone has run), from World Athletics' record lists: 100 m 9.58 and
# 200 m 19.19 (Bolt 2009), 300 m 30.81 (van Niekerk 2017, world best), 400 m 43.03 (van Niekerk 2016), 600 m 1:12.81
# (Gray 1986, world best), 800 m 1:40.91 (Rudisha 2012), 1000 m 2:11.96 (Ngeny 1999). Between them the bound is the
# record average speed interpolated linearly in distance.
RECORDS_S = {100: 9.58, 200: 19.19, 300: 30.81, 400: 43.03, 600: 72.81, 800: 100.91, 1000: 131.96}

DISTANCE_RANGE_M = (100.0, 1000.0)
# Slower than this is not running: pacing a walk is not what the tool is for, and the stride model has no data there.
MIN_AVERAGE_SPEED = 2.0
FADE_RANGE = (0.0, 0.6)
# Reaction times a runner can have out of the blocks: faster is a false start, slower is not racing.
REACTION_RANGE_S = (0.1, 0.4)


@dataclass(frozen=True, slots=True, kw_only=True)
class FadeShape:
    """How the speed fades: h(s) = s^power for s = u/U, mixed between whole powers; φ lost at the finish. Power 0
    stands for 2s − s², a fade that comes early and levels off (h(1) = 1 all the same). ``cubic`` gives h's
    coefficients of s and s² outright (that of s³ makes h(1) = 1): a shape no single power draws, such as the 800 m's
    fast first lap, then even running."""

    tau_s: float
    power: float = 1.0  # 0 (most of the fade early), 1 (a steady fade from the gun) to 3 (most of it late)
    fade: float
    cubic: tuple[float, float] | None = None

    def poly(self) -> tuple[float, float, float]:
        """The coefficients of s, s² and s³ in h(s)."""
        if self.cubic is not None:
            c1, c2 = self.cubic
            return c1, c2, 1.0 - c1 - c2
        p = min(max(self.power, 0.0), 3.0)
        low = min(int(p), 2)
        w = p - low
        h = [0.0, 0.0, 0.0, 0.0]
        if low == 0:
            h[1] += 2.0 * (1.0 - w)
            h[2] -= 1.0 - w
        else:
            h[low] += 1.0 - w
        h[low + 1] += w
        return h[1], h[2], h[3]


# The default 400 m shape per sex, fitted to the library's 400 m races (least absolute error of the 100 m segments and
# of the elapsed time at every published mark, at each race's own reaction time); bench/validate_model.py refits it and
# reports leave-one-out errors. Its fade φ is the world-class one at FADE_CENTRE_400_S; within world class the races
# show slower runners fading more, by FADE_PER_S_400 per second of 400 m time. NATIONAL_FADE_400 gives the fatigue
# index Hanon & Gajer (2009) measured at national level (14.4 % of peak speed lost by the last 50 m; 23 % world class).
SHAPE_400 = {
    "M": FadeShape(tau_s=1.043, power=1.537, fade=0.237),
    "F": FadeShape(tau_s=1.027, power=1.132, fade=0.283),
}
FADE_PER_S_400 = {"M": 0.040, "F": 0.0391}
FADE_CENTRE_400_S = {"M": 44.5, "F": 50.5}
NATIONAL_FADE_400 = {"M": 0.179, "F": 0.185}
# The world-class fade stays within the fades that lose 19.2 % and 26.8 % of peak speed by the last 50 m (inside
# Hanon & Gajer's 23 % ± 4 points, about the spread of the library's world-class races timed every 50 m), however far
# the time is from the centre.
WORLD_FADE_RANGE_400 = {"M": (0.238, 0.330), "F": (0.244, 0.335)}
# Other distances, between which the shape (τ, φ and h's coefficients) moves linearly with distance: sprinters lose
# ~5 % of peak speed over 100 m and ~10 % over 200 m, most of it late (a cubic fade that matches the library's 200 m
# races); 800 m runners go out fast, then run evenly to a small kick (h fitted to the library's 800 m races by
# bench/validate_model.py --fit). None marks the 400 m shape above.
SHAPE_800 = FadeShape(tau_s=1.2, fade=0.25, cubic=(5.091, -7.883))
DISTANCE_SHAPES: tuple[tuple[float, FadeShape | None], ...] = (
    (100.0, FadeShape(tau_s=1.2, power=3.0, fade=0.05)),
    (200.0, FadeShape(tau_s=1.2, power=3.0, fade=0.10)),
    (400.0, None),
    (800.0, SHAPE_800),
    (1000.0, SHAPE_800),
)
# The level a 400 m time implies (the coaching article's bands): world class up to the first time, national from the
# second ("great"); in between the fade moves linearly from one to the other, so no plan jumps at a boundary.
LEVEL_BANDS_400_S = {"M": (46.5, 48.0), "F": (53.0, 56.0)}
# Without --sex, a 400 m time is read on the men's bands (faster than the women's record it can only be a man's).
DEFAULT_SEX = "M"


def record_time(distance_m: float) -> float:
    """The fastest time run over ``distance_m`` (interpolated between listed distances)."""
    d = np.array(sorted(RECORDS_S), dtype=float)
    speed = d / np.array([RECORDS_S[int(k)] for k in d])
    return float(distance_m / np.interp(distance_m, d, speed))


@dataclass(frozen=True, slots=True, kw_only=True)
class RacePlan:
    """What the runner wants: the inputs of the plan, validated.

    ``first_half_share`` (fraction of the time in the first half) and ``fade`` (fraction of peak speed lost by the
    finish) shape the ``race`` strategy; give at most one. ``splits_s`` are per-100 m times (the last one covers the
    remainder when the distance is not a multiple of 100) for the ``custom`` strategy. ``sex`` (M or F) picks the
    default shape and the level bands a 400 m time is read on; ``reaction_time_s`` replaces the default reaction out of
    the blocks. ``like`` names the library race whose pacing the splits follow (``--like``): the plan says so.
    """

    distance_m: float = 400.0
    target_time_s: float
    start: str = Start.BLOCKS
    strategy: str = Strategy.RACE
    splits_s: tuple[float, ...] | None = None
    first_half_share: float | None = None
    fade: float | None = None
    allow_record: bool = False
    sex: str | None = None
    reaction_time_s: float | None = None
    like: str | None = None

    def __post_init__(self) -> None:
        check_distance(self.distance_m)
        if self.sex is not None and self.sex not in SEXES:
            raise PlanError(f"unknown sex {self.sex!r}: use M or F")
        if self.reaction_time_s is not None:
            lo, hi = REACTION_RANGE_S
            if self.start != Start.BLOCKS:
                raise PlanError("a reaction time goes with a blocks start: leave out --reaction, or use --start blocks")
            if not (math.isfinite(self.reaction_time_s) and lo <= self.reaction_time_s <= hi):
                raise PlanError(f"reaction time {self.reaction_time_s:g} s is out of range: give {lo:g} to {hi:g} s")
        if self.start not in STARTS:
            raise PlanError(f"unknown start {self.start!r}: use one of {', '.join(STARTS)}")
        if self.strategy not in STRATEGIES:
            raise PlanError(f"unknown strategy {self.strategy!r}: use one of {', '.join(STRATEGIES)}")
        if self.like is not None and self.strategy != Strategy.CUSTOM:
            raise PlanError("a plan paced like a race follows its splits: use --strategy custom")
        if self.strategy == Strategy.CUSTOM:
            self._check_splits()
        elif self.splits_s is not None:
            raise PlanError("--splits goes with --strategy custom")
        if self.first_half_share is not None and self.fade is not None:
            raise PlanError("give either the first-half share or the fade, not both")
        if self.strategy != Strategy.RACE and (self.first_half_share is not None or self.fade is not None):
            raise PlanError("the first-half share and the fade shape --strategy race only")
        t = self.target_time_s
        if not (math.isfinite(t) and t > 0):
            raise PlanError(f"time must be a positive number of seconds, got {t}")
        record = record_time(self.distance_m)
        if t < record and not self.allow_record:
            raise PlanError(
                f"{t:.2f} s for {self.distance_m:g} m is faster than the world record ({record:.2f} s): "
                "check the time, or pass --allow-faster-than-record"
            )
        if self.distance_m / t < MIN_AVERAGE_SPEED:
            raise PlanError(
                f"{t:.1f} s for {self.distance_m:g} m is slower than {MIN_AVERAGE_SPEED:g} m/s, a walk: check the time"
            )

    def _check_splits(self) -> None:
        _check_splits(self.distance_m, self.splits_s, self.target_time_s)

    @classmethod
    def custom(
        cls,
        splits_s: Sequence[float],
        *,
        distance_m: float = 400.0,
        target_time_s: float | None = None,
        start: str = Start.BLOCKS,
        allow_record: bool = False,
        sex: str | None = None,
        reaction_time_s: float | None = None,
        like: str | None = None,
    ) -> RacePlan:
        """A plan from per-100 m splits; they define the total unless ``target_time_s`` is given (within 0.05 s)."""
        splits = tuple(float(s) for s in splits_s)
        _check_splits(distance_m, splits, target_time_s)
        # The splits are the plan: a --time that agrees within 0.05 s is a rounding of their sum, not a correction.
        return cls(
            distance_m=distance_m,
            target_time_s=sum(splits),
            strategy=Strategy.CUSTOM,
            splits_s=splits,
            start=start,
            allow_record=allow_record,
            sex=sex,
            reaction_time_s=reaction_time_s,
            like=like,
        )

    @property
    def reaction_s(self) -> float:
        return REACTION_S[self.start] if self.reaction_time_s is None else self.reaction_time_s

    @property
    def split_marks_m(self) -> tuple[float, ...]:
        """Distances of the split marks: every 100 m, and the finish."""
        marks = [float(m) for m in range(100, int(self.distance_m) + 1, 100) if m < self.distance_m - 1e-9]
        return (*marks, float(self.distance_m))


def check_distance(distance_m: float) -> None:
    lo, hi = DISTANCE_RANGE_M
    if not (math.isfinite(distance_m) and lo <= distance_m <= hi):
        raise PlanError(f"distance {distance_m:g} m is out of range: give {lo:g} to {hi:g} m")


def _check_splits(distance_m: float, splits: tuple[float, ...] | None, target_time_s: float | None) -> None:
    n = math.ceil(distance_m / 100.0 - 1e-9)
    if not splits:
        raise PlanError("--strategy custom needs --splits, one time per 100 m (e.g. --splits 12.2,11.9,12.6,14.3)")
    if len(splits) != n:
        raise PlanError(f"{distance_m:g} m needs {n} splits (one per 100 m), got {len(splits)}")
    if any(not (math.isfinite(s) and s > 0) for s in splits):
        raise PlanError("every split must be a positive number of seconds")
    total = sum(splits)
    if target_time_s is not None and abs(total - target_time_s) > 0.05:
        raise PlanError(
            f"the splits add up to {total:.2f} s but --time is {target_time_s:.2f} s: "
            "make them agree within 0.05 s, or leave out --time"
        )


def level_400(time_s: float, sex: str | None) -> float:
    """Where a 400 m time sits between world class (0) and national level (1) on the sex's bands."""
    world, national = LEVEL_BANDS_400_S[sex or DEFAULT_SEX]
    return min(max((time_s - world) / (national - world), 0.0), 1.0)


def fade_400(time_s: float, sex: str | None, shape: FadeShape | None = None, per_s: float | None = None) -> float:
    """The default fade of a 400 m in ``time_s``: the world-class fade (``shape``'s, moved by ``per_s`` per second
    from the centre time; the shipped ones by default) blended into the national one by the level."""
    sex = sex or DEFAULT_SEX
    shape = SHAPE_400[sex] if shape is None else shape
    per_s = FADE_PER_S_400[sex] if per_s is None else per_s
    lo, hi = WORLD_FADE_RANGE_400[sex]
    world = min(max(shape.fade + per_s * (time_s - FADE_CENTRE_400_S[sex]), lo), hi)
    w = level_400(time_s, sex)
    return (1.0 - w) * world + w * NATIONAL_FADE_400[sex]


def race_shape(plan: RacePlan) -> FadeShape:
    """The default shape of the ``race`` strategy: at 400 m the fitted shape of the sex with its fade by level, at other
    distances a linear blend of the shapes of the nearest listed distances."""
    sex = plan.sex or DEFAULT_SEX
    base = SHAPE_400[sex]
    # The 400 m time's level carries over to a rep of another length run at the same speed.
    at_400 = FadeShape(
        tau_s=base.tau_s, power=base.power, fade=fade_400(plan.target_time_s * 400.0 / plan.distance_m, sex)
    )
    shapes = [(d, at_400 if shape is None else shape) for d, shape in DISTANCE_SHAPES]
    d = plan.distance_m
    for (d0, s0), (d1, s1) in zip(shapes, shapes[1:]):
        if d0 <= d <= d1:
            k = (d - d0) / (d1 - d0)
            if k == 0.0 or k == 1.0:
                return s0 if k == 0.0 else s1
            h0, h1 = s0.poly(), s1.poly()
            return FadeShape(
                tau_s=s0.tau_s + k * (s1.tau_s - s0.tau_s),
                fade=s0.fade + k * (s1.fade - s0.fade),
                cubic=(h0[0] + k * (h1[0] - h0[0]), h0[1] + k * (h1[1] - h0[1])),
            )
    return shapes[-1][1]


def _fade_profile(plan: RacePlan, fade: float, shape: FadeShape | None = None) -> Profile:
    react = plan.reaction_s
    a = 0.0 if plan.start == Start.ROLLING else 1.0
    tau = TAU_S[plan.start] if shape is None else shape.tau_s
    h1, h2, h3 = (0.0, 0.0, 1.0) if shape is None else shape.poly()
    u_end = plan.target_time_s - react
    # g = 1 − φ·h(u/U), as a polynomial in u.
    unit: Coeffs = (1.0, -fade * h1 / u_end, -fade * h2 / u_end**2, -fade * h3 / u_end**3)
    prof = Profile(reaction_s=react, tau_s=tau, a=a, knots_u=(0.0,), coeffs=(unit,))
    # Position is linear in v_max, so the profile at v_max = 1 tells the v_max that reaches the line on time exactly.
    vmax = plan.distance_m / float(prof.position(plan.target_time_s))
    coeffs: Coeffs = (vmax * unit[0], vmax * unit[1], vmax * unit[2], vmax * unit[3])
    return Profile(reaction_s=react, tau_s=tau, a=a, knots_u=(0.0,), coeffs=(coeffs,))


def _first_half_share(plan: RacePlan, fade: float) -> float:
    prof = _fade_profile(plan, fade, race_shape(plan))
    t_half = float(prof.time_at(plan.distance_m / 2.0, t_max=plan.target_time_s * 1.2))
    return t_half / plan.target_time_s


def fade_for_share(plan: RacePlan, share: float) -> float:
    """The fade φ that puts ``share`` of the time in the first half (bisection: the share falls as φ grows)."""
    lo, hi = FADE_RANGE
    s_lo, s_hi = _first_half_share(plan, lo), _first_half_share(plan, hi)
    if not (s_hi <= share <= s_lo):
        raise PlanError(
            f"a first half in {share:.1%} of the time is impossible for this plan: "
            f"give a share between {s_hi:.1%} and {s_lo:.1%}"
        )
    # Regula falsi with the Illinois fix: the share is smooth and monotone in φ, so a handful of steps converge.
    f_lo, f_hi = s_lo - share, s_hi - share
    mid, side = lo, 0
    for _ in range(60):
        mid = hi - f_hi * (hi - lo) / (f_hi - f_lo)
        f_mid = _first_half_share(plan, mid) - share
        if abs(f_mid) < 1e-10:  # 5 µs of a 51 s race; time_at itself is exact to ~1e-11
            break
        if (f_mid > 0) == (f_lo > 0):
            lo, f_lo = mid, f_mid
            if side == -1:  # the same end moved twice: halve the stale one so it cannot stall the iteration
                f_hi *= 0.5
            side = -1
        else:
            hi, f_hi = mid, f_mid
            if side == 1:
                f_lo *= 0.5
            side = 1
    return mid


def fatigue_index(profile: Profile, distance_m: float, time_s: float) -> float:
    """Speed lost from the fastest 50 m to the last 50 m, as a share of the fastest (Hanon & Gajer's index)."""
    marks = np.append(np.arange(50.0, distance_m, 50.0), distance_m)
    t = profile.time_at(marks, t_max=time_s * 1.2)
    t[-1] = time_s
    v = np.diff(np.concatenate([[0.0], marks])) / np.diff(np.concatenate([[0.0], t]))
    return float((v.max() - v[-1]) / v.max())


def _custom_profile(plan: RacePlan) -> Profile:
    """Per-100 m splits: g is piecewise linear in time, continuous at the split marks, and each segment's integral
    equals its length exactly. That leaves one degree of freedom, used to make g as flat as possible (least change
    between knots), which keeps a jumpy list of splits from turning into an oscillating speed."""
    react, tau = plan.reaction_s, TAU_S[plan.start]
    a = 0.0 if plan.start == Start.ROLLING else 1.0
    splits = np.asarray(plan.splits_s)
    marks = np.asarray(plan.split_marks_m)
    lengths = np.diff(np.concatenate([[0.0], marks]))
    knots = np.concatenate([[0.0], np.cumsum(splits)]) - np.concatenate([[0.0], np.full(len(splits), react)])
    n = len(splits)
    # Distance over segment i = A_i·g_i + B_i·g_{i+1} with hat functions on [k_i, k_{i+1}].
    rows = np.zeros((n, n + 1))
    for i in range(n):
        k0, k1 = knots[i], knots[i + 1]
        h = k1 - k0
        # g = g_i (k1 − u)/h + g_{i+1} (u − k0)/h, integrated against (1 − a e^(−u/τ)).
        m0 = exp_moments(np.array([k0, k1]), tau)
        d0 = (k1 - k0) - a * (m0[0][1] - m0[0][0])
        d1 = (k1 * k1 - k0 * k0) / 2.0 - a * (m0[1][1] - m0[1][0])
        rows[i, i] = (k1 * d0 - d1) / h
        rows[i, i + 1] = (d1 - k0 * d0) / h
    # Minimise Σ (g_{i+1} − g_i)² subject to rows·g = lengths (KKT system).
    diff = np.diff(np.eye(n + 1), axis=0)
    kkt = np.block([[2.0 * diff.T @ diff, rows.T], [rows, np.zeros((n, n))]])
    rhs = np.concatenate([np.zeros(n + 1), lengths])
    g = np.linalg.solve(kkt, rhs)[: n + 1]
    coeffs = []
    for i in range(n):
        k0, k1 = knots[i], knots[i + 1]
        slope = (g[i + 1] - g[i]) / (k1 - k0)
        coeffs.append((float(g[i] - slope * k0), float(slope), 0.0, 0.0))
    # Past the finish the runner keeps the finishing speed's trend; nothing is scheduled there.
    return Profile(reaction_s=react, tau_s=tau, a=a, knots_u=tuple(float(k) for k in knots[:-1]), coeffs=tuple(coeffs))


def build_profile(plan: RacePlan) -> Profile:
    """The velocity profile of a plan; raises PlanError when the numbers cannot describe a run."""
    if plan.strategy == Strategy.EVEN:
        prof = _fade_profile(plan, 0.0)
    elif plan.strategy == Strategy.CUSTOM:
        prof = _custom_profile(plan)
    else:
        lo, hi = FADE_RANGE
        if plan.fade is not None and not lo <= plan.fade <= hi:
            raise PlanError(f"fade {plan.fade:.0%} is out of range: give {lo:.0%} to {hi:.0%} of peak speed")
        fade = plan.fade
        if fade is None and plan.first_half_share is not None:
            fade = fade_for_share(plan, plan.first_half_share)
        prof = _fade_profile(plan, race_shape(plan).fade if fade is None else fade, race_shape(plan))
    prof.check_positive(plan.target_time_s)
    return prof
