"""The fixed-horizon rate's exact CI: statsmodels' Clopper–Pearson, as the beta formula and R."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from analysis.survival.fixed_horizon import clopper_pearson

GRID = [(events, n) for n in (*range(1, 41), 97, 190, 1000, 12_345, 1_000_000)
        for events in sorted({0, 1, 2, n // 3, n // 2, n - 2, n - 1, n}) if 0 <= events <= n]


def beta_quantiles(events: int, n: int, conf_level: float) -> tuple[float, float]:
    """The hand-written formula the engine used before statsmodels."""
    alpha = 1 - conf_level
    lower = 0.0 if events == 0 else stats.beta.ppf(alpha / 2, events, n - events + 1)
    upper = 1.0 if events == n else stats.beta.ppf(1 - alpha / 2, events + 1, n - events)
    return float(lower), float(upper)


@pytest.mark.parametrize("conf_level", [0.95, 0.9, 0.99])
def test_same_interval_as_the_beta_quantiles_on_a_grid(conf_level):
    for events, n in GRID:
        got = clopper_pearson(events, n, conf_level)
        want = beta_quantiles(events, n, conf_level)
        assert got == pytest.approx(want, abs=1e-12, rel=0), (events, n)


@pytest.mark.parametrize(("events", "n", "lower", "upper"), [
    # R 4.2: binom.test(events, n)$conf.int
    (0, 10, 0.0, 0.30849710781876083),
    (3, 10, 0.066739511177734495, 0.65245285005999731),
    (10, 10, 0.69150289218123917, 1.0),
    (1, 1, 0.025000000000000022, 1.0),
    (0, 1, 0.0, 0.97499999999999998),
    (17, 190, 0.052987866482880779, 0.13939038127723324),
    (499, 1000, 0.46755218625373818, 0.5304537166614578),
])
def test_matches_r_binom_test(events, n, lower, upper):
    assert clopper_pearson(events, n) == pytest.approx((lower, upper), abs=1e-12, rel=0)


def test_bounds_are_exactly_zero_and_one_at_the_ends():
    assert clopper_pearson(0, 25)[0] == 0.0
    assert clopper_pearson(25, 25)[1] == 1.0


def test_no_releases_gives_no_interval():
    assert all(math.isnan(x) for x in clopper_pearson(0, 0))
