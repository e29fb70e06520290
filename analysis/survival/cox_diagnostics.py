"""Proportional-hazards test on Schoenfeld residuals, as R ``cox.zph`` (survival 3.x).

survival 3.x no longer uses the old Grambsch–Therneau approximation: for each term it
computes the exact score test of adding ``x * g(t)`` to the fitted model, where ``g``
is the transformed event time centred at its mean over events. The default transform
``"km"`` is ``1 - S(t-)``, the left-continuous Kaplan–Meier of all rows (strata
ignored, ``(entry, stop]`` risk sets). The test for a term uses the full information
matrix of ``(beta, gamma_term)``, so it adjusts for the other coefficients.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from analysis.survival.cox_riskset import RiskSetData, RiskSums

TRANSFORMS = ("km", "identity", "rank", "log")


def _km_left(stop, event, entry, at) -> np.ndarray:
    """Kaplan–Meier S(t-) of all rows evaluated at the times ``at``."""
    stop = np.asarray(stop, float)
    event = np.asarray(event).astype(bool)
    ut = np.unique(stop[event])
    d = np.bincount(np.searchsorted(ut, stop[event]), minlength=len(ut))
    n_stop = len(stop) - np.searchsorted(np.sort(stop), ut, side="left")  # stop >= t
    if entry is None:
        n_risk = n_stop
    else:
        n_risk = n_stop - (len(stop) - np.searchsorted(np.sort(entry), ut, side="left"))
    surv = np.cumprod(1.0 - d / n_risk)
    idx = np.searchsorted(ut, at, side="left")  # number of KM times strictly before t
    return np.concatenate([[1.0], surv])[idx]


def ph_test(
    rs: RiskSetData,
    sums: RiskSums,
    term_columns: dict[str, list[int]],
    *,
    stop,
    event,
    entry=None,
    transform: str = "km",
) -> pd.DataFrame:
    """Score tests for time-varying coefficients: one row per term plus ``GLOBAL``.

    ``stop``/``event``/``entry`` are all rows of the fit (before rows at risk at no
    event time were dropped), because R's KM transform uses all of them.
    """
    times = rs.times
    if transform == "km":
        tt = 1.0 - _km_left(stop, event, entry, times)
    elif transform == "identity":
        tt = times.astype(float)
    elif transform == "log":
        tt = np.log(times)
    elif transform == "rank":
        ev_times = np.asarray(stop, float)[np.asarray(event).astype(bool)]
        ranks = stats.rankdata(ev_times)
        # rank of a time among all event rows (average ranks for ties, as R's rank)
        lookup = dict(zip(ev_times, ranks, strict=True))
        tt = np.array([lookup[t] for t in times])
    else:
        raise ValueError(f"transform must be one of {TRANSFORMS}")
    g = tt - np.sum(tt * rs.deaths) / rs.deaths.sum()  # centre over event rows
    u = g @ sums.d1 - sums.xbar_sum(g)
    i11, i12, i22 = (sums.info_weighted(w) for w in (np.ones_like(g), g, g * g))
    p = i11.shape[0]
    imat = np.block([[i11, i12], [i12.T, i22]])
    rows = []
    for term, cols in list(term_columns.items()) + [("GLOBAL", list(range(p)))]:
        kk = list(range(p)) + [p + c for c in cols]
        vec = np.concatenate([np.zeros(p), u[cols]])
        chi2 = float(vec @ np.linalg.solve(imat[np.ix_(kk, kk)], vec))
        df = len(cols)
        rows.append({"term": term, "chi2": chi2, "df": df, "p": float(stats.chi2.sf(chi2, df))})
    return pd.DataFrame(rows, columns=["term", "chi2", "df", "p"])
