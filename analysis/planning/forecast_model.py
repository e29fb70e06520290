"""The arithmetic of a forecast: curves, their bootstrap, and the predictive counts.

For one group, the releases up to the as-of date give an Aalen–Johansen estimate of the
cumulative incidence ``F1`` of the outcome, with everything else that ends the time at
risk (:mod:`analysis.survival.forecast_inputs`) as the competing end, and the
event-free survival ``S = 1 - F1 - F2``. Then

* a person at risk ``s`` days after release has the first event in the next ``H`` days
  with probability ``(F1(s + H) - F1(s)) / S(s)`` (conditional on being event-free at
  ``s``);
* a person released ``u`` days after the as-of date, with probability ``F1(H - u)``.

The expected number of people with a first event is the sum of those probabilities.
Its 90% prediction interval holds two uncertainties:

* **estimation** — the curve is redrawn ``replicates`` times by a parametric bootstrap
  of its daily counts (on each day with ``n`` at risk, ``d1`` outcome events and ``d2``
  competing ends, ``d1* ~ Binomial(n, d1/n)`` and ``d2* ~ Binomial(n - d1*, d2/(n - d1))``,
  the resampling behind Greenwood's variance);
* **chance** — given a curve, each person has the event or not: the count is a sum of
  Bernoulli draws (Poisson-binomial). People are pooled into at most :data:`BINS`
  bins of similar probability and each bin drawn as a binomial of its mean probability
  (which keeps the mean exactly and can only widen the interval a little).

The interval is the 5th and 95th percentile of ``replicates * chance_draws`` predicted
counts. ``tests/planning/test_forecast_model.py`` checks the probabilities on a curve
worked by hand and the interval's coverage by simulation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: At most this many bins of similar probability per group and horizon (chance draws).
BINS = 64
#: From this variance on, a predicted count's chance part is drawn from its normal
#: approximation (continuity-corrected by rounding): the binomials of the bins summed.
NORMAL_FROM = 50.0


@dataclass(frozen=True)
class Curve:
    """Daily counts of one group's follow-up, and the curves they give.

    ``times`` are the distinct days with an event, competing end or censoring;
    ``at_risk`` the number followed at the start of each; ``events`` and ``competing``
    the outcome events and competing ends on it.
    """

    times: np.ndarray
    at_risk: np.ndarray
    events: np.ndarray
    competing: np.ndarray

    @classmethod
    def from_counts(cls, t: np.ndarray, c: np.ndarray, n: np.ndarray,
                    entry_days: np.ndarray | None = None,
                    entry_counts: np.ndarray | None = None) -> Curve:
        """From rows ``(t, c, n)``: ``n`` episodes that lasted ``t`` days and ended with
        forecast cause ``c`` (1 outcome, 2 competing, 0 censored); of them,
        ``entry_counts`` entered the risk set only ``entry_days`` days after release
        (a period estimate, left truncation), the others on day 0.

        Examples
        --------
        >>> curve = Curve.from_counts(np.array([5, 5, 10]), np.array([1, 0, 2]),
        ...                           np.array([2, 1, 1]))
        >>> curve.times.tolist(), curve.at_risk.tolist(), curve.events.tolist()
        ([5, 10], [4, 1], [2, 0])

        One of the four entered on day 7: it is at risk on day 10, not on day 5.

        >>> Curve.from_counts(np.array([5, 5, 10]), np.array([1, 0, 2]), np.array([2, 1, 1]),
        ...                   np.array([7]), np.array([1])).at_risk.tolist()
        [3, 1]
        """
        times, index = np.unique(np.asarray(t, dtype=np.int64), return_inverse=True)
        n = np.asarray(n, dtype=np.int64)
        c = np.asarray(c)
        events, competing = (np.bincount(index, weights=n * (c == k), minlength=len(times))
                             for k in (1, 2))
        at_risk = risk_set_at(times, t, n, entry_days, entry_counts)
        return cls(times, at_risk, events.astype(np.int64), competing.astype(np.int64))

    def hazards(self, replicates: int, rng: np.random.Generator) -> Hazards:
        """The daily hazards on :attr:`times`: row 0 the estimate, then ``replicates``
        bootstrap rows (the parametric bootstrap of the module's docstring)."""
        n = self.at_risk.astype(float)
        safe_n = np.where(n > 0, n, 1.0)
        h1, h2 = self.events / safe_n, self.competing / safe_n
        # a day without an outcome event (or a competing end) has none in any bootstrap
        # curve: only the other days are drawn
        d1 = np.zeros((replicates + 1, len(n)))
        d1[0] = self.events
        some = self.events > 0
        d1[1:, some] = rng.binomial(self.at_risk[some], h1[some], (replicates, int(some.sum())))
        d2 = np.zeros_like(d1)
        d2[0] = self.competing
        some = self.competing > 0
        rest = np.maximum(self.at_risk[some] - d1[1:, some], 0).astype(np.int64)
        h2_rest = np.where(h1[some] < 1, h2[some] / np.where(h1[some] < 1, 1 - h1[some], 1.0),
                           0.0)
        d2[1:, some] = rng.binomial(rest, np.clip(h2_rest, 0, 1))
        return Hazards(self.times, d1 / safe_n, d2 / safe_n)


@dataclass(frozen=True)
class Hazards:
    """Daily hazards of the outcome and of the competing ends on ``times``, one row per
    curve (row 0 the estimate, then the bootstrap curves)."""

    times: np.ndarray
    outcome: np.ndarray
    competing: np.ndarray

    def paths(self, level: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``F1`` and ``S`` on :attr:`times`, one row per curve.

        ``level`` multiplies the outcome's daily hazard: one factor per row, or one per
        row and time (the level of each band of days since release, :func:`relative_level`).

        Returns
        -------
        incidence, survival : ndarray of shape (rows, len(times))

        Examples
        --------
        >>> Hazards(np.array([1, 2]), np.array([[0.5, 0.5]]), np.array([[0.0, 0.0]])
        ...         ).paths(np.array([1.0]))[0].tolist()
        [[0.5, 0.75]]
        """
        hazard = self.outcome
        if level is not None:
            factor = np.asarray(level, dtype=float)
            factor = factor[:, None] if factor.ndim == 1 else factor
            hazard = np.minimum(hazard * factor, 1.0)
        leave = np.minimum(hazard + self.competing, 1.0)
        survival = np.cumprod(1.0 - leave, axis=1)
        before = np.hstack([np.ones((len(leave), 1)), survival[:, :-1]])
        incidence = np.cumsum(before * np.minimum(hazard, leave), axis=1)
        return incidence, survival


def risk_set_at(days: np.ndarray, t: np.ndarray, n: np.ndarray,
                entry_days: np.ndarray | None = None,
                entry_counts: np.ndarray | None = None) -> np.ndarray:
    """People at risk on each of ``days``: entered before the day, not left before it.

    ``n`` episodes lasted ``t`` days; ``entry_counts`` of them entered the risk set only
    ``entry_days`` after release (the others on day 0).

    Examples
    --------
    >>> risk_set_at(np.array([1, 5, 6]), np.array([5, 10]), np.array([3, 1]),
    ...             np.array([5]), np.array([1])).tolist()
    [3, 3, 1]
    """
    days = np.asarray(days, dtype=np.int64)
    order = np.argsort(t, kind="stable")
    ends = np.asarray(t, dtype=np.int64)[order]
    left = np.concatenate(([0], np.cumsum(np.asarray(n, dtype=np.int64)[order])))
    at_risk = left[-1] - left[np.searchsorted(ends, days, side="left")]
    if entry_days is not None and entry_counts is not None and len(entry_days):
        order = np.argsort(entry_days, kind="stable")
        starts = np.asarray(entry_days, dtype=np.int64)[order]
        entered = np.concatenate(([0], np.cumsum(np.asarray(entry_counts)[order])))
        # entered on or after the day: not yet at risk on it
        at_risk = at_risk - (entered[-1] - entered[np.searchsorted(starts, days, side="left")])
    return at_risk.astype(np.int64)


def relative_level(hazards: list[Hazards], parts: list[tuple[np.ndarray, ...]],
                   rng: np.random.Generator, days: tuple[float, float] = (0, np.inf)
                   ) -> tuple[np.ndarray, float]:
    """How a part of the people fares against the curves: events seen over expected.

    ``hazards`` are the curves fitted on everyone (one per group, each with its
    bootstrap rows); ``parts`` holds, for the same groups in the same order, the counts
    of the part (e.g. the last twelve months): ``(t, c, n, entry_days, entry_counts)``
    as for :meth:`Curve.from_counts`. The expected number is each curve's hazard on each
    of its days times the part's people at risk on that day, for every curve row. Row 0
    of the result is ``observed / expected``; the bootstrap rows redraw the observed
    number (Poisson) over their own curve's expectation, so that the level times the
    curve carries the part's chance error, not the whole curve's. 1 where nothing is
    expected. ``days`` limits both numbers to the days since release in
    ``(low, high]``. Also returns the number observed.

    Examples
    --------
    A curve with a hazard of 2% on days 1 and 2; a part of 50 people followed both days
    had 4 events on day 2, where the curve expects 2:

    >>> whole = Hazards(np.array([1, 2]), np.array([[0.02, 0.02]]), np.zeros((1, 2)))
    >>> part = (np.array([2, 2]), np.array([1, 0]), np.array([4, 46]),
    ...         np.array([], dtype=int), np.array([], dtype=int))
    >>> factors, observed = relative_level([whole], [part], np.random.default_rng(0))
    >>> float(factors[0]), observed
    (2.0, 4.0)
    """
    low, high = days
    observed = float(sum(n[(c == 1) & (t > low) & (t <= high)].sum() for t, c, n, *_ in parts))
    rows = len(hazards[0].outcome) if hazards else 1
    expected = np.zeros(rows)
    for curve, (t, _c, n, entry_days, entry_counts) in zip(hazards, parts, strict=True):
        inside = (curve.times > low) & (curve.times <= high)
        people = risk_set_at(curve.times[inside], t, n, entry_days, entry_counts)
        expected += curve.outcome[:, inside] @ people
    seen = np.concatenate(([observed], rng.poisson(observed, rows - 1)))
    factors = np.where(expected > 0, seen / np.where(expected > 0, expected, 1.0), 1.0)
    return factors, observed


def level_drift(series: list[tuple[list[float], list[float]]]) -> float:
    """How far the hazard's level moves in a year: the standard deviation of the log
    change between consecutive years' levels, beyond what chance alone would give.

    ``series`` holds, per band of days since release, the levels from the latest year
    back and the events behind each (chance adds about ``1/observed`` to the variance
    of a log level); the changes of every band are pooled (a few years per band are
    too few to estimate a spread each). Fewer than three years: 0 (no estimate).

    Examples
    --------
    Levels rising 10% a year, on many events:

    >>> round(level_drift([([1.21, 1.1, 1.0], [1e9, 1e9, 1e9])]), 4)
    0.0953
    """
    changes = []
    for levels, observed in series:
        if len(levels) < 3 or min(observed) <= 0 or min(levels) <= 0:
            continue
        logs = np.log(np.asarray(levels, dtype=float))
        chance = 1.0 / np.asarray(observed, dtype=float)
        changes.append(np.diff(logs) ** 2 - (chance[:-1] + chance[1:]))
    if not changes:
        return 0.0
    return float(np.sqrt(max(np.concatenate(changes).mean(), 0.0)))


def at_days(values: np.ndarray, times: np.ndarray, days: np.ndarray, start: float
            ) -> np.ndarray:
    """Right-continuous step functions (rows of ``values`` on ``times``) at ``days``.

    Before the first time the value is ``start`` (0 for ``F1``, 1 for ``S``).

    Examples
    --------
    >>> at_days(np.array([[0.1, 0.3]]), np.array([5, 10]), np.array([0, 5, 7, 12]), 0.0)
    array([[0. , 0.1, 0.1, 0.3]])
    """
    index = np.searchsorted(times, days, side="right") - 1
    taken = values[:, np.maximum(index, 0)]
    return np.where(index[None, :] >= 0, taken, start)


def released_probabilities(incidence: np.ndarray, survival: np.ndarray, times: np.ndarray,
                           since: np.ndarray, horizon: int) -> np.ndarray:
    """First event within ``horizon`` days, for people event-free ``since`` days after release.

    Examples
    --------
    >>> f1, s = np.array([[0.2, 0.5]]), np.array([[0.8, 0.4]])
    >>> released_probabilities(f1, s, np.array([10, 20]), np.array([10]), 15).round(3)
    array([[0.375]])
    """
    f_now = at_days(incidence, times, since, 0.0)
    f_later = at_days(incidence, times, since + horizon, 0.0)
    s_now = at_days(survival, times, since, 1.0)
    return np.where(s_now > 0, (f_later - f_now) / np.where(s_now > 0, s_now, 1.0), 0.0)


def upcoming_probabilities(incidence: np.ndarray, times: np.ndarray, after: np.ndarray,
                           horizon: int) -> np.ndarray:
    """First event within ``horizon`` days of the as-of date, for people released
    ``after`` days after it (nothing for those released after the horizon).

    Examples
    --------
    >>> upcoming_probabilities(np.array([[0.2, 0.5]]), np.array([10, 20]),
    ...                        np.array([5, 30]), 25)
    array([[0.5, 0. ]])
    """
    remaining = horizon - after
    inside = remaining >= 0
    return np.where(inside[None, :],
                    at_days(incidence, times, np.maximum(remaining, 0), 0.0), 0.0)


@dataclass(frozen=True)
class Prediction:
    """The predicted number of people with a first event in one window."""

    expected: float
    lower: int
    upper: int


def predict_count(probabilities: np.ndarray, people: np.ndarray, *, level: float,
                  chance_draws: int, rng: np.random.Generator) -> Prediction:
    """The expected count and its prediction interval.

    Parameters
    ----------
    probabilities : ndarray of shape (replicates + 1, cells)
        Row 0 the estimate, the other rows the bootstrap curves.
    people : ndarray of shape (cells,)
        How many people share each cell's probabilities.
    level : float
        Of the interval (0.9: from the 5th to the 95th percentile).
    chance_draws : int
        Chance draws per bootstrap curve.

    Examples
    --------
    Ten people certain to have the event, whatever the curve:

    >>> rng = np.random.default_rng(1)
    >>> predict_count(np.ones((5, 1)), np.array([10]), level=0.9, chance_draws=3, rng=rng)
    Prediction(expected=10.0, lower=10, upper=10)
    """
    people = np.asarray(people, dtype=np.int64)
    if people.sum() == 0:
        return Prediction(0.0, 0, 0)
    expected = float(probabilities[0] @ people)
    bins = _bins(probabilities[0], people)
    sizes = np.bincount(bins, weights=people).astype(np.int64)
    # people of each bin weighted by each curve's probabilities: cells sorted by bin,
    # summed per bin in one pass
    order = np.argsort(bins, kind="stable")
    starts = np.searchsorted(bins[order], np.arange(len(sizes)))
    filled = sizes > 0
    weighted = np.zeros((len(probabilities) - 1, len(sizes)))
    weighted[:, filled] = np.add.reduceat(probabilities[1:, order] * people[order],
                                          starts[filled], axis=1)
    mean_p = np.clip(weighted / np.where(sizes > 0, sizes, 1), 0.0, 1.0)
    mean = mean_p @ sizes
    variance = (mean_p * (1.0 - mean_p)) @ sizes
    if variance.min() >= NORMAL_FROM:
        # a sum of many binomials: its normal approximation, one draw instead of a bin's
        noise = rng.standard_normal((chance_draws, len(mean)))
        draws = np.rint(mean + np.sqrt(variance) * noise)
    else:
        draws = rng.binomial(sizes, mean_p[None, :, :].repeat(chance_draws, axis=0)
                             ).sum(axis=2)
    tail = (1.0 - level) / 2
    lower, upper = np.quantile(draws, [tail, 1.0 - tail], method="inverted_cdf")
    return Prediction(expected, int(lower), int(upper))


def _bins(point: np.ndarray, people: np.ndarray) -> np.ndarray:
    """Bin index of each cell: cells sorted by probability, cut into groups of people."""
    if len(point) <= BINS:
        return np.arange(len(point))
    order = np.argsort(point, kind="stable")
    share = np.cumsum(people[order]) / max(int(people.sum()), 1)
    ranked = np.minimum((share * BINS).astype(np.int64), BINS - 1)
    bins = np.empty(len(point), dtype=np.int64)
    bins[order] = ranked
    return bins
