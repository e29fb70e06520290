"""Cumulative incidence with competing risks (Aalen–Johansen), matching R's ``survfit``.

When some people die, are deported or emigrate, ``1 - Kaplan–Meier`` overstates
reoffending: it treats them as if they could still reoffend later. The cumulative
incidence function (CIF) of cause k is

    CIF_k(t) = sum over times u <= t of S(u-) * d_k(u) / n(u)

with S the Kaplan–Meier estimate of "no end of any cause" (all causes as events).
The CIFs of all causes plus S add up to 1.

Variance: the **infinitesimal jackknife** (IJ), sum over releases of the squared
influence of each release on CIF_k(t) — the ``std.err`` R's ``survfit`` reports for
multi-state (``Surv(time, factor(status))``) fits without weights or clusters. It is
computed in O(number of distinct times) from the per-day counts (the influence of a
release depends only on its time and cause). The CI is R's default for these fits,
``conf.type = "log"``: CIF * exp(+/- z se / CIF), upper bound capped at 1.

Causes in the database: ``reoffence`` (the outcome), and the competing end — either
pooled as ``competing`` or split by ``follow_up_end_reason`` (``death``,
``deportation``, ``emigration``) with ``by_reason=True``.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
from scipy import stats

from analysis.disclosure import DEFAULT_MIN_CELL
from analysis.errors import AnalysisError
from analysis.survival.episodes import (
    GROUP_KEY,
    CachedEpisodes,
    Outcome,
    Selection,
    episodes_query,
    resolve_source,
)
from analysis.survival.grouping import Grouping, check_group_sizes, resolve_grouping

OUTCOME_STATE = "reoffence"
COMPETING_STATE = "competing"
#: Columns of :attr:`CumulativeIncidenceResult.table`.
TABLE_COLUMNS = ("group", "cause", "time", "n_risk", "n_event", "cif", "se", "lower", "upper")
HORIZON_COLUMNS = ("group", "cause", "days", "cif", "se", "lower", "upper", "n_risk")


def aalen_johansen(n_risk, events: np.ndarray):
    """CIF and IJ standard error for each cause at each time of a count table.

    Parameters
    ----------
    n_risk : array (m,)
        Number at risk at each distinct time (censoring-only times included).
    events : array (m, K)
        Events of each cause at each time.

    Returns
    -------
    cif, se : arrays (m, K)
    """
    y = np.asarray(n_risk, dtype=float)
    dk = np.asarray(events, dtype=float)
    m, n_causes = dk.shape
    d = dk.sum(axis=1)
    removed = np.r_[y[:-1] - y[1:], y[-1]]       # everyone leaving the risk set at t_j
    n_cens = removed - d
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.where(y > 0, d / y, 0.0)
        hk = np.where(y[:, None] > 0, dk / y[:, None], 0.0)
        surv = np.cumprod(1 - h)
        s_prev = np.r_[1.0, surv[:-1]]
        inc = s_prev[:, None] * hk                  # CIF increments
        cif = np.cumsum(inc, axis=0)
        # a(l) = h / (Y (1 - h)); h == 1 only at the last time, where it is never used
        a_term = np.where((h < 1) & (y > 0), h / (y * (1 - h)), 0.0)
        g = np.where((h < 1) & (y > 0), 1 / (y * (1 - h)), 0.0)   # 1 / (Y (1 - h)) at exit
        jump = np.where(y > 0, s_prev / y, 0.0)                    # S(t-) / Y at exit
    a_cum = np.cumsum(a_term)                       # A_j
    a_prev = np.r_[0.0, a_cum[:-1]]                 # A_{l-1}
    b_cum = np.cumsum(s_prev[:, None] * hk / np.where(y > 0, y, 1)[:, None], axis=0)  # B_kj
    c_cum = np.cumsum(inc * a_prev[:, None], axis=0)  # C_kj
    se = np.zeros((m, n_causes))
    idx_next = np.minimum(np.arange(m) + 1, m - 1)
    for k in range(n_causes):
        # Releases still at risk at t_j (exit at or after j): influence C - B, plus the
        # own-cause jump for those with cause k exactly at t_j.
        base = c_cum[:, k] - b_cum[:, k]
        at_risk_sq = y * base ** 2 + dk[:, k] * ((base + jump) ** 2 - base ** 2)
        # Releases that left at t_e < t_j: influence alpha + beta * CIF_k(t_j), per
        # (exit time, status) type; accumulate sum n*alpha^2, n*alpha*beta, n*beta^2.
        cif_next = cif[idx_next, k]
        c_next = c_cum[idx_next, k]
        common = c_next - a_cum * cif_next - b_cum[:, k]
        sums = np.zeros((m, 3))
        # censored at t_e
        alpha, beta = common, a_cum
        sums += n_cens[:, None] * np.c_[alpha ** 2, alpha * beta, beta ** 2]
        for c in range(n_causes):
            alpha = common + g * cif[:, k] + (jump if c == k else 0.0)
            beta = a_cum - g
            sums += dk[:, c][:, None] * np.c_[alpha ** 2, alpha * beta, beta ** 2]
        # only exits strictly before t_j contribute at t_j
        cum = np.vstack([np.zeros(3), np.cumsum(sums, axis=0)[:-1]])
        left_sq = cum[:, 0] + 2 * cif[:, k] * cum[:, 1] + cif[:, k] ** 2 * cum[:, 2]
        se[:, k] = np.sqrt(np.maximum(at_risk_sq + left_sq, 0.0))
    return cif, se


def log_ci(p, se, conf_level=0.95):
    """R's ``conf.type = "log"`` CI for a probability with SE on the probability scale."""
    z = stats.norm.ppf(1 - (1 - conf_level) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        xx = np.where(p == 0, np.nan, p)
        se_log = np.where(se == 0, 0.0, se / xx)
        return np.exp(np.log(xx) - z * se_log), np.minimum(np.exp(np.log(xx) + z * se_log), 1.0)


@dataclass(frozen=True)
class CumulativeIncidenceResult:
    """Fitted cumulative incidence per group and cause.

    ``table`` has :data:`TABLE_COLUMNS` (one row per group, cause and distinct time);
    ``summary`` one row per group and cause: ``group, cause, n, events``.
    """

    table: pd.DataFrame
    summary: pd.DataFrame
    causes: tuple[str, ...]
    conf_level: float

    def at(self, horizons) -> pd.DataFrame:
        """CIF at fixed days (last time <= horizon; NaN beyond a group's last time)."""
        rows = []
        for (group, cause), curve in self.table.groupby(["group", "cause"], sort=False):
            t = curve["time"].to_numpy()
            for h in horizons:
                i = np.searchsorted(t, h, side="right") - 1
                later = np.searchsorted(t, h, side="left")
                row = {"group": group, "cause": cause, "days": h,
                       "n_risk": int(curve["n_risk"].iloc[later]) if later < len(t) else 0}
                if h > t[-1]:
                    row.update(cif=np.nan, se=np.nan, lower=np.nan, upper=np.nan)
                elif i < 0:
                    row.update(cif=0.0, se=0.0, lower=np.nan, upper=np.nan)
                else:
                    row.update({k: float(curve[k].iloc[i]) for k in ("cif", "se", "lower",
                                                                     "upper")})
                rows.append(row)
        return pd.DataFrame(rows, columns=list(HORIZON_COLUMNS))


class CumulativeIncidence:
    """Aalen–Johansen cumulative incidence of each cause, with IJ standard errors.

    Parameters
    ----------
    conf_level : float
        Level of the pointwise CIs.

    Examples
    --------
    >>> ci = CumulativeIncidence().fit([2, 3, 3, 5, 8], ["reoffence", "death", "censored",
    ...                                                 "reoffence", "censored"])
    >>> ci.result_.at([4])[["cause", "cif"]].round(3).to_dict("list")
    {'cause': ['reoffence', 'death'], 'cif': [0.2, 0.2]}
    """

    def __init__(self, conf_level: float = 0.95):
        if not 0 < conf_level < 1:
            raise AnalysisError("conf_level must be between 0 and 1")
        self.conf_level = conf_level
        self.result_: CumulativeIncidenceResult | None = None

    def fit(self, durations, states, groups=None, censored: str = "censored"
            ) -> CumulativeIncidence:
        """Fit from raw arrays; ``states`` names each record's cause, ``censored`` = none."""
        frame = pd.DataFrame({
            "group": "all" if groups is None else np.asarray(groups).astype(str),
            "time": np.asarray(durations, dtype=float),
            "state": np.asarray(states).astype(str),
        })
        frame["n"] = 1
        long = frame.groupby(["group", "time", "state"], as_index=False)["n"].sum()
        return self.fit_long(long, censored=censored)

    def fit_long(self, long: pd.DataFrame, censored: str = "censored") -> CumulativeIncidence:
        """Fit from counts ``group, time, state, n`` (``state == censored``: no event)."""
        if long.empty:
            raise AnalysisError("no releases to analyse: the selection is empty")
        # the outcome first, then competing causes alphabetically
        causes = tuple(sorted((s for s in long["state"].unique() if s != censored),
                              key=lambda s: (s != OUTCOME_STATE, s)))
        if not causes:
            causes = (OUTCOME_STATE,)
        parts, summary = [], []
        for group, g in long.groupby("group", sort=True):
            wide = g.pivot_table(index="time", columns="state", values="n", aggfunc="sum",
                                 fill_value=0).sort_index()
            removed = wide.sum(axis=1).to_numpy(float)
            y = np.cumsum(removed[::-1])[::-1]
            dk = wide.reindex(columns=list(causes), fill_value=0).to_numpy(float)
            cif, se = aalen_johansen(y, dk)
            for k, cause in enumerate(causes):
                lower, upper = log_ci(cif[:, k], se[:, k], self.conf_level)
                parts.append(pd.DataFrame({
                    "group": group, "cause": cause, "time": wide.index.to_numpy(),
                    "n_risk": y.astype(int), "n_event": dk[:, k].astype(int),
                    "cif": cif[:, k], "se": se[:, k], "lower": lower, "upper": upper,
                }))
                summary.append({"group": group, "cause": cause, "n": int(removed.sum()),
                                "events": int(dk[:, k].sum())})
        table = pd.concat(parts, ignore_index=True)[list(TABLE_COLUMNS)]
        self.result_ = CumulativeIncidenceResult(table, pd.DataFrame(summary), causes,
                                                 self.conf_level)
        return self

    def _fitted(self) -> CumulativeIncidenceResult:
        if self.result_ is None:
            raise AnalysisError("fit the estimator first")
        return self.result_

    @property
    def table(self) -> pd.DataFrame:
        """The fitted curves (:attr:`CumulativeIncidenceResult.table`)."""
        return self._fitted().table

    def at(self, horizons) -> pd.DataFrame:
        """The fitted curves at ``horizons`` (:meth:`CumulativeIncidenceResult.at`)."""
        return self._fitted().at(horizons)


def cif_counts(con: duckdb.DuckDBPyConnection, outcome: Outcome | None = None,
               selection: Selection | None = None, grouping: Grouping | None = None,
               by_reason: bool = False, cached: CachedEpisodes | None = None
               ) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Counts ``group, time, state, n`` from the database (aggregated in DuckDB).

    Rows are grouped on the ``grouping``'s raw value and labelled on the aggregate, as
    in :func:`~analysis.survival.grouping.day_counts_by`.
    """
    grouping = grouping or Grouping(None)
    types, source = resolve_source(con, outcome, cached)
    reason = "competing_reason" if by_reason else "NULL"
    select = f"{grouping.key_sql} AS {GROUP_KEY}, time, cause, {reason} AS reason, count(*) AS n"
    sql, params = episodes_query(con, types, selection, select=select, tail="GROUP BY ALL",
                                 source=source, params=grouping.params)
    # the raw group value and the cause are labelled on the aggregate, not per release
    competing = "reason" if by_reason else f"'{COMPETING_STATE}'"
    long = con.execute(f"""
        SELECT {grouping.label_sql} AS "group", time,
               CASE cause WHEN 1 THEN '{OUTCOME_STATE}' WHEN 2 THEN {competing}
                    ELSE 'censored' END AS state,
               CAST(sum(n) AS BIGINT) AS n
        FROM ({sql}) GROUP BY ALL ORDER BY "group", time""", params).df()
    long["n"] = long["n"].astype("int64")
    return long, types


def cumulative_incidence_from_db(con, by: str | Grouping | None = None,
                                 outcome: Outcome | None = None,
                                 selection: Selection | None = None, *,
                                 by_reason: bool = False, conf_level: float = 0.95,
                                 min_group_size: int = DEFAULT_MIN_CELL,
                                 cached: CachedEpisodes | None = None
                                 ) -> tuple[CumulativeIncidenceResult, tuple[str, ...]]:
    """Cumulative incidence per group of a study database; returns (result, event types).

    :meth:`analysis.study.Study.cumulative_incidence` is the public way in (one result
    object); this is its engine, kept for the callers written against the pair.
    """
    grouping = resolve_grouping(con, by)
    long, types = cif_counts(con, outcome, selection, grouping, by_reason, cached)
    if long.empty:
        raise AnalysisError("no releases match the selection")
    check_group_sizes(long.groupby("group")["n"].sum(), min_group_size, grouping.spec)
    fitted = CumulativeIncidence(conf_level).fit_long(long)
    return fitted._fitted(), types
