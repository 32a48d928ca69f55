"""Velocity profiles: position and speed as closed-form functions of time.

Every profile here has the shape

    v(u) = (1 − a·e^(−u/τ)) · g(u),     u = t − reaction (moving time), v = 0 before the runner moves,

with g a polynomial of degree ≤ 3 on each segment between knots. The factor in front is the mono-exponential
acceleration out of the blocks (Clark & Ryan 2022: τ ≈ 1 s across sports and levels; a fit of Bolt's 9.69 gives
1.39 s); ``a = 0`` is a rolling start. Because ∫ u^k e^(−u/τ) du has a closed form, position x(u) is exact too, and the
time at any distance is found by inverting x(u) directly — never by adding up small steps, so a click's time carries no
accumulated error however long the track.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from stridebeat.errors import PlanError

if TYPE_CHECKING:
    from stridebeat.core.arrays import ArrayLike, Floats


def exp_moments(u: ArrayLike, tau: float) -> tuple[Floats, ...]:
    """∫₀ᵘ s^k e^(−s/τ) ds for k = 0…3 (closed forms)."""
    x = np.asarray(u, dtype=float)
    e = np.exp(-x / tau)
    return tuple(_exp_moment(k, x, e, tau) for k in range(4))


def _exp_moment(k: int, u: Floats, e: Floats, tau: float) -> Floats:
    """∫₀ᵘ s^k e^(−s/τ) ds for one k, with e = e^(−u/τ) already at hand (the profile shares it with the speed)."""
    if k == 0:
        return tau * (1.0 - e)
    if k == 1:
        return tau * tau - tau * e * (u + tau)
    if k == 2:
        return 2.0 * tau**3 - tau * e * (u * u + 2.0 * tau * u + 2.0 * tau * tau)
    return 6.0 * tau**4 - tau * e * (u**3 + 3.0 * tau * u * u + 6.0 * tau * tau * u + 6.0 * tau**3)


# time_at's first-guess tables, kept per profile and t_max (a plan asks for several distances on the same range).
_MAX_TABLES = 4
Coeffs = tuple[float, float, float, float]


@dataclass(frozen=True, slots=True, kw_only=True)
class Profile:
    """A piecewise velocity profile in moving time ``u``.

    Attributes
    ----------
    reaction_s : float
        Time from the gun to first movement (0.15 s out of blocks, 0 otherwise).
    tau_s : float
        Acceleration time constant.
    a : float
        1.0 starts from rest, 0.0 is a rolling start.
    knots_u : tuple of float
        Segment boundaries in moving time, starting at 0 (one per segment: where it starts); the last segment extends
        past the finish.
    coeffs : tuple of (float, float, float, float)
        ``g(u) = c0 + c1·u + c2·u² + c3·u³`` on each segment (absolute u, not segment-local).
    """

    reaction_s: float
    tau_s: float
    a: float
    knots_u: tuple[float, ...]
    coeffs: tuple[Coeffs, ...]
    # Derived once from the fields above (a plan evaluates position and speed a few dozen times per profile): the
    # arrays behind the tuples, each segment's antiderivative at its start knot, and the distance covered by then.
    _knots: np.ndarray = field(init=False, repr=False, compare=False)
    _cols: tuple[np.ndarray, ...] = field(init=False, repr=False, compare=False)
    _f_start: np.ndarray = field(init=False, repr=False, compare=False)
    _x_knots: np.ndarray = field(init=False, repr=False, compare=False)
    _tables: dict[float, tuple[np.ndarray, np.ndarray]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.knots_u) != len(self.coeffs):
            raise ValueError(f"{len(self.knots_u)} knots for {len(self.coeffs)} segments: give one knot per segment")
        knots = np.asarray(self.knots_u, dtype=float)
        cols = tuple(np.ascontiguousarray(c) for c in np.asarray(self.coeffs, dtype=float).T)  # c0…c3 by segment
        f_start = self._antiderivative(knots, np.exp(-knots / self.tau_s), cols)  # F_i(k_i), segment i at its start
        f_end = self._antiderivative(knots[1:], np.exp(-knots[1:] / self.tau_s), tuple(c[:-1] for c in cols))
        x_knots = np.concatenate([[0.0], np.cumsum(f_end - f_start[:-1])])
        # The record is frozen: derived state is set once, here, as a frozen dataclass's __post_init__ does.
        for name, value in (
            ("_knots", knots),
            ("_cols", cols),
            ("_f_start", f_start),
            ("_x_knots", x_knots),
            ("_tables", {}),
        ):
            object.__setattr__(self, name, value)

    def _segment_consts(self, u: Floats) -> tuple[tuple[Floats, ...], Floats, Floats]:
        """For each u: its segment's (c0, c1, c2, c3), the distance at the segment's start knot, and F there."""
        seg = np.clip(np.searchsorted(self._knots, u, side="right") - 1, 0, len(self._knots) - 1)
        return tuple(c[seg] for c in self._cols), self._x_knots[seg], self._f_start[seg]

    def _moving(self, t: ArrayLike) -> Floats:
        return np.maximum(np.asarray(t, dtype=float) - self.reaction_s, 0.0)

    def _antiderivative(self, u: Floats, e: Floats, c: Sequence[Floats] | Sequence[float]) -> Floats:
        """F(u) = ∫₀ᵘ (1 − a e^(−s/τ)) g(s) ds with the polynomial ``c`` of the segment over the whole range;
        ``e`` = e^(−u/τ)."""
        poly = sum((c[k] * u ** (k + 1) / (k + 1) for k in range(4)), np.zeros_like(u))
        decay = sum((c[k] * _exp_moment(k, u, e, self.tau_s) for k in range(4)), np.zeros_like(u))
        return poly - self.a * decay

    def _speed(self, u: Floats, e: Floats, c: Sequence[Floats]) -> Floats:
        """v = (1 − a·e) · g(u) with the segment's ``c`` and e = e^(−u/τ)."""
        c0, c1, c2, c3 = c
        g = c0 + u * (c1 + u * (c2 + u * c3))
        return (1.0 - self.a * e) * g

    def velocity(self, t: ArrayLike) -> Floats:
        """Speed (m/s) at time ``t`` seconds after the gun."""
        u = self._moving(t)
        c, _, _ = self._segment_consts(u)
        return self._speed(u, np.exp(-u / self.tau_s), c)

    def position(self, t: ArrayLike) -> Floats:
        """Distance (m) covered ``t`` seconds after the gun."""
        u = self._moving(t)
        c, x0, f0 = self._segment_consts(u)
        return x0 + self._antiderivative(u, np.exp(-u / self.tau_s), c) - f0

    def _position_and_velocity(self, t: ArrayLike) -> tuple[Floats, Floats]:
        """``position(t), velocity(t)`` sharing the segment lookup and the exponential (what Newton needs)."""
        u = self._moving(t)
        c, x0, f0 = self._segment_consts(u)
        e = np.exp(-u / self.tau_s)
        return x0 + self._antiderivative(u, e, c) - f0, self._speed(u, e, c)

    def _table(self, t_max: float) -> tuple[np.ndarray, np.ndarray]:
        """Times from the reaction to ``t_max`` and the positions there: time_at's first guess."""
        table = self._tables.get(t_max)
        if table is None:
            grid = np.linspace(self.reaction_s, t_max, 257)
            table = (grid, self.position(grid))
            if len(self._tables) >= _MAX_TABLES:
                self._tables.clear()
            self._tables[t_max] = table
        return table

    def time_at(self, x: ArrayLike, *, t_max: float) -> Floats:
        """Time after the gun at which the runner reaches distance ``x`` (vectorised; exact to ~1 ns).

        A dense table gives a first guess, Newton's method on the closed-form position polishes it. ``t_max`` bounds
        the search (a little past the finish).
        """
        x = np.asarray(x, dtype=float)
        grid, x_grid = self._table(t_max)
        t = np.interp(x, x_grid, grid)
        # x(t) is smooth and increasing, so Newton from a table guess converges quadratically; stop once every
        # position agrees to 1e-9 m (a nanosecond at race speed).
        for _ in range(30):
            pos, v = self._position_and_velocity(t)
            err = pos - x
            if (np.abs(err) < 1e-9).all():
                break
            step = np.where(v > 1e-9, err / np.maximum(v, 1e-9), 0.0)
            t = np.clip(t - step, self.reaction_s, t_max)
        return np.where(x <= 0.0, 0.0, t)

    def check_positive(self, t_end: float) -> None:
        """Raise PlanError if the runner would stop or go backwards before ``t_end``."""
        # The first second out of a standing start is legitimately slow; after it, a crawl means a broken plan.
        t = np.linspace(self.reaction_s + (1.0 if self.a else 0.0), t_end, 2001)
        v = self.velocity(t)
        if np.min(v) <= 1.0:
            bad = float(t[np.argmin(v)])
            raise PlanError(f"these splits make the runner stop {bad:.1f} s after the gun: smooth out the splits")
