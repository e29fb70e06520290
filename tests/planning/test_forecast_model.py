"""The forecast's arithmetic: its curve is the R-checked Aalen–Johansen estimate, its
probabilities follow from the curve, and its 90% intervals cover 90% of simulated
futures."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from analysis.planning.forecast_model import (
    Curve,
    Hazards,
    at_days,
    level_drift,
    predict_count,
    relative_level,
    risk_set_at,
)
from analysis.planning.prediction import ForecastInputs, predict
from analysis.study import Study
from tests.planning.test_forecast import _oracle
from tests.survival.km_db import make_db

D = dt.date


def _single_releases(rng: np.random.Generator, n: int = 400):
    """One release per person, rearrests and deaths at random: the forecast's causes and
    the episodes' causes are then the same (no next release, no reincarceration)."""
    releases, events = [], []
    for i in range(n):
        day = D(2020, 1, 1) + dt.timedelta(days=int(rng.integers(0, 900)))
        end = D(2023, 12, 31)
        release = {"release_id": f"r{i}", "person_id": f"p{i}", "release_date": day,
                   "follow_up_end": end}
        if rng.random() < 0.1:
            release["follow_up_end"] = day + dt.timedelta(days=int(rng.integers(0, 600)))
            release["follow_up_end_reason"] = "death"
        if rng.random() < 0.5:
            events.append((f"p{i}", day + dt.timedelta(days=int(rng.integers(1, 40) * 10)),
                           "rearrest"))
        releases.append(release)
    return make_db(releases=releases, events=events)


def test_the_curve_is_the_aalen_johansen_estimate_that_agrees_with_r():
    con = _single_releases(np.random.default_rng(7))
    study = Study(con, outcome="rearrest")
    episodes = study.episodes()
    exits, _ = _oracle(episodes, D(2023, 12, 31), None)
    curve = Curve.from_counts(exits["t"].to_numpy(), exits["c"].to_numpy(),
                              exits["n"].to_numpy())
    incidence, _ = curve.hazards(0, np.random.default_rng(0)).paths()
    reference = study.cumulative_incidence().table
    reference = reference[reference["cause"] == "reoffence"]
    ours = at_days(incidence, curve.times, reference["time"].to_numpy(), 0.0)[0]
    np.testing.assert_allclose(ours, reference["cif"].to_numpy(), rtol=1e-12)
    con.close()


def test_a_bootstrap_curve_varies_around_the_estimate():
    curve = Curve(np.array([10, 20]), np.array([1000, 900]), np.array([100, 90]),
                  np.array([0, 0]))
    incidence, _ = curve.hazards(2000, np.random.default_rng(3)).paths()
    assert incidence[0, -1] == pytest.approx(0.1 + 0.9 * 0.1)
    assert incidence[1:, -1].mean() == pytest.approx(0.19, abs=0.002)
    assert 0.005 < incidence[1:, -1].std() < 0.02


def test_the_risk_set_counts_late_entries_only_after_their_entry_day():
    # 3 followed to day 5 (one of them entered on day 5: at risk from day 6), 1 to day 10
    assert risk_set_at(np.array([5, 6, 10]), np.array([5, 5, 5, 10]), np.ones(4, int),
                       np.array([2]), np.array([1])).tolist() == [4, 1, 1]


def test_a_part_with_twice_the_events_has_level_two_and_bands_split_it():
    whole = Hazards(np.array([1, 400]), np.array([[0.02, 0.02]]), np.zeros((1, 2)))
    part = (np.array([1, 400, 400]), np.array([1, 1, 0]), np.array([2, 4, 44]),
            np.array([], dtype=int), np.array([], dtype=int))
    early, _ = relative_level([whole], [part], np.random.default_rng(0), days=(0, 182))
    late, seen = relative_level([whole], [part], np.random.default_rng(0), days=(365, np.inf))
    # day 1: 2 seen, 50 at risk * 2/100 = 1 expected; day 400: 4 seen among 48 * 0.02
    assert early[0] == pytest.approx(2.0)
    assert late[0] == pytest.approx(4 / 0.96) and seen == 4


def test_drift_is_the_yearly_change_beyond_chance():
    assert level_drift([([1.0, 1.0, 1.0], [100, 100, 100])]) == 0.0
    assert level_drift([([1.0, 1.0], [1e9, 1e9])]) == 0.0  # two years: no estimate
    assert level_drift([([1.2, 1.0, 1.2, 1.0], [1e9] * 4)]) == pytest.approx(np.log(1.2))
    # pooled over bands: one band moving 20% a year, the other not at all
    assert level_drift([([1.2, 1.0, 1.2], [1e9] * 3), ([1.0, 1.0, 1.0], [1e9] * 3)]
                       ) == pytest.approx(np.log(1.2) / np.sqrt(2))


def test_a_certain_and_an_impossible_cell_give_an_exact_count():
    probabilities = np.tile([1.0, 0.0], (11, 1))
    prediction = predict_count(probabilities, np.array([7, 50]), level=0.9, chance_draws=4,
                               rng=np.random.default_rng(0))
    assert (prediction.expected, prediction.lower, prediction.upper) == (7.0, 7, 7)


def test_chance_alone_gives_the_binomial_interval():
    # 1,000 people with p = 0.2 each, no estimation error: Binomial(1000, 0.2)
    probabilities = np.full((401, 1), 0.2)
    prediction = predict_count(probabilities, np.array([1000]), level=0.9, chance_draws=20,
                               rng=np.random.default_rng(1))
    assert prediction.expected == pytest.approx(200)
    assert abs(prediction.lower - 179) <= 2 and abs(prediction.upper - 221) <= 2


# --- coverage by simulation ---------------------------------------------------------------

AS_OF = D(2024, 12, 31)
HORIZONS = {3: 90, 6: 181, 12: 365}


def _simulate(rng: np.random.Generator, people: int = 3000):
    """Releases over six years before the as-of date and one after it, constant hazards
    (outcome 1/900 a day, competing 1/5000): the forecast's assumptions hold."""
    first = pd.Timestamp(AS_OF) - pd.Timedelta(days=6 * 365)
    offsets = rng.integers(0, 7 * 365, people)
    release = first + pd.to_timedelta(offsets, unit="D")
    outcome = np.ceil(rng.exponential(900, people)).astype(int)
    competing = np.ceil(rng.exponential(5000, people)).astype(int)
    time = np.minimum(np.minimum(outcome, competing), 4000)
    cause = np.where(outcome <= np.minimum(competing, 4000), 1,
                     np.where(competing <= 4000, 2, 0))
    reason = np.select([cause == 1, cause == 2], ["outcome", "competing"], "follow_up_end")
    return pd.DataFrame({"release_date": release.date, "time": time, "cause": cause,
                         "end_reason": reason})


def _inputs(episodes: pd.DataFrame) -> tuple[ForecastInputs, pd.DataFrame]:
    as_of = pd.Timestamp(AS_OF)
    past = episodes[pd.to_datetime(episodes["release_date"]) <= as_of]
    exits, entries = _oracle(past, AS_OF, D(2021, 12, 31))
    periods = []
    for year in range(4):
        end = D(2024 - year, 12, 31)
        history, entered = _oracle(past, end, D(2023 - year, 12, 31))
        periods.append((history.assign(group="all"), entered.assign(group="all")))
    later = episodes[pd.to_datetime(episodes["release_date"]) > as_of].copy()
    later["u"] = (pd.to_datetime(later["release_date"]) - as_of).dt.days
    upcoming = later.groupby("u").size().rename("n").reset_index().assign(group="all")
    inputs = ForecastInputs(exits.assign(group="all"), entries.assign(group="all"),
                            upcoming, tuple(periods))
    return inputs, later


def _observed(episodes: pd.DataFrame, later: pd.DataFrame, days: int) -> int:
    since = (pd.Timestamp(AS_OF) - pd.to_datetime(episodes["release_date"])).dt.days
    at_risk = (since >= 0) & (episodes["time"] > since)
    soon = at_risk & (episodes["cause"] == 1) & (episodes["time"] <= since + days)
    new = (later["cause"] == 1) & (later["u"] + later["time"] <= days)
    return int(soon.sum() + new.sum())


def test_the_90_percent_intervals_cover_about_90_percent_of_simulated_futures():
    covered = []
    for seed in range(30):
        episodes = _simulate(np.random.default_rng(seed))
        inputs, later = _inputs(episodes)
        _, table, _ = predict(inputs, HORIZONS, pooled=True, seed=seed)
        for line in table.itertuples():
            observed = _observed(episodes, later, int(line.days))
            covered.append(line.lower <= observed <= line.upper)
    coverage = float(np.mean(covered))
    # 90 correlated cells: 0.90 at these seeds; 0.9 give or take about 0.05
    assert 0.85 <= coverage <= 0.96, coverage
