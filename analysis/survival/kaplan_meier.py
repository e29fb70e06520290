"""Kaplan–Meier survival and recidivism curves, matching R's ``survfit``.

Estimates are computed from a small table of counts per distinct time (one row per
group and day, aggregated in DuckDB by :func:`analysis.survival.episodes.day_counts`),
so millions of releases cost no more than a few thousand rows in Python.

* ``survival`` S(t) = prod over event times u <= t of (1 - d_u / n_u);
  ``recidivism`` = 1 - S(t).
* ``se``: Greenwood standard error of S(t), S(t) * sqrt(sum d / (n (n - d))) — the
  ``std.err`` column of R's ``summary.survfit``.
* ``lower`` / ``upper``: pointwise CI, by default on the log-log scale as R's
  ``conf.type = "log-log"``; undefined (NaN) where S is 0 or 1, as in R.
* Quantiles (median...) follow R's ``quantile.survfit``: the first time S(t) <= 1 - p,
  or the midpoint to the next event time when S equals 1 - p exactly on a flat stretch;
  their CIs are read the same way off the CI curves.
* Competing ends (death, deportation, emigration) are censorings here; see
  :mod:`analysis.survival.competing_risks` for cumulative incidence.
* Weights (``KaplanMeier().fit(..., weights=w)``, for inverse-probability-weighted
  comparisons): weighted numbers at risk and of events replace the counts, so S(t) is
  R's ``survfit(weights=)`` and lifelines' ``KaplanMeierFitter(weights=)``. The
  variance is the adjusted Greenwood formula of Xie & Liu (2005, *Statistics in
  Medicine* 24:3089), which uses the effective size of each risk set,
  M_j = (sum w)^2 / sum w^2 over the people at risk at t_j:
  Var(S(t)) = S(t)^2 sum_{t_j <= t} d_j / (M_j (n_j - d_j)) (n_j, d_j weighted).
  It does not change when every weight is multiplied by the same number, and with all
  weights equal it is Greenwood's. (R's default for non-integer weights is the
  infinitesimal jackknife, and its ``robust = FALSE`` Greenwood treats weights as
  frequencies; neither is this variance.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analysis.disclosure import DEFAULT_MIN_CELL
from analysis.errors import AnalysisError
from analysis.survival.episodes import CachedEpisodes, Outcome, Selection
from analysis.survival.grouping import (
    Grouping,
    check_group_sizes,
    day_counts_by,
    resolve_grouping,
)
from analysis.survival.logrank import LogRankResult, logrank_from_day_table

CONF_TYPES = ("log-log", "log", "plain")
#: Columns of :attr:`KaplanMeierResult.table` (a weighted fit adds ``effective_n``).
TABLE_COLUMNS = ("group", "time", "n_risk", "n_event", "n_censor", "survival", "se",
                 "lower", "upper", "recidivism", "recidivism_lower", "recidivism_upper")
#: Columns of :meth:`KaplanMeierResult.at`.
HORIZON_COLUMNS = ("group", "days", "survival", "se", "lower", "upper", "recidivism",
                   "recidivism_lower", "recidivism_upper", "n_risk")
_TOL = float(np.sqrt(np.finfo(float).eps))


def pointwise_ci(surv, se_log, conf_level: float = 0.95, conf_type: str = "log-log"):
    """Pointwise CI of S from the SE of log S (R's ``survfit_confint`` with ``logse``).

    Examples
    --------
    >>> lo, hi = pointwise_ci([0.5], [0.2])
    >>> round(float(lo[0]), 4), round(float(hi[0]), 4)
    (0.2952, 0.6745)
    """
    p = np.asarray(surv, dtype=float)
    se = np.asarray(se_log, dtype=float)
    z = stats.norm.ppf(1 - (1 - conf_level) / 2)
    # overflow: exp(large) -> inf and exp(-inf) -> 0, the bound's true limit (as in R)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if conf_type == "log-log":
            xx = np.where((p == 0) | (p == 1), np.nan, p)
            se2 = z * se / np.log(xx)
            lower = np.exp(-np.exp(np.log(-np.log(xx)) - se2))
            upper = np.exp(-np.exp(np.log(-np.log(xx)) + se2))
        elif conf_type == "log":
            xx = np.where(p == 0, np.nan, p)
            lower = np.exp(np.log(xx) - z * se)
            upper = np.minimum(np.exp(np.log(xx) + z * se), 1.0)
        elif conf_type == "plain":
            lower = np.maximum(p - z * se * p, 0.0)
            upper = np.minimum(p + z * se * p, 1.0)
        else:
            raise AnalysisError(f"conf_type must be one of {CONF_TYPES}, not {conf_type!r}")
    return lower, upper


def _findq(x, y, p, tol=_TOL):
    """R's ``survival:::findq``: quantile p of a step curve y (= 1 - S) at times x."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    keep = ~np.isnan(y)
    if not keep.any() or np.nanmax(y) < p:
        return np.nan
    xmax = x[-1]
    # R's approx() drops NA points, then duplicated() keeps the first x of each y value.
    x, y = x[keep], y[keep]
    first = np.r_[True, y[1:] != y[:-1]] if len(y) > 1 else np.array([True])
    # duplicated() also drops later repeats of a value that is not adjacent; y is monotone
    # so adjacent comparison is the same.
    x, y = x[first], y[first]

    def index(values):
        hit = np.nonzero(values >= p)[0]
        return int(hit[0]) if len(hit) else None

    i1, i2 = index(y + tol), index(y - tol)
    if p == 0:
        return x[0]
    if i1 is None:
        return np.nan
    if abs(p - y[-1]) < tol:
        return (x[i1] + xmax) / 2
    if i2 is None:
        return np.nan
    return (x[i1] + x[i2]) / 2


def km_curve(times, n_risk, n_event, conf_level=0.95, conf_type="log-log", effective_n=None):
    """Survival, SE of S, SE of log S and CI at each row of a per-time count table.

    ``effective_n`` (weighted fits) replaces the number at risk outside ``n - d`` in the
    Greenwood term (Xie & Liu); without it the term is Greenwood's ``d / (n (n - d))``.
    """
    n = np.asarray(n_risk, dtype=float)
    d = np.asarray(n_event, dtype=float)
    m = n if effective_n is None else np.asarray(effective_n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(n > 0, 1 - d / n, 1.0)
        surv = np.cumprod(factor)
        term = np.where(d > 0, d / (m * (n - d)), 0.0)
    var_log = np.cumsum(term)
    se_log = np.sqrt(var_log)
    with np.errstate(invalid="ignore"):
        se = np.where(np.isinf(se_log), np.nan, surv * se_log)
    lower, upper = pointwise_ci(surv, se_log, conf_level, conf_type)
    return surv, se, se_log, lower, upper


@dataclass(frozen=True)
class KaplanMeierResult:
    """A fitted Kaplan–Meier estimate, per group.

    Attributes
    ----------
    table : DataFrame
        One row per group and distinct time, columns :data:`TABLE_COLUMNS`; a weighted
        fit's counts are sums of weights and it adds ``effective_n`` (the risk set's
        effective size, (sum w)^2 / sum w^2).
    summary : DataFrame
        One row per group: ``group, n, events, median, median_lower, median_upper``
        (days; NaN when not reached). A weighted fit's ``n`` and ``events`` are sums of
        weights.
    conf_level, conf_type
        The CI settings used.
    """

    table: pd.DataFrame
    summary: pd.DataFrame
    conf_level: float
    conf_type: str

    @property
    def groups(self) -> tuple[str, ...]:
        return tuple(self.summary["group"])

    def at(self, horizons) -> pd.DataFrame:
        """Values at fixed times (days): the step function at the last time <= horizon.

        ``n_risk`` is the number still at risk at the horizon (time >= horizon), as R's
        ``summary(fit, times=)``. Horizons beyond a group's last observed time give NaN:
        the curve is not estimated there.
        """
        rows = []
        for group, curve in self.table.groupby("group", sort=False):
            t = curve["time"].to_numpy()
            for h in horizons:
                row = {"group": group, "days": h}
                i = np.searchsorted(t, h, side="right") - 1
                later = np.searchsorted(t, h, side="left")
                row["n_risk"] = int(curve["n_risk"].iloc[later]) if later < len(t) else 0
                if h > t[-1]:
                    values = dict.fromkeys(("survival", "se", "lower", "upper"), np.nan)
                elif i < 0:
                    values = {"survival": 1.0, "se": 0.0, "lower": np.nan, "upper": np.nan}
                else:
                    values = {k: float(curve[k].iloc[i])
                              for k in ("survival", "se", "lower", "upper")}
                row.update(values)
                row["recidivism"] = 1 - values["survival"]
                row["recidivism_lower"] = 1 - values["upper"]
                row["recidivism_upper"] = 1 - values["lower"]
                rows.append(row)
        return pd.DataFrame(rows, columns=list(HORIZON_COLUMNS))

    def quantiles(self, probs=(0.25, 0.5, 0.75)) -> pd.DataFrame:
        """Times by which a share ``p`` of releases has reoffended, with CIs (R convention).

        Columns ``group, p, time, lower, upper``; NaN when not reached.
        """
        rows = []
        for group, curve in self.table.groupby("group", sort=False):
            x = np.r_[0.0, curve["time"].to_numpy(dtype=float)]
            for p in probs:
                rows.append({
                    "group": group, "p": p,
                    "time": _findq(x, np.r_[0.0, 1 - curve["survival"].to_numpy()], p),
                    "lower": _findq(x, np.r_[0.0, 1 - curve["lower"].to_numpy()], p),
                    "upper": _findq(x, np.r_[0.0, 1 - curve["upper"].to_numpy()], p),
                })
        return pd.DataFrame(rows, columns=["group", "p", "time", "lower", "upper"])


def _records(durations, events, groups):
    """Checked per-record arrays: time (float), event (bool), group label (object; None
    without groups: one group, ``"all"``)."""
    time = np.asarray(durations, dtype=float)
    event = np.asarray(events).astype(bool)
    if time.shape != event.shape:
        raise AnalysisError("durations and events must have the same length")
    if np.isnan(time).any() or (time < 0).any():
        raise AnalysisError("durations must be non-negative numbers")
    group = None if groups is None else np.asarray(groups).astype(str).astype(object)
    return time, event, group


def _groups(group: np.ndarray | None) -> list[tuple[str, slice | np.ndarray]]:
    """``(label, rows)`` of each group in order of appearance: without groups every
    record, as a view (a label per record and a mask of them cost 90 MB and a pass over
    ten million objects on a national cohort)."""
    if group is None:
        return [("all", slice(None))]
    return [(g, group == g) for g in pd.unique(group)]


def counts_from_arrays(durations, events, groups=None, entry=None) -> pd.DataFrame:
    """Per-time count table (``group, time, n_risk, n_event, n_censor``) from raw data.

    ``entry`` gives left-truncation times: a record is at risk at t when entry < t <= time.

    Examples
    --------
    >>> counts_from_arrays([5, 8, 8, 2], [1, 1, 0, 0]).to_dict("list")
    ... # doctest: +NORMALIZE_WHITESPACE
    {'group': ['all', 'all', 'all'], 'time': [2.0, 5.0, 8.0], 'n_risk': [4, 3, 2],
     'n_event': [0, 1, 1], 'n_censor': [1, 0, 1]}
    """
    time, event, group = _records(durations, events, groups)
    start = None if entry is None else np.asarray(entry, dtype=float)
    if start is not None and (start >= time).any():
        raise AnalysisError("entry times must be smaller than durations")
    parts = []
    for g, rows in _groups(group):
        t, e = time[rows], event[rows]
        # counts per distinct time by their position among the sorted times: no frame
        # of records to group (on ten million records it held a gigabyte)
        ut, position, total = np.unique(t, return_inverse=True, return_counts=True)
        n_event = np.bincount(position, weights=e, minlength=len(ut)).astype(np.int64)
        del position
        # at risk at ut: the records whose time is ut or later
        n_risk = np.cumsum(total[::-1])[::-1]
        if start is not None:
            s = np.sort(start[rows])
            n_risk = n_risk - (len(s) - np.searchsorted(s, ut, side="left"))
        parts.append(pd.DataFrame({
            "group": np.full(len(ut), g, dtype=object), "time": ut,
            "n_risk": n_risk.astype(int), "n_event": n_event,
            "n_censor": (total - n_event).astype(np.int64),
        }))
    return pd.concat(parts, ignore_index=True)


def weighted_counts_from_arrays(durations, events, weights, groups=None) -> pd.DataFrame:
    """Per-time table of weighted counts from raw data, with each risk set's effective size.

    Columns ``group, time, n_risk, n_event, n_censor, effective_n``: the counts are sums
    of ``weights`` (floats) and ``effective_n`` is (sum w)^2 / sum w^2 over the records
    at risk.

    Examples
    --------
    >>> weighted_counts_from_arrays([5, 8, 8], [1, 1, 0], [1.0, 2.0, 2.0]).to_dict("list")
    ... # doctest: +NORMALIZE_WHITESPACE
    {'group': ['all', 'all'], 'time': [5.0, 8.0], 'n_risk': [5.0, 4.0],
     'n_event': [1.0, 2.0], 'n_censor': [0.0, 2.0], 'effective_n': [2.7777777777777777, 2.0]}
    """
    time, event, group = _records(durations, events, groups)
    weight = np.asarray(weights, dtype=float)
    if weight.shape != time.shape:
        raise AnalysisError("weights must have one value per duration")
    if not np.isfinite(weight).all() or (weight < 0).any():
        raise AnalysisError("weights must be finite and non-negative")
    parts = []
    for g, rows in _groups(group):
        order = np.argsort(time[rows], kind="stable")
        t, e, w = time[rows][order], event[rows][order], weight[rows][order]
        distinct, first = np.unique(t, return_index=True)
        # weighted sums per distinct time; risk sets as reverse cumulative sums
        w_at = np.add.reduceat(w, first)
        w2_at = np.add.reduceat(w**2, first)
        d_at = np.add.reduceat(w * e, first)
        n_risk = np.cumsum(w_at[::-1])[::-1]
        with np.errstate(divide="ignore", invalid="ignore"):
            effective = n_risk**2 / np.cumsum(w2_at[::-1])[::-1]
        parts.append(pd.DataFrame({
            "group": np.full(len(distinct), g, dtype=object), "time": distinct,
            "n_risk": n_risk, "n_event": d_at, "n_censor": w_at - d_at,
            "effective_n": effective,
        }))
    return pd.concat(parts, ignore_index=True)


def counts_from_day_table(day_table: pd.DataFrame) -> pd.DataFrame:
    """Count table for KM from :func:`~analysis.survival.episodes.day_counts` output.

    Competing ends are censorings for Kaplan–Meier.
    """
    table = day_table.sort_values(["group", "time"], kind="stable").reset_index(drop=True)
    removed = table["n_event"] + table["n_competing"] + table["n_censored"]
    # at risk at t = everyone in the group whose time is >= t (reverse cumulative sum)
    n_risk = removed[::-1].groupby(table["group"][::-1], sort=False).cumsum()[::-1]
    return pd.DataFrame({
        "group": table["group"],
        "time": table["time"],
        "n_risk": n_risk.astype("int64"),
        "n_event": table["n_event"].astype("int64"),
        "n_censor": (table["n_competing"] + table["n_censored"]).astype("int64"),
    })


class KaplanMeier:
    """Kaplan–Meier estimator with Greenwood SE and R-compatible CIs and quantiles.

    Parameters
    ----------
    conf_level : float
        Level of pointwise CIs (default 0.95).
    conf_type : {"log-log", "log", "plain"}
        CI scale, as R's ``conf.type`` (default log-log).

    Examples
    --------
    >>> km = KaplanMeier().fit([5, 8, 8, 12, 20], [1, 1, 0, 1, 0])
    >>> km.table[["time", "n_risk", "survival"]].round(3).to_dict("list")
    {'time': [5.0, 8.0, 12.0, 20.0], 'n_risk': [5, 4, 2, 1], 'survival': [0.8, 0.6, 0.3, 0.3]}
    >>> float(km.summary["median"].iloc[0])
    12.0

    Weighted (e.g. inverse-probability weights), as lifelines' ``fit(weights=)``:

    >>> weighted = KaplanMeier().fit([5, 8, 8, 12, 20], [1, 1, 0, 1, 0],
    ...                              weights=[2.0, 1.0, 1.0, 0.5, 0.5])
    >>> weighted.table[["n_risk", "survival"]].round(3).to_dict("list")
    {'n_risk': [5.0, 3.0, 1.0, 0.5], 'survival': [0.6, 0.4, 0.2, 0.2]}
    """

    def __init__(self, conf_level: float = 0.95, conf_type: str = "log-log"):
        if not 0 < conf_level < 1:
            raise AnalysisError("conf_level must be between 0 and 1")
        if conf_type not in CONF_TYPES:
            raise AnalysisError(f"conf_type must be one of {CONF_TYPES}, not {conf_type!r}")
        self.conf_level = conf_level
        self.conf_type = conf_type
        self.result_: KaplanMeierResult | None = None

    def fit(self, durations, events, groups=None, entry=None, weights=None) -> KaplanMeier:
        """Fit from raw arrays (one value per record) and return the fitted estimator.

        Parameters
        ----------
        durations : array-like
            Days from the start of follow-up to the event or censoring.
        events : array-like
            1 (or True) for an event, 0 for a censoring.
        groups : array-like, optional
            One label per record; one curve per label (``"all"`` without).
        entry : array-like, optional
            Left-truncation times: a record is at risk at t when entry < t <= duration.
        weights : array-like, optional
            Non-negative weight per record (see the module notes for the variance).
            Cannot be combined with ``entry``.

        Returns
        -------
        KaplanMeier
            ``self``, with :attr:`result_` set.
        """
        if weights is None:
            return self.fit_counts(counts_from_arrays(durations, events, groups, entry))
        if entry is not None:
            raise AnalysisError("weights cannot be combined with entry (left truncation)")
        return self.fit_counts(weighted_counts_from_arrays(durations, events, weights, groups))

    def fit_day_table(self, day_table: pd.DataFrame) -> KaplanMeier:
        """Fit from the per-day aggregate of :func:`~analysis.survival.episodes.day_counts`."""
        return self.fit_counts(counts_from_day_table(day_table))

    def fit_counts(self, counts: pd.DataFrame) -> KaplanMeier:
        """Fit from a count table with ``group, time, n_risk, n_event, n_censor``.

        A weighted table (:func:`weighted_counts_from_arrays`) also has ``effective_n``.
        """
        if counts.empty:
            raise AnalysisError("no releases to analyse: the selection is empty")
        weighted = "effective_n" in counts
        # numpy per group, one DataFrame at the end: per-group frames cost more than the
        # estimate itself on a 10-group day table
        time_all = counts["time"].to_numpy()
        count_columns = ("n_risk", "n_event", "n_censor") + (("effective_n",) if weighted else ())
        columns = {k: counts[k].to_numpy() for k in count_columns}
        parts: dict[str, list[np.ndarray]] = {
            k: [] for k in ("group", "time", *count_columns, "survival", "se", "lower", "upper")}
        total = float if weighted else int
        summary = []
        for group, rows in counts.groupby("group", sort=True).indices.items():
            rows = rows[np.argsort(time_all[rows], kind="stable")]
            c = {k: v[rows] for k, v in columns.items()}
            surv, se, _, lower, upper = km_curve(
                time_all[rows], c["n_risk"], c["n_event"], self.conf_level, self.conf_type,
                effective_n=c.get("effective_n"))
            for k, v in (("group", np.full(len(rows), group, dtype=object)),
                         ("time", time_all[rows]), *c.items(), ("survival", surv),
                         ("se", se), ("lower", lower), ("upper", upper)):
                parts[k].append(v)
            summary.append({"group": group,
                            "n": total(c["n_event"].sum() + c["n_censor"].sum()),
                            "events": total(c["n_event"].sum())})
        table = pd.DataFrame({k: np.concatenate(v) for k, v in parts.items()})
        table["recidivism"] = 1 - table["survival"]
        table["recidivism_lower"] = 1 - table["upper"]
        table["recidivism_upper"] = 1 - table["lower"]
        table = table[list(TABLE_COLUMNS) + (["effective_n"] if weighted else [])]
        summary = pd.DataFrame(summary)
        provisional = KaplanMeierResult(table, summary, self.conf_level, self.conf_type)
        med = provisional.quantiles((0.5,))
        summary["median"] = med["time"].to_numpy()
        summary["median_lower"] = med["lower"].to_numpy()
        summary["median_upper"] = med["upper"].to_numpy()
        self.result_ = KaplanMeierResult(table, summary, self.conf_level, self.conf_type)
        return self

    def _fitted(self) -> KaplanMeierResult:
        if self.result_ is None:
            raise AnalysisError("fit the estimator first")
        return self.result_

    @property
    def table(self) -> pd.DataFrame:
        return self._fitted().table

    @property
    def summary(self) -> pd.DataFrame:
        return self._fitted().summary

    def at(self, horizons) -> pd.DataFrame:
        return self._fitted().at(horizons)

    def quantiles(self, probs=(0.25, 0.5, 0.75)) -> pd.DataFrame:
        return self._fitted().quantiles(probs)


#: Old name of :data:`analysis.disclosure.DEFAULT_MIN_CELL`, the smallest group the
#: database entry points accept. Kept only so that code written against it (and the test
#: that the two names are one number) still runs; nothing in ``analysis`` uses it and it
#: is not part of the public API. Import ``DEFAULT_MIN_CELL`` instead.
DEFAULT_MIN_GROUP_SIZE = DEFAULT_MIN_CELL


@dataclass(frozen=True)
class DatabaseKaplanMeier:
    """Kaplan–Meier of a study database, with what it was computed from.

    Attributes
    ----------
    result : KaplanMeierResult
    day_table : DataFrame
        Per-day counts from DuckDB (``group, time, n_event, n_competing, n_censored``).
    event_types : tuple of str
        The outcome's event types.
    by : str or None
        The breakdown asked for.
    logrank : LogRankResult or None
        Test between groups (None with a single group).
    """

    result: KaplanMeierResult
    day_table: pd.DataFrame
    event_types: tuple[str, ...]
    by: str | None
    logrank: LogRankResult | None


def kaplan_meier_from_db(con, by: str | Grouping | None = None, outcome: Outcome | None = None,
                         selection: Selection | None = None, *, conf_level: float = 0.95,
                         min_group_size: int = DEFAULT_MIN_CELL,
                         fh: tuple[float, float] = (0.0, 0.0),
                         cached: CachedEpisodes | None = None) -> DatabaseKaplanMeier:
    """Kaplan–Meier per group of a study database, plus a log-rank test between groups.

    :meth:`analysis.study.Study.kaplan_meier` is the public way in; this is its engine.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Connection to a study database (read-only is enough).
    by : str or Grouping, optional
        Breakdown (see :func:`analysis.survival.grouping.resolve_grouping`), or None.
    outcome, selection : Outcome, Selection, optional
        See :mod:`analysis.survival.episodes`.
    conf_level : float
        Level of the pointwise CIs.
    min_group_size : int
        Groups with fewer releases raise :class:`AnalysisError`; default the minimum
        cell size :data:`~analysis.disclosure.DEFAULT_MIN_CELL`.
    fh : tuple of float
        Fleming–Harrington ``(p, q)`` weights of the test; ``(0, 0)`` is the log-rank.
    cached : CachedEpisodes, optional
        Episodes from :func:`analysis.survival.episodes.materialize_episodes`, to reuse.

    Returns
    -------
    DatabaseKaplanMeier
    """
    grouping = resolve_grouping(con, by)
    table, types = day_counts_by(con, grouping, outcome, selection, cached)
    if table.empty:
        raise AnalysisError("no releases match the selection")
    sizes = (table["n_event"] + table["n_competing"] + table["n_censored"]).groupby(
        table["group"]).sum()
    check_group_sizes(sizes, min_group_size, grouping.spec)
    km = KaplanMeier(conf_level=conf_level).fit_day_table(table)
    test = logrank_from_day_table(table, *fh) if len(sizes) > 1 else None
    return DatabaseKaplanMeier(km._fitted(), table, types, grouping.spec, test)

