"""Fine–Gray subdistribution-hazard regression, matching R ``survival::finegray`` + ``coxph``.

The Fine–Gray model is a weighted Cox model on an expanded data set (Geskus 2011): people
who reach a *competing* end (death, deportation, emigration) stay in the risk set after it,
with a weight that decays like the censoring distribution ``G`` (Kaplan–Meier of the
censoring times). :func:`finegray_rows` builds that data set exactly as R's
``finegray()`` does for right-censored data; :class:`FineGrayModel` fits
``coxph(Surv(fgstart, fgstop, fgstatus) ~ x, weights = fgwt, cluster = id)`` on it with
:class:`analysis.survival.cox.CoxModel`.

R details reproduced here (survival 3.5, ``R/finegray.R`` and ``src/finegray.c``):

* ``G`` is the KM of censoring, with censorings treated as happening *after* any event
  (of either kind) at the same time: R shifts event times by -0.2 on the rank scale before
  calling ``survfit``, so an event at ``t`` is not at risk of being censored at ``t``.
* The censoring-curve jump times, plus the largest follow-up time, cut the time axis into
  intervals; only intervals containing an event of interest (and the first) are output.
* A competing-end row keeps weight 1 to the end of the censoring interval containing its
  end time ``T`` and then gets one row per later kept interval ``(c[j-1], c[j]]`` with
  weight ``G(c[j-1]) / G(T-)``; all other rows are copied with weight 1.
* Rows start at 0 (R's ``zero``: 0 when every time is positive).

Delayed entry (R's ``Hsurv`` correction) is not supported and is refused.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from analysis.errors import AnalysisError
from analysis.survival.cox import CoxModel

#: columns added by :func:`finegray_rows` (R's fgstart/fgstop/fgstatus/fgwt, and the id)
FG_COLUMNS = ("id", "start", "stop", "event", "w")


def _censoring_curve(time: np.ndarray, censored: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Jump times and values of the KM of censoring, events before censorings at a tie."""
    jump_times = np.unique(time[censored])
    # at risk of censoring at c: everyone still followed after c, plus those censored at c
    # (an event at c has already happened when the censoring at c would occur)
    n_censored = (censored[:, None] & (time[:, None] == jump_times)).sum(axis=0)
    at_risk = (time[:, None] > jump_times).sum(axis=0) + n_censored
    return jump_times, np.cumprod(1.0 - n_censored / at_risk)


def finegray_rows(
    df: pd.DataFrame,
    time_col: str,
    status_col: str,
    event_value,
    competing_values,
    id_col: str | None = None,
) -> pd.DataFrame:
    """Expand right-censored competing-risk data into R ``finegray()`` rows.

    Parameters
    ----------
    df : DataFrame
        One row per follow-up (a person may have several rows; pass ``id_col``).
    time_col : str
        Follow-up end time, > 0.
    status_col : str
        End status: ``event_value``, one of ``competing_values``, anything else censored.
    event_value : scalar
        Status value of the event of interest.
    competing_values : scalar or list
        Status values of the competing ends.
    id_col : str, optional
        Cluster id copied to column ``id`` (default: the row position).

    Returns
    -------
    DataFrame
        Columns ``id, start, stop, event, w`` followed by the other columns of ``df``, one
        row per ``(start, stop]`` interval; ``w`` is the Fine–Gray weight (R's ``fgwt``).

    Examples
    --------
    >>> df = pd.DataFrame({"t": [1, 2, 3, 4], "s": [1, 2, 0, 1], "x": [0, 1, 0, 1]})
    >>> rows = finegray_rows(df, "t", "s", event_value=1, competing_values=[2])
    >>> rows[["id", "start", "stop", "event", "w"]].to_dict("list")
    {'id': [0, 1, 1, 2, 3], 'start': [0.0, 0.0, 3.0, 0.0, 0.0], 'stop': [1.0, 3.0, 4.0, 3.0, 4.0], 'event': [1, 0, 0, 0, 1], 'w': [1.0, 1.0, 0.5, 1.0, 1.0]}
    """
    for column in (time_col, status_col, id_col):
        if column is not None and column not in df.columns:
            raise AnalysisError(f"Fine–Gray: column '{column}' not found; expected one of "
                                f"{list(df.columns)}")
    competing = (list(competing_values) if isinstance(competing_values, (list, tuple, set))
                 else [competing_values])
    if event_value in competing:
        raise AnalysisError(f"Fine–Gray: event value {event_value!r} is also listed as "
                            "competing")
    time = pd.to_numeric(df[time_col], errors="coerce").to_numpy(float)
    bad = np.flatnonzero(~np.isfinite(time) | (time <= 0))
    if bad.size:
        raise AnalysisError(f"Fine–Gray: column '{time_col}' at position {int(bad[0])} is "
                            f"{df[time_col].iloc[bad[0]]!r}; expected a finite time > 0")
    status = df[status_col].to_numpy()
    is_event = status == event_value
    is_competing = np.isin(status, competing)
    censored = ~is_event & ~is_competing
    ids = (df[id_col].to_numpy() if id_col is not None else np.arange(len(df)))
    base = pd.DataFrame({"id": ids, "start": 0.0, "stop": time,
                         "event": is_event.astype(int), "w": 1.0})
    extra = df.drop(columns=[c for c in FG_COLUMNS if c in df.columns])
    if not is_event.any():
        raise AnalysisError(f"Fine–Gray: no row of '{status_col}' equals the event value "
                            f"{event_value!r}")

    jump_times, jump_surv = _censoring_curve(time, censored)
    cuts = np.append(jump_times, time.max())  # R's ct2: interval j is (cuts[j-1], cuts[j]]
    surv_before = np.append(1.0, jump_surv)   # R's cp2: G just after cuts[j-1]
    keep = np.zeros(len(cuts), bool)
    keep[0] = True
    keep[np.unique(np.searchsorted(cuts, np.unique(time[is_event]), side="left"))] = True

    parts_rows, parts_start, parts_stop, parts_w = [], [], [], []
    for row in np.flatnonzero(is_competing):
        home = int(np.searchsorted(cuts, time[row], side="left"))  # interval holding T
        base.loc[row, "stop"] = cuts[home]  # weight 1 to the end of that interval
        later = np.flatnonzero(keep[home + 1:]) + home + 1
        parts_rows.append(np.full(later.size, row))
        parts_start.append(cuts[later - 1])
        parts_stop.append(cuts[later])
        parts_w.append(surv_before[later] / surv_before[home])
    position = np.arange(len(df))
    frames = [base.assign(_row=position, _add=0)]
    if parts_rows:
        rows = np.concatenate(parts_rows)
        added = pd.DataFrame({"id": ids[rows], "start": np.concatenate(parts_start),
                              "stop": np.concatenate(parts_stop), "event": 0,
                              "w": np.concatenate(parts_w), "_row": rows,
                              "_add": 1})
        frames.append(added)
    out = pd.concat(frames, ignore_index=True).sort_values(["_row", "_add", "start"],
                                                           kind="stable")
    # a zero weight (censoring curve at 0) adds nothing to the fit; CoxModel wants w > 0
    out = out[out["w"] > 0]
    covariates = extra.iloc[out["_row"].to_numpy()].reset_index(drop=True)
    out = out.drop(columns=["_row", "_add"]).reset_index(drop=True)
    return pd.concat([out, covariates], axis=1)


class FineGrayModel:
    """Fine–Gray proportional subdistribution-hazards model (R ``finegray`` + ``coxph``).

    Parameters
    ----------
    ties : {"efron", "breslow"}
        Tie handling of the weighted Cox fit.
    alpha : float
        1 - confidence level of the subdistribution hazard ratio intervals.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> df = pd.DataFrame({"t": rng.integers(1, 10, 200), "s": rng.integers(0, 3, 200),
    ...                    "x": rng.normal(size=200)})
    >>> fit = FineGrayModel().fit(df, "t", "s", ["x"], event=1, competing=[2])
    >>> list(fit.summary.columns)[:4]
    ['term', 'coef', 'se', 'se_type']
    """

    def __init__(self, ties: Literal["efron", "breslow"] = "efron",
                 alpha: float = 0.05) -> None:
        if ties not in ("efron", "breslow"):
            raise AnalysisError(f"Fine–Gray: ties={ties!r}; expected 'efron' or 'breslow'")
        self.ties = ties
        self.alpha = alpha
        self.rows_: pd.DataFrame | None = None
        self.cox_: CoxModel | None = None

    def fit(self, df: pd.DataFrame, time_col: str, status_col: str, covariates, *,
            event, competing, cluster_col: str | None = None, categorical=None,
            reference: dict[str, str] | None = None,
            entry_col: str | None = None) -> FineGrayModel:
        """Expand ``df`` with :func:`finegray_rows` and fit the weighted Cox model.

        ``cluster_col`` groups rows of one person for the robust (sandwich) SE; without it
        each original row is its own cluster, as R's ``cluster = id`` on finegray output.
        ``entry_col`` (delayed entry) is refused: R corrects the weights for it and that
        correction is not implemented.
        """
        if entry_col is not None:
            raise AnalysisError(f"Fine–Gray: delayed entry (column '{entry_col}') is not "
                                "supported; expected right-censored follow-up from time 0")
        covariates = [covariates] if isinstance(covariates, str) else list(covariates)
        rows = finegray_rows(df, time_col, status_col, event, competing, id_col=cluster_col)
        self.rows_ = rows
        self.cox_ = CoxModel(ties=self.ties, robust=True, alpha=self.alpha).fit(
            rows, "stop", "event", covariates, categorical=categorical, reference=reference,
            entry_col="start", weights_col="w", cluster_col="id")
        return self

    @property
    def summary(self) -> pd.DataFrame:
        """CoxModel-style table; ``hr`` is the subdistribution hazard ratio."""
        if self.cox_ is None:
            raise AnalysisError("Fine–Gray: call fit() first")
        return self.cox_.summary
