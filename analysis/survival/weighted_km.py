"""Weighted Kaplan–Meier, for inverse-probability-weighted comparisons.

Weighted numbers at risk and of events replace the counts; the variance is the
adjusted Greenwood formula of Xie & Liu (2005, *Statistics in Medicine*
24:3089), which uses the effective size of each risk set,
M_j = (Σ w)² / Σ w² over the people at risk at t_j:

    Var(S(t)) = S(t)² Σ_{t_j ≤ t} d_j / (M_j (n_j − d_j))    (n_j, d_j weighted).

With all weights equal to 1 it is exactly the ordinary Kaplan–Meier estimate
with Greenwood's variance.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.survival.kaplan_meier import pointwise_ci


def weighted_km(
    durations, events, weights, *, conf_level: float = 0.95, conf_type: str = "log-log"
) -> pd.DataFrame:
    """Weighted KM table: ``time, n_risk, n_event, effective_n, survival, se, lower, upper``.

    Examples
    --------
    >>> t = weighted_km([5, 8, 8, 12, 20], [1, 1, 0, 1, 0], [1, 1, 1, 1, 1])
    >>> t["survival"].round(3).tolist()
    [0.8, 0.6, 0.3, 0.3]
    """
    time = np.asarray(durations, dtype=float)
    event = np.asarray(events).astype(bool)
    weight = np.asarray(weights, dtype=float)
    order = np.argsort(time, kind="stable")
    time, event, weight = time[order], event[order], weight[order]
    distinct, first = np.unique(time, return_index=True)
    # Weighted sums per distinct time, then risk sets as reverse cumulative sums.
    w_at = np.add.reduceat(weight, first)
    w2_at = np.add.reduceat(weight**2, first)
    d_at = np.add.reduceat(weight * event, first)
    n_risk = np.cumsum(w_at[::-1])[::-1]
    n_risk_sq = np.cumsum(w2_at[::-1])[::-1]
    effective = n_risk**2 / n_risk_sq
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(np.where(n_risk > 0, 1 - d_at / n_risk, 1.0))
        terms = np.where(d_at > 0, d_at / (effective * (n_risk - d_at)), 0.0)
    se_log = np.sqrt(np.cumsum(terms))
    with np.errstate(invalid="ignore"):
        se = np.where(np.isinf(se_log), np.nan, surv * se_log)
    lower, upper = pointwise_ci(surv, se_log, conf_level, conf_type)
    table = pd.DataFrame(
        {
            "time": distinct,
            "n_risk": n_risk,
            "n_event": d_at,
            "effective_n": effective,
            "survival": surv,
            "se": se,
            "lower": lower,
            "upper": upper,
        }
    )
    return table
