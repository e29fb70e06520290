"""Propensity scores: the probability of taking part given baseline covariates.

Logistic regression (statsmodels ``Logit``) on a design matrix built from the
chosen covariates: numeric covariates as they are (missing values replaced by
the mean, plus a missing-value indicator), categorical ones as indicators with
the most frequent level as reference (missing values as their own level).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning

from analysis.errors import AnalysisError

MISSING_LEVEL = "(missing)"


def design_matrix(
    frame: pd.DataFrame, covariates: list[str], categorical: list[str] | None = None
) -> pd.DataFrame:
    """Numeric design matrix (no intercept) for ``covariates``.

    Columns not listed in ``categorical`` are numeric unless their dtype is text.

    Examples
    --------
    >>> df = pd.DataFrame({"age": [20, 30, None], "sex": ["M", "F", "M"]})
    >>> design_matrix(df, ["age", "sex"]).columns.tolist()
    ['age', 'age[missing]', 'sex[F]']
    """
    unknown = [c for c in covariates if c not in frame.columns]
    if unknown:
        raise AnalysisError(f"unknown covariate(s): {', '.join(unknown)}")
    categorical = set(categorical or [])
    parts: list[pd.DataFrame] = []
    for name in covariates:
        column = frame[name]
        is_text = not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)
        if name in categorical or is_text:
            levels = column.astype("object").where(column.notna(), MISSING_LEVEL).astype(str)
            counts = levels.value_counts()
            reference = counts.index[0]
            others = sorted(level for level in counts.index if level != reference)
            parts.append(
                pd.DataFrame(
                    {f"{name}[{level}]": (levels == level).astype(float) for level in others},
                    index=frame.index,
                )
            )
        else:
            values = column.astype(float)
            missing = values.isna()
            part = {name: values.fillna(values.mean() if missing.sum() < len(values) else 0.0)}
            if missing.any():
                part[f"{name}[missing]"] = missing.astype(float)
            parts.append(pd.DataFrame(part, index=frame.index))
    matrix = pd.concat(parts, axis=1) if parts else pd.DataFrame(index=frame.index)
    constant = matrix.columns[matrix.nunique() <= 1]
    return matrix.drop(columns=constant)


def independent_columns(matrix: pd.DataFrame) -> list[str]:
    """Columns of ``matrix`` that, with an intercept, are linearly independent.

    Greedy in column order: a column is kept when it adds rank. Redundant
    indicators arise naturally (a women's prison and ``sex[F]``, a facility that
    opened in one year); dropping them changes no fitted probability.
    """
    kept: list[str] = []
    basis = np.ones((len(matrix), 1))
    rank = 1
    for name in matrix.columns:
        trial = np.column_stack([basis, matrix[name].to_numpy(dtype=float)])
        new_rank = np.linalg.matrix_rank(trial)
        if new_rank > rank:
            kept.append(name)
            basis, rank = trial, new_rank
    return kept


class PropensityScore:
    """Logistic-regression propensity score.

    Parameters
    ----------
    covariates
        Baseline covariate columns.
    categorical
        Columns to treat as categorical even if numeric (e.g. release year).

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> df = pd.DataFrame({"age": rng.uniform(18, 60, 500)})
    >>> df["treated"] = rng.random(500) < 1 / (1 + np.exp((df["age"] - 35) / 5))
    >>> ps = PropensityScore(["age"]).fit(df, "treated")
    >>> bool(ps.scores_[df["age"] < 25].mean() > ps.scores_[df["age"] > 45].mean())
    True
    """

    def __init__(self, covariates: list[str], categorical: list[str] | None = None):
        self.covariates = list(covariates)
        self.categorical = list(categorical or [])

    def fit(self, frame: pd.DataFrame, treatment: str) -> PropensityScore:
        treated = frame[treatment].astype(bool).to_numpy()
        if treated.all() or not treated.any():
            raise AnalysisError("a propensity score needs both participants and non-participants")
        full = design_matrix(frame, self.covariates, self.categorical)
        matrix = full[independent_columns(full)]
        exog = sm.add_constant(matrix.to_numpy(dtype=float), has_constant="add")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", PerfectSeparationWarning)
            try:
                result = sm.Logit(treated.astype(float), exog).fit(disp=0, maxiter=200)
            except np.linalg.LinAlgError:
                result = sm.Logit(treated.astype(float), exog).fit(
                    disp=0, method="bfgs", maxiter=500
                )
        linear = exog @ result.params
        self.design_ = matrix
        self.dropped_columns_ = [c for c in full.columns if c not in matrix.columns]
        self.result_ = result
        self.logit_ = linear
        self.scores_ = 1 / (1 + np.exp(-linear))
        self.treated_ = treated
        self.coefficients_ = pd.DataFrame(
            {"term": ["intercept", *matrix.columns], "coef": result.params, "se": result.bse}
        )
        return self

    def overlap(self, bins: int = 20) -> pd.DataFrame:
        """Histogram of scores by group (for the overlap plot)."""
        edges = np.linspace(0, 1, bins + 1)
        treated, _ = np.histogram(self.scores_[self.treated_], edges)
        control, _ = np.histogram(self.scores_[~self.treated_], edges)
        return pd.DataFrame(
            {
                "score_from": edges[:-1],
                "score_to": edges[1:],
                "participants": treated,
                "others": control,
            }
        )
