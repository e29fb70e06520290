"""Covariate balance: standardized mean differences before and after adjustment.

SMD = (mean among participants − mean among comparison) / pooled SD, where the
pooled SD is sqrt((s²_participants + s²_comparison) / 2) computed **before**
adjustment and reused after it, so that before/after figures are comparable
(Austin, 2009, *Statistics in Medicine* 28:3083). |SMD| > 0.1 is flagged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

IMBALANCE_THRESHOLD = 0.1


def _weighted_mean(values: np.ndarray, weights: np.ndarray) -> float:
    total = weights.sum()
    return float((weights * values).sum() / total) if total > 0 else float("nan")


def balance_table(
    design: pd.DataFrame,
    treated: np.ndarray,
    weights_after: np.ndarray,
) -> pd.DataFrame:
    """SMD per design column before (unweighted) and after (with ``weights_after``).

    For matching, ``weights_after`` is 1 for matched people and 0 otherwise; for
    inverse-probability (ATT) weighting, 1 for participants and e/(1−e) for others.

    Examples
    --------
    >>> design = pd.DataFrame({"age": [20.0, 22, 40, 42]})
    >>> t = np.array([True, True, False, False])
    >>> balance_table(design, t, np.array([1, 1, 1, 1.0]))[["covariate", "smd_before"]].round(2).values.tolist()
    [['age', -14.14]]
    """
    treated = np.asarray(treated, dtype=bool)
    weights_after = np.asarray(weights_after, dtype=float)
    others = ~treated
    wt, wc = weights_after[treated], weights_after[others]
    # Column-major, so that each column is contiguous (no copy for the design matrices
    # of :func:`~analysis.impact.propensity.design_matrix`, which are built that way).
    values = np.asfortranarray(design.to_numpy(dtype=float))
    rows = []
    for position, name in enumerate(design.columns):
        x = values[:, position]
        xt, xc = x[treated], x[others]
        t_mean, c_mean = float(xt.mean()), float(xc.mean())
        # Sample variances (ddof=1), as in Austin (2009).
        pooled = np.sqrt((xt.var(ddof=1) + xc.var(ddof=1)) / 2)
        ta_mean, ca_mean = _weighted_mean(xt, wt), _weighted_mean(xc, wc)
        before = (t_mean - c_mean) / pooled if pooled > 0 else 0.0
        after = (ta_mean - ca_mean) / pooled if pooled > 0 else 0.0
        rows.append(
            {
                "covariate": name,
                "mean_participants": t_mean,
                "mean_comparison_before": c_mean,
                "mean_comparison_after": ca_mean,
                "smd_before": before,
                "smd_after": after,
                "imbalanced_after": bool(abs(after) > IMBALANCE_THRESHOLD),
            }
        )
    return pd.DataFrame(rows)


def att_weights(score: np.ndarray, treated: np.ndarray) -> np.ndarray:
    """Inverse-probability weights for the effect on the treated: 1 and e/(1−e)."""
    score = np.clip(np.asarray(score, dtype=float), 1e-6, 1 - 1e-6)
    return np.where(np.asarray(treated, dtype=bool), 1.0, score / (1 - score))
