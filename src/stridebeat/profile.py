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

from dataclasses import dataclass

import numpy as np

from stridebeat.errors import PlanError


def exp_moments(u, tau: float) -> tuple[np.ndarray, ...]:
    """∫₀ᵘ s^k e^(−s/τ) ds for k = 0…3 (closed forms)."""
    u = np.asarray(u, dtype=float)
    e = np.exp(-u / tau)
    m0 = tau * (1.0 - e)
    m1 = tau * tau - tau * e * (u + tau)
    m2 = 2.0 * tau**3 - tau * e * (u * u + 2.0 * tau * u + 2.0 * tau * tau)
    m3 = 6.0 * tau**4 - tau * e * (u**3 + 3.0 * tau * u * u + 6.0 * tau * tau * u + 6.0 * tau**3)
    return m0, m1, m2, m3


@dataclass(frozen=True)
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
        Segment boundaries in moving time, starting at 0; the last segment extends past the finish.
    coeffs : tuple of (float, float, float, float)
        ``g(u) = c0 + c1·u + c2·u² + c3·u³`` on each segment (absolute u, not segment-local).
    """

    reaction_s: float
    tau_s: float
    a: float
    knots_u: tuple[float, ...]
    coeffs: tuple[tuple[float, float, float, float], ...]

    def _segment(self, u: np.ndarray) -> np.ndarray:
        return np.clip(np.searchsorted(np.asarray(self.knots_u), u, side="right") - 1, 0, len(self.coeffs) - 1)

    def _antiderivative(self, u: np.ndarray, seg: np.ndarray) -> np.ndarray:
        """F(u) = ∫₀ᵘ (1 − a e^(−s/τ)) g_seg(s) ds using the segment's polynomial over the whole range."""
        c = np.asarray(self.coeffs)[seg]
        m = exp_moments(u, self.tau_s)
        poly = sum(c[..., k] * u ** (k + 1) / (k + 1) for k in range(4))
        return poly - self.a * sum(c[..., k] * m[k] for k in range(4))

    def _x_at_knots(self) -> np.ndarray:
        knots = np.asarray(self.knots_u)
        x = [0.0]
        for i in range(1, len(knots)):
            seg = np.array(i - 1)
            x.append(x[-1] + float(self._antiderivative(knots[i], seg) - self._antiderivative(knots[i - 1], seg)))
        return np.asarray(x)

    def velocity(self, t) -> np.ndarray:
        """Speed (m/s) at time ``t`` seconds after the gun."""
        u = np.maximum(np.asarray(t, dtype=float) - self.reaction_s, 0.0)
        c = np.asarray(self.coeffs)[self._segment(u)]
        g = c[..., 0] + u * (c[..., 1] + u * (c[..., 2] + u * c[..., 3]))
        return (1.0 - self.a * np.exp(-u / self.tau_s)) * g

    def position(self, t) -> np.ndarray:
        """Distance (m) covered ``t`` seconds after the gun."""
        u = np.maximum(np.asarray(t, dtype=float) - self.reaction_s, 0.0)
        seg = self._segment(u)
        knots = np.asarray(self.knots_u)
        base = self._x_at_knots()[seg]
        return base + self._antiderivative(u, seg) - self._antiderivative(knots[seg], seg)

    def time_at(self, x, *, t_max: float) -> np.ndarray:
        """Time after the gun at which the runner reaches distance ``x`` (vectorised; exact to ~1 ns).

        A dense table gives a first guess, Newton's method on the closed-form position polishes it. ``t_max`` bounds
        the search (a little past the finish).
        """
        x = np.asarray(x, dtype=float)
        grid = np.linspace(self.reaction_s, t_max, 257)
        t = np.interp(x, self.position(grid), grid)
        # x(t) is smooth and increasing, so Newton from a table guess converges quadratically; stop once every
        # position agrees to 1e-9 m (a nanosecond at race speed).
        for _ in range(30):
            err = self.position(t) - x
            if np.all(np.abs(err) < 1e-9):
                break
            v = self.velocity(t)
            t = np.clip(t - np.where(v > 1e-9, err / np.maximum(v, 1e-9), 0.0), self.reaction_s, t_max)
        return np.where(x <= 0.0, 0.0, t)

    def check_positive(self, t_end: float) -> None:
        """Raise PlanError if the runner would stop or go backwards before ``t_end``."""
        # The first second out of a standing start is legitimately slow; after it, a crawl means a broken plan.
        t = np.linspace(self.reaction_s + (1.0 if self.a else 0.0), t_end, 2001)
        v = self.velocity(t)
        if np.min(v) <= 1.0:
            bad = float(t[np.argmin(v)])
            raise PlanError(f"these splits make the runner stop {bad:.1f} s after the gun: smooth out the splits")
