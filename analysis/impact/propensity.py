"""Propensity scores: the probability of taking part given baseline covariates.

Logistic regression (statsmodels ``Logit``) on a design matrix built from the
chosen covariates: numeric covariates as they are (missing values replaced by
the mean, plus a missing-value indicator), categorical ones as indicators with
the most frequent level as reference (missing values as their own level).
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning

from analysis.errors import AnalysisError
from analysis.survival.cox_riskset import gram
from analysis.warnings_guard import catch_warnings

MISSING_LEVEL = "(missing)"


def design_matrix(
    frame: pd.DataFrame, covariates: list[str], categorical: list[str] | None = None
) -> pd.DataFrame:
    """Numeric design matrix (no intercept) for ``covariates``.

    Columns not listed in ``categorical`` are numeric unless their dtype is text.
    Constant columns are left out.

    Examples
    --------
    >>> df = pd.DataFrame({"age": [20, 30, None], "sex": ["M", "F", "M"]})
    >>> design_matrix(df, ["age", "sex"]).columns.tolist()
    ['age', 'age[missing]', 'sex[F]']
    """
    names, block = _design_with_constant(frame, covariates, categorical)
    return _as_frame(frame, covariates, names, block)


def _as_frame(frame: pd.DataFrame, covariates: list[str], names: list[str],
              block: np.ndarray) -> pd.DataFrame:
    """The design columns of ``block`` (all but its constant) as a DataFrame, not copied."""
    # Text column labels, even when every column was left out (no covariates: none).
    labels = pd.Index(names, dtype=str) if covariates else None
    return pd.DataFrame(block[:, 1:], index=frame.index, columns=labels, copy=False)


def _design_with_constant(frame: pd.DataFrame, covariates: list[str],
                          categorical: list[str] | None) -> tuple[list[str], np.ndarray]:
    """The names of the design's columns, and one float block holding a constant column
    then those columns (column-major: each column contiguous, as the per-column
    statistics downstream read it).

    The block is the only copy: each column is written straight into it. (Building every
    column first and stacking them held the design twice; on a national cohort each copy
    is gigabytes, and the model's design with its constant was a third.)
    """
    unknown = [c for c in covariates if c not in frame.columns]
    if unknown:
        raise AnalysisError(f"unknown covariate(s): {', '.join(unknown)}")
    as_categories = set(categorical or [])
    columns: list[tuple[str, Callable[[np.ndarray], None]]] = []
    for name in covariates:
        column = frame[name]
        is_text = not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)
        if name in as_categories or is_text:
            columns += [(f"{name}[{level}]", fill) for level, fill in _indicators(column)]
        else:
            columns += [(name + suffix, fill) for suffix, fill in _numeric(column)]
    block = np.empty((len(frame), len(columns) + 1), dtype=float, order="F")
    block[:, 0] = 1.0
    for position, (_name, fill) in enumerate(columns, start=1):
        fill(block[:, position])
    return [name for name, _fill in columns], block


def _text_levels(column: pd.Series) -> pd.Series:
    """The column as text, missing values as the level :data:`MISSING_LEVEL`.

    A pandas Categorical stays one (its codes are read, not its text); its missing
    values become the level :data:`MISSING_LEVEL` too.
    """
    if isinstance(column.dtype, pd.CategoricalDtype):
        if not column.hasnans:
            return column
        if MISSING_LEVEL not in column.cat.categories:
            column = column.cat.add_categories(MISSING_LEVEL)
        return column.fillna(MISSING_LEVEL)
    if isinstance(column.dtype, pd.StringDtype):
        # Already text: filling is all the object round trip below would do, at a
        # fraction of its cost on a million rows.
        return column.fillna(MISSING_LEVEL) if column.hasnans else column
    return column.astype("object").where(column.notna(), MISSING_LEVEL).astype(str)


def _indicators(column: pd.Series) -> list[tuple[str, Callable[[np.ndarray], None]]]:
    """``(level, fill)`` for every level but the reference, in sorted order: ``fill(out)``
    writes the level's 0/1 indicator into ``out``.

    The reference is the most frequent level; ties go to the level seen first (a rule
    written here rather than left to ``Series.value_counts()``, whose order of tied
    counts is not documented). An indicator is never constant: each level appears, and
    the reference too, so none is dropped.
    """
    codes, uniques = pd.factorize(_text_levels(column))  # codes in order of appearance
    counts = np.bincount(codes, minlength=len(uniques))
    reference = int(np.argmax(counts)) if len(uniques) else -1  # first of the largest
    levels = [str(level) for level in uniques]
    others = sorted((level, code) for code, level in enumerate(levels) if code != reference)
    # kept until the block is filled: the smallest integers that hold them
    codes = codes.astype(np.min_scalar_type(max(len(uniques) - 1, 0)))

    def indicator(code: int) -> Callable[[np.ndarray], None]:
        return lambda out: np.equal(codes, code, out=out, casting="unsafe")

    return [(level, indicator(code)) for level, code in others]


def _numeric(column: pd.Series) -> list[tuple[str, Callable[[np.ndarray], None]]]:
    """``(suffix, fill)`` of the columns that vary: the values with missing ones at the
    mean, and an indicator of the missing ones when there are any."""
    values = column.astype(float)
    missing = values.isna()
    n_missing = int(missing.sum())
    fill_value = values.mean() if n_missing < len(values) else 0.0
    present = values.to_numpy()[~missing.to_numpy()]
    # the filled column takes the present values and, where one is missing, the mean
    taken = np.append(present, fill_value) if n_missing else present
    varies = bool(taken.size and taken.min() < taken.max())
    del values, missing, present, taken  # read again when filling: none held until then

    def numbers() -> np.ndarray:
        return column.astype(float).to_numpy()

    def filled(out: np.ndarray) -> None:
        out[:] = numbers()
        if n_missing:
            out[np.isnan(out)] = fill_value

    parts: list[tuple[str, Callable[[np.ndarray], None]]] = []
    if varies:
        parts.append(("", filled))
    if 0 < n_missing < len(column):
        parts.append(("[missing]", lambda out: np.isnan(numbers(), out=out, casting="unsafe")))
    return parts


def independent_columns(matrix: pd.DataFrame) -> list[str]:
    """Columns of ``matrix`` that, with an intercept, are linearly independent.

    Greedy in column order: a column is kept when it adds rank. Redundant
    indicators arise naturally (a women's prison and ``sex[F]``, a facility that
    opened in one year); dropping them changes no fitted probability.

    The rank of each trial set of columns is ``numpy.linalg.matrix_rank``'s (singular
    values above ``s_max * max(rows, columns) * eps``), computed from the triangular
    factor ``R`` of a QR decomposition of the whole matrix: a set of columns of
    ``X = QR`` has the singular values of the same columns of ``R``, so every trial is a
    small SVD instead of one over every row.

    Most designs are far from collinear, and for them the decision needs no QR: when
    the Gram matrix shows every singular value far above the tolerance
    (:func:`_clearly_full_rank`), every column is kept, as the QR route would decide.
    """
    rows = len(matrix)
    values = matrix.to_numpy(dtype=float)
    if _clearly_full_rank(values):
        return list(matrix.columns)
    triangle = _triangular_factor(values)
    eps = np.finfo(float).eps
    kept: list[str] = []
    basis = [0]
    rank = 1
    for position, name in enumerate(matrix.columns, start=1):
        trial = [*basis, position]
        singular = np.linalg.svd(triangle[:, trial], compute_uv=False)
        tolerance = singular.max() * max(rows, len(trial)) * eps
        new_rank = int(np.count_nonzero(singular > tolerance))
        if new_rank > rank:
            kept.append(name)
            basis, rank = trial, new_rank
    return kept


#: Rows of each block of :func:`_triangular_factor`: a block and its QR workspace stay
#: a few megabytes, whatever the number of releases.
QR_BLOCK_ROWS = 16_384
#: The smallest eigenvalue of the Gram matrix, relative to its largest, above which
#: :func:`_clearly_full_rank` needs no QR (singular values 1,000 times apart at most).
CLEAR_CONDITION = 1e-6


def _clearly_full_rank(values: np.ndarray) -> bool:
    """Whether ``[1, values]`` has every column adding rank, beyond doubt.

    The Gram matrix ``G = X'X`` (summed over blocks of rows: one pass, no copy of the
    matrix) has the squared singular values of ``X`` as eigenvalues. Forming ``G`` in
    floating point errs by at most ``rows * eps * (columns + 1) * lambda_max`` (a
    deliberately loose bound), so an estimated ``lambda_min`` above
    :data:`CLEAR_CONDITION` (and far above that error) puts ``sigma_min`` of ``X``
    above ``sigma_max / 1000``. By interlacing, every set of columns keeps a smallest
    singular value at least that large and a largest one no larger, far above
    ``numpy.linalg.matrix_rank``'s tolerance ``sigma_max * rows * eps``: every trial of
    :func:`independent_columns` adds rank. Anything less clear (collinear columns,
    constant or missing values, wildly different scales) returns False, and the QR
    decides as before.
    """
    rows, columns = values.shape
    gram = np.zeros((columns + 1, columns + 1))
    block = np.empty((min(QR_BLOCK_ROWS, max(rows, 1)), columns + 1))
    block[:, 0] = 1.0
    for start in range(0, rows, QR_BLOCK_ROWS):
        part = values[start:start + QR_BLOCK_ROWS]
        stacked = block[:len(part)]
        stacked[:, 1:] = part
        gram += stacked.T @ stacked
    if not np.isfinite(gram).all():
        return False
    eigen = np.linalg.eigvalsh(gram)
    error = rows * np.finfo(float).eps * (columns + 1)
    return bool(eigen[0] > max(CLEAR_CONDITION, 100 * error) * eigen[-1])


def _triangular_factor(values: np.ndarray) -> np.ndarray:
    """``R`` of the QR decomposition of ``[1, values]`` (an intercept column first).

    Computed block by block (the tall-skinny QR): the ``R`` of the rows so far, stacked
    on the next block of rows, is decomposed again. The result is the ``R`` of a QR
    decomposition of the whole matrix, without building that matrix: one pass, a
    block's memory instead of a copy of every row (a gigabyte at 3 million releases
    and 40 columns), and a third faster than one QR of the whole.
    """
    rows, columns = values.shape
    triangle = np.empty((0, columns + 1))
    for start in range(0, max(rows, 1), QR_BLOCK_ROWS):
        block = values[start:start + QR_BLOCK_ROWS]
        stacked = np.empty((len(triangle) + len(block), columns + 1))
        stacked[:len(triangle)] = triangle
        stacked[len(triangle):, 0] = 1.0
        stacked[len(triangle):, 1:] = block
        # numpy's stubs give every mode a QRResult; mode="r" returns the R factor alone
        triangle = np.linalg.qr(stacked, mode="r")  # type: ignore[assignment]
    return triangle


class SymmetricLogit(sm.Logit):
    """statsmodels' Logit with its Hessian built as a symmetric product in row blocks.

    statsmodels forms ``-(L (1 - L) X').dot(X)``: a weighted copy of the whole design,
    transposed (a gigabyte on a national cohort, at every Newton step), then a general
    product. :func:`~analysis.survival.cox_riskset.gram` gives the same matrix from
    blocks of rows with BLAS ``syrk``. Everything else is statsmodels' (tests compare
    the fits, standard errors included).
    """

    _last_prediction: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def hessian(self, params):
        fitted = self.predict(params)
        return -gram(np.asarray(self.exog, dtype=float), fitted * (1 - fitted))

    def predict(self, params, exog=None, which="mean", linear=None, offset=None):
        """statsmodels' prediction, computed once per ``params`` for the model's own rows.

        Each Newton step asks for the same prediction three times (log-likelihood,
        score, Hessian), each a pass over the whole design; they are the same numbers,
        so the last one is kept. Any other request is statsmodels' own.
        """
        if exog is not None or linear is not None or offset is not None or which not in (
                "mean", "linear") or getattr(self, "offset", None) is not None:
            return super().predict(params, exog=exog, which=which, linear=linear,
                                   offset=offset)
        params = np.asarray(params, dtype=float)
        last = self._last_prediction
        if last is None or not np.array_equal(last[0], params):
            linear_predictor = np.dot(self.exog, params)
            last = (params.copy(), linear_predictor, self.cdf(linear_predictor))
            self._last_prediction = last
        return last[1] if which == "linear" else last[2]


#: Rows of the subsample whose fit starts the logistic fit on big data.
WARM_START_ROWS = 100_000
#: A warm-start coefficient beyond this (on the logit scale) means (near) separation in
#: the subsample: Newton starts from zero instead.
_WARM_START_LIMIT = 10.0


def _warm_start(outcome: np.ndarray, exog: np.ndarray) -> np.ndarray | None:
    """Coefficients fitted on a random subsample, to start Newton near the maximum.

    On a national cohort each Newton step passes over millions of rows; from the
    subsample's estimate it needs two or three instead of six to ten. The maximum, and
    so the scores, do not depend on the start (tests check this). ``None`` (start from
    zero) for small data, or when the subsample cannot give a usable fit (a level or
    group missing from it, separation).
    """
    if len(outcome) <= 4 * WARM_START_ROWS:
        return None
    rows = np.random.default_rng(0).choice(len(outcome), WARM_START_ROWS, replace=False)
    sub_outcome, sub_exog = outcome[rows], exog[rows]
    if sub_outcome.min() == sub_outcome.max() or np.any(np.ptp(sub_exog[:, 1:], axis=0) == 0):
        return None
    fitted = _fit_from(sub_outcome, sub_exog, None)
    if fitted is None or np.abs(fitted.params).max() > _WARM_START_LIMIT:
        return None
    return np.asarray(fitted.params, dtype=float)


def _fit_from(outcome: np.ndarray, exog: np.ndarray, start: np.ndarray | None):
    """A converged Newton fit (statsmodels Logit) from ``start`` (None: zero), else None.

    statsmodels warns rather than fails when Newton does not converge; a fit that did
    not is thrown away here, so that a poor start is never the answer.
    """
    try:
        fitted = SymmetricLogit(outcome, exog, check_rank=False).fit(
            disp=0, maxiter=50, start_params=start)
    except (np.linalg.LinAlgError, ValueError):
        return None
    converged = bool(fitted.mle_retvals.get("converged", False))
    return fitted if converged and np.all(np.isfinite(fitted.params)) else None


class PropensityScore:
    """Logistic-regression propensity score.

    Parameters
    ----------
    covariates
        Baseline covariate columns.
    categorical
        Columns to treat as categorical even if numeric (e.g. release year).

    Attributes
    ----------
    full_design_ : DataFrame
        :func:`design_matrix` of the fitted frame (every non-constant column).
    design_ : DataFrame
        Its linearly independent columns, those the model uses.
    full_design_columns_, design_columns_ : list of str
        Their column names (kept by :meth:`without_design`).
    logit_, scores_ : ndarray
        Linear predictor and probability of taking part, per row.

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
        names, block = _design_with_constant(frame, self.covariates, self.categorical)
        full = _as_frame(frame, self.covariates, names, block)
        kept = independent_columns(full)
        # usually every column: then the design is the full one, and the model's design
        # (what sm.add_constant makes) the same block with its constant, not a copy (on a
        # national cohort each copy is a gigabyte)
        if kept == list(full.columns):
            matrix, exog = full, block
        else:
            matrix = full[kept]
            exog = np.empty((len(matrix), matrix.shape[1] + 1))
            exog[:, 0] = 1.0
            exog[:, 1:] = matrix.to_numpy(dtype=float)
        # The columns are independent by construction: statsmodels' own rank check (a QR
        # of every row, used only for the degrees of freedom) would repeat that work.
        outcome = treated.astype(float)
        with catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", PerfectSeparationWarning)
            start = _warm_start(outcome, exog)
            result = None if start is None else _fit_from(outcome, exog, start)
            if result is None:  # no warm start, or Newton did not settle from it
                try:
                    result = SymmetricLogit(outcome, exog, check_rank=False).fit(disp=0, maxiter=200)
                except np.linalg.LinAlgError:
                    result = SymmetricLogit(outcome, exog, check_rank=False).fit(
                        disp=0, method="bfgs", maxiter=500
                    )
        linear = exog @ result.params
        self.full_design_ = full
        self.design_ = matrix
        self.full_design_columns_ = list(full.columns)
        self.design_columns_ = list(matrix.columns)
        self.dropped_columns_ = [c for c in full.columns if c not in matrix.columns]
        # Only the numbers: statsmodels' results hold the model, and the model the
        # design with its constant (a second copy of it: gigabytes on a national cohort,
        # kept alive for as long as the score was).
        self.logit_ = linear
        self.scores_ = 1 / (1 + np.exp(-linear))
        self.treated_ = treated
        self.coefficients_ = pd.DataFrame(
            {"term": ["intercept", *matrix.columns], "coef": result.params, "se": result.bse}
        )
        return self

    def without_design(self) -> PropensityScore:
        """This fitted score without its design matrices: the scores, coefficients and
        column names stay (``design_columns_``, ``full_design_columns_``).

        An evaluation keeps the score for as long as its results are asked for, and on a
        national cohort the design is a gigabyte or more; once the comparisons that read
        it are made, this copy is kept instead.

        Examples
        --------
        >>> rng = np.random.default_rng(1)
        >>> df = pd.DataFrame({"age": rng.uniform(18, 60, 200), "treated": rng.random(200) < 0.3})
        >>> light = PropensityScore(["age"]).fit(df, "treated").without_design()
        >>> light.design_columns_, hasattr(light, "design_"), len(light.scores_)
        (['age'], False, 200)
        """
        light = copy.copy(self)
        del light.design_, light.full_design_
        return light

    def overlap(self, bins: int = 20) -> pd.DataFrame:
        """Histogram of scores by group over their common support (for the overlap plot).

        The common support is the range of scores both groups reach: from the larger of
        the two groups' lowest scores to the smaller of their highest (the min–max rule).
        People outside it have no one like them in the other group: typically
        comparison releases with a covariate level no participant has (an offence
        category, a release year), whose score the model drives to about 0. They are
        never matched and weigh about nothing in weighting, and, binned with the rest,
        they made a spike at 0 that dwarfed the people compared; so they are counted in
        two rows of their own instead of in the bins.

        Returns
        -------
        pandas.DataFrame
            ``score_from``, ``score_to``, ``participants``, ``others`` and
            ``common_support``: ``bins`` rows of equal width over 0–1 counting the
            people inside the common support (``True``), then the people below it and
            those above it (``False``; ``score_from``/``score_to`` their range). Each
            count column adds up to the group's size.

        Examples
        --------
        >>> ps = PropensityScore([])
        >>> ps.scores_ = np.array([1e-12, 0.2, 0.3, 0.35, 0.5, 0.9])
        >>> ps.treated_ = np.array([False, True, False, True, False, True])
        >>> table = ps.overlap(bins=4)
        >>> table["others"].tolist(), table["participants"].tolist()
        ([0, 1, 1, 0, 1, 0], [1, 1, 0, 0, 0, 1])
        >>> table["common_support"].tolist()
        [True, True, True, True, False, False]
        """
        scores, treated = np.asarray(self.scores_, dtype=float), self.treated_
        low = max(scores[treated].min(), scores[~treated].min())
        high = min(scores[treated].max(), scores[~treated].max())
        below = scores < low
        above = (scores > high) & ~below
        inside = ~below & ~above
        edges = np.linspace(0, 1, bins + 1)
        rows = {"score_from": [*edges[:-1], 0.0, high], "score_to": [*edges[1:], low, 1.0]}
        for column, members in (("participants", treated), ("others", ~treated)):
            counts, _ = np.histogram(scores[members & inside], edges)
            rows[column] = [*counts.tolist(), int((members & below).sum()),
                            int((members & above).sum())]
        table = pd.DataFrame(rows)
        table["common_support"] = [True] * bins + [False, False]
        return table
