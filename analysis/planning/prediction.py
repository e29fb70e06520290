"""From counted inputs to predicted counts, per group and horizon.

Per group, one curve is fitted on the window's time at risk (three years by default;
:class:`~analysis.planning.forecast_model.Curve`). Hazards move from year to year with
policing, courts and the people released, so each band of days since release
(:data:`BANDS`) then gets a *level* from the last twelve months: the events seen then
over those the curves expect (:func:`~analysis.planning.forecast_model.relative_level`,
one level per band for all groups). The same ratio for each earlier twelve months tells
how much a level moves in a year (:func:`~analysis.planning.forecast_model.level_drift`):
the last year's level is trusted as far as levels really move (a random-effects weight,
:func:`fit_level`), and each bootstrap curve's window is moved by a random change of the
size seen for all days together, scaled to the time between the middle of the last
twelve months and the middle of the window. So the interval holds the curves'
estimation error, the level's own chance error, a change of level as large as those
seen before, and the chance of each person's outcome.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.planning.forecast_model import (
    Curve,
    Hazards,
    level_drift,
    predict_count,
    relative_level,
    released_probabilities,
    upcoming_probabilities,
)

DEFAULT_LEVEL = 0.90
#: Bootstrap curves, and chance draws per curve: 2,000 predicted counts per window.
REPLICATES = 200
CHANCE_DRAWS = 10
#: The pooled group of a forecast without a breakdown (and the curve of a group that
#: has upcoming releases but no history).
ALL = "all"


@dataclass(frozen=True)
class ForecastInputs:
    """What one forecast is computed from (all counted in the database).

    ``history`` (``group, t, c, at_risk, event_after, n``) and ``entries``
    (``group, e, n``) cover the fitting window; ``upcoming`` (``group, u, n``) the
    releases after the as-of date; ``periods`` the history and entries of each
    twelve months before it, the latest first.
    """

    history: pd.DataFrame
    entries: pd.DataFrame
    upcoming: pd.DataFrame
    periods: tuple[tuple[pd.DataFrame, pd.DataFrame], ...] = ()


#: Bands of days since release, each with its own level: hazards soon after release
#: and later ones do not move together.
BANDS: tuple[tuple[float, float], ...] = ((0, 182), (182, 365), (365, 730), (730, np.inf))


@dataclass(frozen=True)
class Level:
    """The curves' level in each band of :data:`BANDS`: the latest year's factors (row
    0 the point, then the bootstrap), the yearly drift of the level of all days together
    (standard deviation of its log change in a year) and each band's yearly point
    levels, the latest first."""

    factors: np.ndarray          # (bands, replicates + 1)
    drift: float
    yearly: tuple[tuple[float, ...], ...]

    def on(self, times: np.ndarray) -> np.ndarray:
        """The factor of every row and time: the level of the time's band."""
        band = np.searchsorted([high for _, high in BANDS], times, side="left")
        return self.factors[band].T

    def changes(self, days: int, rng: np.random.Generator) -> np.ndarray:
        """A random change of level for each curve row (1 for row 0), over the time from
        the middle of the last twelve months to the middle of a window of ``days``."""
        years = (days / 2 + 182.6) / 365.25
        change = np.exp(rng.normal(0.0, self.drift * np.sqrt(years), self.factors.shape[1]))
        change[0] = 1.0
        return change


def _counts(history: pd.DataFrame, entries: pd.DataFrame) -> tuple[np.ndarray, ...]:
    return (history["t"].to_numpy(), history["c"].to_numpy(), history["n"].to_numpy(),
            entries["e"].to_numpy(), entries["n"].to_numpy())


def _by_group(frame: pd.DataFrame, pooled: bool) -> dict[str, pd.DataFrame]:
    if pooled:
        return {ALL: frame}
    return {str(key): rows for key, rows in frame.groupby(frame["group"].astype(str))}


def fit_curves(history: pd.DataFrame, entries: pd.DataFrame, pooled: bool
               ) -> dict[str, Curve]:
    """One curve per group, and everyone's under :data:`ALL`."""
    curves = {ALL: Curve.from_counts(*_counts(history, entries))}
    entered = _by_group(entries, pooled)
    for name, rows in _by_group(history, pooled).items():
        curves[name] = Curve.from_counts(*_counts(rows, entered.get(name, entries.iloc[:0])))
    return curves


def fit_level(hazards: dict[str, Hazards], periods, pooled: bool, replicates: int,
              rng: np.random.Generator) -> Level:
    """Each band's latest level against the curves, and the drift between years."""
    factors = np.ones((len(BANDS), replicates + 1))
    series: list[tuple[list[float], list[float]]] = []
    for index, band in enumerate((*BANDS, (0, np.inf))):
        levels: list[float] = []
        observed: list[float] = []
        for history, entries in periods:
            groups, entered = _by_group(history, pooled), _by_group(entries, pooled)
            names = [name for name in sorted(groups) if name in hazards]
            parts = [_counts(groups[n], entered.get(n, entries.iloc[:0])) for n in names]
            found, seen = relative_level([hazards[n] for n in names], parts, rng, days=band)
            if not levels and index < len(BANDS):
                factors[index] = found
            levels.append(float(found[0]))
            observed.append(seen)
        series.append((levels, observed))
    # the bands' own drift weighs their levels; the drift of all days together is the
    # change a window's total may see
    overall = series.pop()
    drift = level_drift(series)
    for index, (_, observed) in enumerate(series):
        # Trust the last twelve months as far as the level really moves between years:
        # with no drift the window's curves stand; with a drift much larger than the
        # year's chance error, the year's level does (a random-effects weight).
        chance = 1.0 / observed[0] if observed and observed[0] > 0 else np.inf
        weight = drift ** 2 / (drift ** 2 + chance) if drift > 0 else 0.0
        factors[index] = 1.0 + weight * (factors[index] - 1.0)
    return Level(factors, level_drift([overall]),
                 tuple(tuple(levels) for levels, _ in series))


def _staying(probability: np.ndarray) -> np.ndarray:
    """``1 - probability``, kept in [0, 1] (rounding may put a probability a hair above 1,
    and a negative base has no real power)."""
    return np.clip(1.0 - probability, 0.0, 1.0)


def predict(inputs: ForecastInputs, horizons: dict[int, int], *, pooled: bool,
            level: float = DEFAULT_LEVEL, replicates: int = REPLICATES,
            chance_draws: int = CHANCE_DRAWS, seed: int = 2026
            ) -> tuple[pd.DataFrame, pd.DataFrame, Level]:
    """The predictions per group and horizon from counted inputs.

    Parameters
    ----------
    inputs : ForecastInputs
    horizons : dict
        Months -> days from the as-of date to the end of the window.
    pooled : bool
        No breakdown: one group, ``all``.

    Returns
    -------
    groups : DataFrame
        ``group, at_risk, upcoming_releases, pooled_curve``.
    table : DataFrame
        ``group, months, days, expected, expected_released, expected_upcoming, lower,
        upper``.
    level : Level
        The level the curves were set to.
    """
    rng = np.random.default_rng(seed)
    curves = fit_curves(inputs.history, inputs.entries, pooled)
    # everyone's curve only stands in for a group without history: drawn only then
    hazards = {name: curve.hazards(replicates, rng) for name, curve in curves.items()
               if name != ALL or pooled}
    fitted = fit_level(hazards, inputs.periods, pooled, replicates, rng)
    history = _by_group(inputs.history[inputs.history["at_risk"]], pooled)
    upcoming = _by_group(inputs.upcoming, pooled)
    longest = max(horizons.values())
    names = sorted(set(history) | {n for n, rows in upcoming.items()
                                   if (rows["u"] <= longest).any()})
    group_rows, rows = [], []
    for name in names:
        if name not in hazards:
            hazards[name] = curves[ALL].hazards(replicates, rng)
        curve = hazards[name]
        risk = history.get(name, inputs.history.iloc[:0]).groupby("t", as_index=False)["n"].sum()
        coming = upcoming.get(name, inputs.upcoming.iloc[:0])
        coming = coming.groupby("u", as_index=False)["n"].sum()
        since, released = risk["t"].to_numpy(), risk["n"].to_numpy()
        after, newcomers = coming["u"].to_numpy(), coming["n"].to_numpy()
        group_rows.append({"group": name, "at_risk": int(released.sum()),
                           "upcoming_releases": int(newcomers[after <= longest].sum()),
                           "pooled_curve": bool(name not in curves)})
        incidence, survival = curve.paths(fitted.on(curve.times))
        for months, days in horizons.items():
            # the level's change multiplies the hazard of the whole window: a
            # probability p becomes 1 - (1 - p) ** change (exact without competing ends)
            change = fitted.changes(days, rng)[:, None]
            p_released = 1.0 - _staying(released_probabilities(
                incidence, survival, curve.times, since, days)) ** change
            p_coming = 1.0 - _staying(upcoming_probabilities(
                incidence, curve.times, after, days)) ** change
            prediction = predict_count(np.hstack([p_released, p_coming]),
                                       np.concatenate([released, newcomers]), level=level,
                                       chance_draws=chance_draws, rng=rng)
            rows.append({"group": name, "months": months, "days": days,
                         "expected": prediction.expected,
                         "expected_released": float(p_released[0] @ released),
                         "expected_upcoming": float(p_coming[0] @ newcomers),
                         "lower": prediction.lower, "upper": prediction.upper})
    groups = pd.DataFrame(group_rows, columns=["group", "at_risk", "upcoming_releases",
                                               "pooled_curve"])
    table = pd.DataFrame(rows, columns=["group", "months", "days", "expected",
                                        "expected_released", "expected_upcoming", "lower",
                                        "upper"])
    return groups, table, fitted
