"""The race plan: properties from ../shared/domain/SCIENCE.md checked against an independent integration of the speed.

Nothing here reuses the plan's own position or time inversion (``Profile.position`` / ``Profile.time_at``): every
distance is the trapezoid integral of ``Profile.velocity`` sampled every millisecond (error ~1e-5 m, far below the 1 ms
tolerances), and every crossing time is read off that integral.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stridebeat.core.plan import RacePlan, build_profile
from stridebeat.core.schedule import plan_race
from stridebeat.errors import PlanError

DT = 1e-3
MS = 1e-3
PROPERTY = settings(max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

# World Athletics records (men's, the fastest anyone has run): SCIENCE.md gives 400 m; the others are the record lists.
WORLD_RECORDS_S = {100.0: 9.58, 200.0: 19.19, 400.0: 43.03, 800.0: 100.91, 1000.0: 131.96}

times_400 = st.floats(43.1, 65.0, allow_nan=False, allow_infinity=False)
realistic_shares = st.floats(0.475, 0.49, allow_nan=False)
from_rest = st.sampled_from(["blocks", "standing"])
distances = st.floats(100.0, 1000.0, allow_nan=False)
# Average speeds slower than every record from 100 m (10.4 m/s) to 1000 m (7.58 m/s) and faster than a jog.
plausible_speeds = st.floats(4.5, 7.4, allow_nan=False)


# ----------------------------------------------------------------------------------------------------------- helpers
def run_of(profile, t_end: float, dt: float = DT):
    """Sampled time, speed and distance (trapezoid integral of the speed) from the gun to a little past ``t_end``."""
    t = np.arange(0.0, t_end * 1.02 + 1.0, dt)
    v = profile.velocity(t)
    x = np.concatenate([[0.0], np.cumsum(0.5 * (v[1:] + v[:-1]) * dt)])
    return t, v, x


def crossing(t, x, d) -> np.ndarray:
    """Time at which the integrated distance reaches ``d`` (linear interpolation between samples)."""
    i = np.searchsorted(x, d, side="left")
    return t[i - 1] + (d - x[i - 1]) / (x[i] - x[i - 1]) * (t[i] - t[i - 1])


def split_times(t, x, marks) -> np.ndarray:
    return np.diff(np.concatenate([[0.0], [crossing(t, x, m) for m in marks]]))


def fit_mono_exponential(t, v, *, window_s: float = 3.0):
    """Least-squares fit of v = V·(1 − e^(−(t − t0)/τ)) over the first ``window_s`` seconds of motion.

    t0 is where the runner starts to move: the first moving samples extrapolated back to zero speed. V has a closed
    form for each τ; τ is found by a grid search then a golden-section polish. Returns (τ, V, t0, rms residual).
    """
    moving = np.flatnonzero(v > 0)
    i = moving[0]
    slope = (v[i + 1] - v[i]) / (t[i + 1] - t[i])
    t0 = t[i] - v[i] / slope
    sel = (t > t0) & (t <= t0 + window_s)
    u, vv = t[sel] - t0, v[sel]

    def residual(tau):
        b = 1.0 - np.exp(-u / tau)
        big_v = float(b @ vv / (b @ b))
        return float(np.sqrt(np.mean((vv - big_v * b) ** 2))), big_v

    grid = np.arange(0.3, 3.0, 0.01)
    k = int(np.argmin([residual(g)[0] for g in grid]))
    lo, hi = grid[max(k - 1, 0)], grid[min(k + 1, len(grid) - 1)]
    g = (math.sqrt(5) - 1) / 2
    for _ in range(40):
        a, b = hi - g * (hi - lo), lo + g * (hi - lo)
        if residual(a)[0] < residual(b)[0]:
            hi = b
        else:
            lo = a
    tau = 0.5 * (lo + hi)
    rms, big_v = residual(tau)
    return tau, big_v, t0, rms


# ------------------------------------------------------------------------------------------------ 400 m, race strategy
@PROPERTY
@given(T=times_400, start=from_rest)
def test_race_reaches_the_line_on_the_target_time(T, start):
    prof = build_profile(RacePlan(target_time_s=T, start=start))
    t, v, x = run_of(prof, T)
    assert abs(crossing(t, x, 400.0) - T) < MS


@PROPERTY
@given(T=times_400)
def test_reported_splits_sum_to_target_and_are_the_ones_run(T):
    planned = plan_race(RacePlan(target_time_s=T))
    t, v, x = run_of(planned.profile, T)
    run = split_times(t, x, [100.0, 200.0, 300.0, 400.0])
    reported = np.array([r.split_s for r in planned.splits])
    assert [r.distance_m for r in planned.splits] == [100.0, 200.0, 300.0, 400.0]
    assert abs(reported.sum() - T) < MS
    np.testing.assert_allclose(reported, run, atol=MS)
    np.testing.assert_allclose([r.elapsed_s for r in planned.splits], np.cumsum(run), atol=MS)


@PROPERTY
@given(T=times_400, start=from_rest, sex=st.sampled_from([None, "M", "F"]))
def test_default_first_200m_takes_what_races_take(T, start, sex):
    # The default shape was pinned at exactly 48 % before issue 14; it now comes from the race library, whose 400 m
    # races run their first 200 m in 46.0-49.3 % of the time (world class goes out harder than national level).
    prof = build_profile(RacePlan(target_time_s=T, start=start, sex=sex))
    t, v, x = run_of(prof, T)
    share = crossing(t, x, 200.0) / T
    assert 0.460 <= share <= 0.493


@PROPERTY
@given(T=times_400, share=realistic_shares, start=from_rest)
def test_requested_first_half_share_is_met(T, share, start):
    prof = build_profile(RacePlan(target_time_s=T, first_half_share=share, start=start))
    t, v, x = run_of(prof, T)
    assert abs(crossing(t, x, 200.0) - share * T) < MS
    assert abs(crossing(t, x, 400.0) - T) < MS


@PROPERTY
@given(T=times_400, share=realistic_shares, start=from_rest)
def test_second_100m_is_the_fastest_and_fourth_the_slowest(T, share, start):
    prof = build_profile(RacePlan(target_time_s=T, first_half_share=share, start=start))
    t, v, x = run_of(prof, T)
    s1, s2, s3, s4 = split_times(t, x, [100.0, 200.0, 300.0, 400.0])
    assert s2 < min(s1, s3, s4)
    assert s4 > max(s1, s2, s3)


@PROPERTY
@given(T=times_400, share=realistic_shares)
def test_peak_velocity_falls_between_50_and_150m(T, share):
    prof = build_profile(RacePlan(target_time_s=T, first_half_share=share))
    t, v, x = run_of(prof, T)
    moving = t <= T
    peak_at = x[np.argmax(np.where(moving, v, -1.0))]
    # Hanon & Gajer time 50 m segments: their "peak between 50 and 100 m" is the fastest segment. The instantaneous
    # peak of the shape fitted to real races can come up to ~10 m before 50 m.
    assert 35.0 <= peak_at <= 150.0
    segments = np.diff([0.0, *(crossing(t, x, d) for d in range(50, 401, 50))])
    assert int(np.argmin(segments)) in (1, 2)  # 50-100 m or 100-150 m


# -------------------------------------------------------------------------------------------- shape of the speed curve
def _plan_from(strategy, d, speed, start):
    return RacePlan(distance_m=d, target_time_s=d / speed, strategy=strategy, start=start)


@PROPERTY
@given(
    d=distances,
    speed=plausible_speeds,
    strategy=st.sampled_from(["race", "even"]),
    start=st.sampled_from(["blocks", "standing", "rolling"]),
)
def test_velocity_is_continuous(d, speed, strategy, start):
    """No jumps: sampling ten times finer makes every sample-to-sample change about ten times smaller."""
    plan = _plan_from(strategy, d, speed, start)
    prof = build_profile(plan)
    T = plan.target_time_s
    coarse = np.abs(np.diff(prof.velocity(np.arange(0.0, T, 2e-3))))
    fine = np.abs(np.diff(prof.velocity(np.arange(0.0, T, 2e-4))))
    # A human accelerates at most ~10 m/s² (v_max/τ); a jump of any size would not shrink with the step.
    assert coarse.max() < 15.0 * 2e-3
    assert fine.max() < 0.15 * coarse.max() + 1e-9  # (a constant speed has no change to shrink)
    assert np.all(prof.velocity(np.arange(0.0, T, 1e-3)) >= 0.0)


@PROPERTY
@given(d=distances, speed=plausible_speeds, strategy=st.sampled_from(["race", "even"]), start=from_rest)
def test_acceleration_is_mono_exponential_with_a_published_tau(d, speed, strategy, start):
    """Clark & Ryan 2022: τ ≈ 1 s; Bolt's 9.69 fits 1.39 s. The fit must be good, not just land in range."""
    plan = _plan_from(strategy, d, speed, start)
    prof = build_profile(plan)
    t, v, x = run_of(prof, min(plan.target_time_s, 8.0), dt=1e-3)
    tau, big_v, t0, rms = fit_mono_exponential(t, v, window_s=3.0)
    assert 1.0 <= tau <= 1.4
    assert rms < 0.005 * big_v
    if start == "blocks":
        assert 0.15 - 1e-3 <= t0 <= 0.18 + 1e-3  # elite reaction time out of the blocks (SCIENCE.md)


@PROPERTY
@given(T=times_400)
def test_race_acceleration_tau_at_400m(T):
    prof = build_profile(RacePlan(target_time_s=T))
    t, v, x = run_of(prof, 8.0)
    tau, big_v, t0, rms = fit_mono_exponential(t, v)
    assert 1.0 <= tau <= 1.4
    assert rms < 0.005 * big_v


@PROPERTY
@given(
    d=distances,
    speed=plausible_speeds,
    strategy=st.sampled_from(["race", "even"]),
    start=st.sampled_from(["blocks", "standing", "rolling"]),
)
def test_other_distances_reach_the_line_on_time(d, speed, strategy, start):
    T = d / speed
    prof = build_profile(RacePlan(distance_m=d, target_time_s=T, strategy=strategy, start=start))
    t, v, x = run_of(prof, T)
    assert abs(crossing(t, x, d) - T) < MS


@PROPERTY
@given(d=distances, speed=plausible_speeds, start=from_rest)
def test_even_strategy_is_constant_after_the_start(d, speed, start):
    T = d / speed
    prof = build_profile(RacePlan(distance_m=d, target_time_s=T, strategy="even", start=start))
    t = np.arange(0.0, T, 1e-3)
    v = prof.velocity(t)
    assert np.all(np.diff(v) >= -1e-12)  # never slows down
    cruise = v[t >= 10.0]  # the acceleration is over after ~8 τ
    if cruise.size:
        assert cruise.max() - cruise.min() < 1e-3 * cruise.max()
    t_, v_, x_ = run_of(prof, T)
    assert abs(crossing(t_, x_, d) - T) < MS


@PROPERTY
@given(d=distances, speed=plausible_speeds)
def test_even_strategy_from_a_rolling_start_is_constant_throughout(d, speed):
    T = d / speed
    prof = build_profile(RacePlan(distance_m=d, target_time_s=T, strategy="even", start="rolling"))
    v = prof.velocity(np.linspace(0.0, T, 10001))
    np.testing.assert_allclose(v, d / T, rtol=1e-9)


# ------------------------------------------------------------------------------------------------------ custom splits
@st.composite
def custom_races(draw):
    """Plausible per-100 m splits: a start-laden first 100 m, then a pace that wanders by a few per cent."""
    full = draw(st.integers(1, 9))
    rest = draw(st.sampled_from([0.0, 0.0, 25.0, 50.0, 80.0]))
    distance = 100.0 * full + rest
    # s per 100 m once up to speed; beyond 400 m no faster than 7.35 m/s, under every record's average from there on.
    pace = draw(st.floats(11.5 if distance <= 400.0 else 13.6, 17.0))
    splits = [pace + draw(st.floats(0.6, 1.4))]
    for _ in range(full - 1):
        splits.append(pace * (1.0 + draw(st.floats(-0.03, 0.06))))
    if rest:
        splits.append(pace * rest / 100.0 * (1.0 + draw(st.floats(-0.03, 0.06))))
    return distance, tuple(round(s, 2) for s in splits), draw(st.sampled_from(["blocks", "standing", "rolling"]))


@settings(PROPERTY, max_examples=15)
@given(race=custom_races())
def test_custom_splits_are_reproduced(race):
    distance, splits, start = race
    if start == "rolling":
        splits = (round(splits[0] - 0.8, 2), *splits[1:])  # no start to lose time in
    plan = RacePlan.custom(splits, distance_m=distance, start=start)
    assert plan.target_time_s == pytest.approx(sum(splits), abs=1e-9)
    hold = min(200.0, distance / 2)
    planned = plan_race(plan, hold_last_m=hold)
    t, v, x = run_of(planned.profile, plan.target_time_s)
    marks = [100.0 * k for k in range(1, len(splits))] + [distance]
    np.testing.assert_allclose(split_times(t, x, marks), splits, atol=MS)
    np.testing.assert_allclose([r.split_s for r in planned.splits], splits, atol=MS)
    # The speed stays continuous however the splits jump (a knot must not become a step).
    coarse = np.abs(np.diff(planned.profile.velocity(np.arange(0.0, plan.target_time_s, 2e-3))))
    fine = np.abs(np.diff(planned.profile.velocity(np.arange(0.0, plan.target_time_s, 2e-4))))
    assert coarse.max() < 15.0 * 2e-3
    assert fine.max() < 0.15 * coarse.max() + 1e-9  # (a constant speed has no change to shrink)


def test_the_documented_custom_example_is_reproduced():
    splits = (12.2, 11.9, 12.6, 14.3)
    plan = RacePlan.custom(splits)
    t, v, x = run_of(build_profile(plan), 51.0)
    np.testing.assert_allclose(split_times(t, x, [100, 200, 300, 400]), splits, atol=MS)
    assert plan.target_time_s == pytest.approx(51.0, abs=1e-9)


@pytest.mark.parametrize("time_s", [51.0 - 0.049, 51.0, 51.0 + 0.049])
def test_custom_splits_accept_a_time_that_agrees_within_50ms(time_s):
    plan = RacePlan.custom((12.2, 11.9, 12.6, 14.3), target_time_s=time_s)
    # The splits are the plan: the agreeing --time is a rounding of their sum.
    t, v, x = run_of(build_profile(plan), 51.0)
    assert abs(crossing(t, x, 400.0) - 51.0) < MS


@pytest.mark.parametrize("time_s", [51.0 - 0.06, 51.0 + 0.06, 52.0, 49.0])
def test_custom_splits_refuse_a_time_that_disagrees(time_s):
    with pytest.raises(PlanError) as info:
        RacePlan.custom((12.2, 11.9, 12.6, 14.3), target_time_s=time_s)
    assert str(info.value) == (
        f"the splits add up to 51.00 s but --time is {time_s:.2f} s: make them agree within 0.05 s, or leave out --time"
    )


def test_custom_splits_need_one_split_per_100m():
    with pytest.raises(PlanError, match=r"400 m needs 4 splits \(one per 100 m\), got 3"):
        RacePlan.custom((12.2, 11.9, 12.6))


# ----------------------------------------------------------------------------------------------------- record bounds
@pytest.mark.parametrize("distance, record", sorted(WORLD_RECORDS_S.items()))
def test_a_time_faster_than_the_world_record_is_refused(distance, record):
    with pytest.raises(PlanError) as info:
        RacePlan(distance_m=distance, target_time_s=record - 0.01)
    assert f"faster than the world record ({record:.2f} s)" in str(info.value)
    assert "--allow-faster-than-record" in str(info.value)
    RacePlan(distance_m=distance, target_time_s=record + 0.01)  # the record itself is a plan


@pytest.mark.parametrize("distance, record", sorted(WORLD_RECORDS_S.items()))
def test_the_override_allows_a_faster_time_and_the_plan_still_holds(distance, record):
    T = record * 0.97
    plan = RacePlan(distance_m=distance, target_time_s=T, allow_record=True)
    t, v, x = run_of(build_profile(plan), T)
    assert abs(crossing(t, x, distance) - T) < MS


@PROPERTY
@given(d=distances)
def test_record_bound_between_listed_distances(d):
    """Faster than anyone's average over any distance (12 m/s) is refused; 7 m/s (slower than the 1000 m record's
    7.58 m/s average, the slowest record pace in range) is accepted everywhere."""
    with pytest.raises(PlanError, match="faster than the world record"):
        RacePlan(distance_m=d, target_time_s=d / 12.0)
    RacePlan(distance_m=d, target_time_s=d / 7.0)


@pytest.mark.parametrize("distance", [99.9, 1000.1, float("nan")])
def test_distance_out_of_range_is_refused(distance):
    with pytest.raises(PlanError, match="out of range: give 100 to 1000 m"):
        RacePlan(distance_m=distance, target_time_s=60.0)


@pytest.mark.parametrize("share", [0.40, 0.56])
def test_an_impossible_first_half_share_is_refused(share):
    with pytest.raises(PlanError, match="is impossible for this plan"):
        build_profile(RacePlan(target_time_s=51.0, first_half_share=share))


# ------------------------------------------------------------------------------ the share as the command line sets it
@pytest.mark.parametrize(
    "args, first_half_s",
    [
        (["--first-half", "48.5%"], 0.485 * 51.0),
        (["--first-half", "0.475"], 0.475 * 51.0),
        (["--differential", "2.0"], (51.0 - 2.0) / 2),  # second half 2.0 s slower: 24.5 + 26.5
        (["--differential", "1.5"], (51.0 - 1.5) / 2),
    ],
)
def test_share_and_differential_options_are_met(run_cli, args, first_half_s):
    result = run_cli("plan", "--time", "51", *args, "--json")
    assert result.code == 0, result.err
    splits = json.loads(result.out)["splits"]
    assert splits[1]["distance_m"] == 200.0
    assert abs(splits[1]["elapsed_s"] - first_half_s) < MS
    assert abs(splits[-1]["elapsed_s"] - 51.0) < MS
    assert 0.475 - 1e-9 <= splits[1]["elapsed_s"] / 51.0 <= 0.49 + 1e-9


def test_the_settings_ranges_are_the_engines():
    # The settings keep their own copy of the engine's ranges (so --help loads no numpy): they must agree.
    from stridebeat.config import music, setting, settings
    from stridebeat.core import plan, schedule, stride, track

    assert setting.DISTANCE_RANGE_M == plan.DISTANCE_RANGE_M
    assert setting.REACTION_RANGE_S == plan.REACTION_RANGE_S
    assert setting.MAX_TIME_S == plan.DISTANCE_RANGE_M[1] / plan.MIN_AVERAGE_SPEED
    assert setting.STEPS_RANGE == stride.STEPS_RANGE
    assert setting.STEP_LENGTH_RANGE_M == stride.STEP_LENGTH_RANGE
    assert setting.HEIGHT_RANGE_M == stride.HEIGHT_RANGE
    assert setting.CADENCE_RANGE_SPM == schedule.CADENCE_RANGE_SPM
    assert setting.MAX_TRACK_S == track.MAX_TRACK_S
    assert setting.SAMPLERATES == track.SAMPLERATES
    assert setting.QUALITIES == track.QUALITIES
    assert setting.DEFAULT_TAIL_S == track.SoundOptions().tail_s
    assert setting.MUSIC_DUCK_RANGE_DB == (0.0, music.MUSIC_DUCK_MAX_DB)
    assert settings.BY_KEY["steps_per_100m"].range == stride.STEPS_RANGE
