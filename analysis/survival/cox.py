"""Cox proportional-hazards models over statsmodels ``PHReg``, agreeing with R ``coxph``.

``PHReg`` (statsmodels 0.15) fits the coefficients. Its traps are neutralised here:

* it defaults to Breslow ties — :class:`CoxModel` defaults to Efron, like R;
* it silently ignores case weights — weighted fits (R ``coxph(weights=)``) always use
  the own Newton solver of :mod:`analysis.survival.cox_riskset`;
* it keeps a row at risk at its own entry time (R: at risk on ``(entry, stop]``) —
  entry times are nudged up by one ulp (``numpy.nextafter``) so that a row entering
  exactly at an event time is not in that risk set;
* its robust SEs are wrong when rows span no event time — such rows are dropped
  before fitting, and the sandwich is computed from R-style score residuals;
* its summary has one unlabelled standard error — every fit here carries both the
  model-based SE (R ``coxph``) and the robust one (R ``coxph(cluster=)``), and says
  which of them (``se_type``) drives the intervals and p-values;
* its baseline cumulative hazard lags one event time — the baseline is recomputed
  (Efron increments as R ``survfit.coxph``).

See ``docs/cox.md`` for the method notes and the measured agreement with R.

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"time": [5, 8, 3, 9, 12, 4, 7, 10], "event": [1, 1, 0, 1, 0, 1, 1, 0],
...                    "age": [30, 45, 22, 50, 41, 28, 36, 60]})
>>> fit = CoxModel().fit(df, "time", "event", ["age"])
>>> list(fit.summary.columns)
['term', 'coef', 'se', 'se_type', 'se_model', 'se_robust', 'hr', 'hr_lower', 'hr_upper', 'p']
>>> fit.result_.se_type
'model'
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from analysis.errors import AnalysisError, ModelNotConvergedError
from analysis.survival import cox_diagnostics, cox_riskset
from analysis.warnings_guard import catch_warnings

#: ``se`` is the standard error behind ``hr_lower``, ``hr_upper`` and ``p``: the
#: ``se_type`` one of ``se_model`` (inverse information, R ``coxph``) and ``se_robust``
#: (sandwich, R ``coxph(cluster=)``). All are standard errors of ``coef`` (log HR).
SUMMARY_COLUMNS = ("term", "coef", "se", "se_type", "se_model", "se_robust", "hr",
                   "hr_lower", "hr_upper", "p")
#: Values of ``se_type``.
SE_TYPES = ("robust", "model")
#: Handling of tied event times (``CoxModel(ties=)``).
Ties = Literal["efron", "breslow"]
#: How ``CoxModel`` fits (``solver=``; see its docs).
Solver = Literal["auto", "phreg", "newton"]

#: Above this many rows ``solver="auto"`` uses the vectorised Newton solver, because
#: PHReg builds its risk sets with Python loops over rows and event times.
PHREG_MAX_ROWS = 20_000
#: Rows of the subsample whose fit starts the Newton solver on big data.
WARM_START_ROWS = 50_000
#: A standard error this many times the coefficient (or 1) means it is infinite.
INFINITE_SE_RATIO = 1e4
#: Rows of each block in which :meth:`Design.encode` fills the design.
ENCODE_BLOCK_ROWS = 16_384


@dataclass(frozen=True)
class Design:
    """How covariates become model columns (kept to encode prediction profiles)."""

    covariates: tuple[str, ...]
    #: categorical covariate -> (reference level, non-reference levels in column order)
    levels: dict[str, tuple[str, tuple[str, ...]]]
    columns: tuple[str, ...]
    term_columns: dict[str, list[int]]
    centre: np.ndarray

    def encode(self, df: pd.DataFrame) -> np.ndarray:
        """Design matrix (uncentred) of ``df`` with the fitted coding."""
        # per covariate its numbers, or its integer codes and, per model column, the
        # codes of that column's level: compared block by block, so the only array of
        # the design's size is the result (on a national database it is a gigabyte)
        sources: list[tuple[np.ndarray, list[np.ndarray] | None]] = []
        for name in self.covariates:
            if name in self.levels:
                codes, uniques = pd.factorize(df[name])
                labels = [str(u) for u in uniques]
                known = {self.levels[name][0], *self.levels[name][1]}
                unknown = set(labels) - known
                if unknown:
                    raise AnalysisError(
                        f"unknown level(s) {sorted(unknown)} of '{name}'; the model knows "
                        f"{sorted(known)}"
                    )
                hits = [np.array([i for i, lab in enumerate(labels) if lab == level])
                        for level in self.levels[name][1]]
                sources.append((codes, hits))
            else:
                sources.append((pd.to_numeric(df[name]).astype(float).to_numpy(), None))
        width = sum(1 if codes_of is None else len(codes_of) for _, codes_of in sources)
        out = np.empty((len(df), width))
        # blocks that stay in cache: writing one column of a row-major array strides
        for start in range(0, len(df), ENCODE_BLOCK_ROWS):
            rows = slice(start, start + ENCODE_BLOCK_ROWS)
            column = 0
            for values, codes_of in sources:
                if codes_of is None:
                    out[rows, column] = values[rows]
                    column += 1
                    continue
                block = values[rows]
                for level_codes in codes_of:
                    out[rows, column] = np.isin(block, level_codes)
                    column += 1
        return out


@dataclass(frozen=True)
class CoxFit:
    """Immutable results of a fitted Cox model."""

    design: Design
    coef: np.ndarray
    #: covariance behind the summary's ``se``, intervals and p-values (``se_type``)
    cov: np.ndarray
    #: model-based covariance, the inverse information (R ``coxph``: ``fit$var``)
    naive_cov: np.ndarray
    #: sandwich covariance (R ``coxph(cluster=)``: ``fit$var``), computed for every fit
    robust_cov: np.ndarray
    #: whether ``cov`` is ``robust_cov`` (else ``naive_cov``)
    robust: bool
    #: column whose values cluster ``robust_cov``; None: each row is its own cluster
    cluster: str | None
    alpha: float
    loglik: float
    loglik_null: float
    n: int
    events: int
    n_missing: int
    ties: str
    solver: str
    strata: tuple[str, ...]
    #: distinct event times, their stratum label and baseline cumulative hazard at
    #: centred covariates (one row per event time and stratum)
    baseline: pd.DataFrame
    _rs: cox_riskset.RiskSetData = field(repr=False)
    _sums: cox_riskset.RiskSums = field(repr=False)
    _km_rows: tuple = field(repr=False)
    #: column of the case weights (R ``coxph(weights=)``); None: unweighted
    weights: str | None = None

    @property
    def se_type(self) -> str:
        """``"robust"`` or ``"model"``: which standard error the summary's ``se`` is."""
        return "robust" if self.robust else "model"

    @property
    def se(self) -> np.ndarray:
        """Standard errors of the ``se_type`` kind (behind the intervals and p-values)."""
        return np.sqrt(np.diag(self.cov))

    @property
    def se_model(self) -> np.ndarray:
        """Model-based standard errors, as R ``coxph`` without ``cluster``."""
        return np.sqrt(np.diag(self.naive_cov))

    @property
    def se_robust(self) -> np.ndarray:
        """Robust standard errors clustered by :attr:`cluster`, as R ``coxph(cluster=)``."""
        return np.sqrt(np.diag(self.robust_cov))

    @property
    def summary(self) -> pd.DataFrame:
        z = stats.norm.ppf(1 - self.alpha / 2)
        se = self.se
        return pd.DataFrame(
            {
                "term": list(self.design.columns),
                "coef": self.coef,
                "se": se,
                "se_type": self.se_type,
                "se_model": self.se_model,
                "se_robust": self.se_robust,
                "hr": np.exp(self.coef),
                "hr_lower": np.exp(self.coef - z * se),
                "hr_upper": np.exp(self.coef + z * se),
                "p": 2 * stats.norm.sf(np.abs(self.coef / se)),
            },
            columns=list(SUMMARY_COLUMNS),
        )


class CoxModel:
    """Cox proportional-hazards regression (Efron ties by default).

    Parameters
    ----------
    ties : {"efron", "breslow"}
        Handling of tied event times; R and lifelines default to Efron.
    robust : bool or None
        Which standard error drives the intervals and p-values (the summary's ``se``
        and ``se_type``); both ``se_model`` and ``se_robust`` are always reported.
        ``True``: the sandwich (robust) SE, clustered by ``cluster_col`` or, failing
        that, a ``person_id`` column; with neither, each row is its own cluster (R
        ``coxph(robust=TRUE)``). ``False``: the model-based SE (R ``coxph``).
        ``None`` (default): robust exactly when there is a cluster column (people have
        several releases).
    alpha : float
        1 - confidence level of the hazard-ratio intervals.
    solver : {"auto", "phreg", "newton"}
        ``phreg`` fits with statsmodels PHReg; ``newton`` with the vectorised
        Newton–Raphson of :mod:`analysis.survival.cox_riskset` (same maximum, much
        faster on large data); ``auto`` picks PHReg up to ``PHREG_MAX_ROWS`` rows.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"t": [2, 3, 3, 5, 6, 8, 9, 9], "e": [1, 1, 0, 1, 1, 0, 1, 1],
    ...                    "sex": ["F", "M", "M", "F", "M", "F", "M", "F"]})
    >>> model = CoxModel().fit(df, "t", "e", ["sex"], categorical=["sex"],
    ...                        reference={"sex": "F"})
    >>> model.summary["term"].tolist()
    ['sex[M]']
    """

    def __init__(
        self,
        ties: Ties = "efron",
        robust: bool | None = None,
        alpha: float = 0.05,
        solver: Solver = "auto",
    ):
        if ties not in ("efron", "breslow"):
            raise AnalysisError(f"ties must be 'efron' or 'breslow', not {ties!r}")
        if solver not in ("auto", "phreg", "newton"):
            raise AnalysisError(f"solver must be 'auto', 'phreg' or 'newton', not {solver!r}")
        if not 0 < alpha < 1:
            raise AnalysisError("alpha must be between 0 and 1")
        self.ties = ties
        self.robust = robust
        self.alpha = alpha
        self.solver = solver
        self.result_: CoxFit | None = None

    # -- fitted attributes -------------------------------------------------
    def fitted(self) -> CoxFit:
        """The results of :meth:`fit`.

        Returns
        -------
        CoxFit
            The fitted model's results.

        Raises
        ------
        AnalysisError
            The model is not fitted yet.

        Examples
        --------
        >>> CoxModel().fitted()
        Traceback (most recent call last):
        ...
        analysis.errors.AnalysisError: the model is not fitted yet: call fit() first
        """
        if self.result_ is None:
            raise AnalysisError("the model is not fitted yet: call fit() first")
        return self.result_

    @property
    def summary(self) -> pd.DataFrame:
        """Tidy table: ``term, coef, se, se_type, se_model, se_robust, hr, hr_lower,
        hr_upper, p`` (see :data:`SUMMARY_COLUMNS`)."""
        return self.fitted().summary

    @property
    def params(self) -> pd.Series:
        fit = self.fitted()
        return pd.Series(fit.coef, index=list(fit.design.columns))

    @property
    def loglik(self) -> float:
        return self.fitted().loglik

    @property
    def n(self) -> int:
        return self.fitted().n

    @property
    def events(self) -> int:
        return self.fitted().events

    # -- fitting -----------------------------------------------------------
    def fit(
        self,
        df: pd.DataFrame,
        duration_col: str,
        event_col: str,
        covariates,
        categorical=None,
        reference: dict[str, str] | None = None,
        strata=None,
        entry_col: str | None = None,
        weights_col: str | None = None,
        cluster_col: str | None = None,
    ) -> CoxModel:
        """Fit the model; returns ``self``.

        Parameters
        ----------
        df : DataFrame
            One row per episode, or per ``(entry, stop]`` interval for time-varying data.
        duration_col, event_col : str
            Stop time and event indicator (1 = event, 0 = censored).
        covariates : str or list of str
            Model covariates, in output order.
        categorical : list of str, optional
            Covariates coded as indicators (``name[level]``). Text columns are always
            categorical. The reference level is ``reference[name]`` when given, else
            the most frequent level (ties broken by sorted order).
        strata : str or list of str, optional
            Separate baseline hazard per stratum.
        entry_col : str, optional
            Entry (start) time: left truncation or counting-process rows.
        weights_col : str, optional
            Case weights (e.g. IPTW or Fine–Gray censoring weights), as R
            ``coxph(weights=)``: finite and > 0 (R refuses others too). A weighted fit
            always uses the Newton solver (PHReg ignores weights); ``se_model`` is then
            R's ``naive.var`` (inverse weighted information) and ``se_robust`` the
            sandwich of the weighted score residuals.
        cluster_col : str, optional
            Cluster of the robust SEs (default ``person_id`` when present, else each
            row is its own cluster).
        """
        if weights_col is not None and self.solver == "phreg":
            raise AnalysisError(
                "solver='phreg' cannot fit case weights (statsmodels PHReg silently "
                "ignores them): use solver='newton' or 'auto'"
            )
        covariates = [covariates] if isinstance(covariates, str) else list(covariates)
        strata_cols = [] if strata is None else ([strata] if isinstance(strata, str)
                                                 else list(strata))
        categorical = set(categorical or ())
        reference = dict(reference or {})
        # A model-SE fit only reports the robust SE: its implicit person_id cluster must
        # not drop rows whose person is unknown (they are clusters of their own there).
        cluster_required = cluster_col is not None or self.robust is not False
        if cluster_col is None and "person_id" in df.columns:
            cluster_col = "person_id"
        robust = bool(self.robust) or (self.robust is None and cluster_col is not None)

        needed = [duration_col, event_col, *covariates, *strata_cols]
        needed += [c for c in (entry_col, cluster_col if cluster_required else None,
                               weights_col) if c is not None]
        missing_cols = [c for c in dict.fromkeys(needed) if c not in df.columns]
        if missing_cols:
            raise AnalysisError(
                f"unknown column(s) {missing_cols}; available: {sorted(map(str, df.columns))}"
            )
        unknown_cat = (categorical | set(reference)) - set(covariates)
        if unknown_cat:
            raise AnalysisError(f"{sorted(unknown_cat)} are not among the covariates")
        if len(set(covariates)) != len(covariates):
            raise AnalysisError("a covariate is listed twice")
        if not covariates:
            raise AnalysisError("give at least one covariate")

        if weights_col is not None:
            _check_weights(df[weights_col], weights_col)
        needed = list(dict.fromkeys(needed))
        # the rows with every needed value, column by column: selecting the columns first
        # copied them all (on a national model hundreds of megabytes for the fit's length)
        complete = np.ones(len(df), dtype=bool)
        for name in needed:
            complete &= df[name].notna().to_numpy()
        n_missing = int((~complete).sum())
        # the caller's frame itself when no value is missing: only its columns are read
        data = df.loc[complete, needed] if n_missing else df
        if len(data) == 0:
            raise AnalysisError("no rows left after dropping rows with missing values")

        stop = pd.to_numeric(data[duration_col]).astype(float).to_numpy()
        event = pd.to_numeric(data[event_col]).to_numpy()
        if not np.isin(event, (0, 1)).all():
            raise AnalysisError(f"'{event_col}' must be 0 (censored) or 1 (event)")
        event = event.astype(bool)
        entry = None
        if entry_col is not None:
            entry = pd.to_numeric(data[entry_col]).astype(float).to_numpy()
            if np.any(entry >= stop):
                raise AnalysisError(f"'{entry_col}' must be strictly less than '{duration_col}'")
        if np.any(stop < 0):
            raise AnalysisError(f"'{duration_col}' has negative values")
        if not event.any():
            raise AnalysisError("no events: a Cox model needs at least one event")

        design = _make_design(data, covariates, categorical, reference)
        xc = design.encode(data)
        centre = xc.mean(axis=0)
        xc -= centre  # centring avoids overflow of exp(x beta); estimates are unchanged
        _check_rank(xc, design.columns)
        design = Design(design.covariates, design.levels, design.columns,
                        design.term_columns, centre)

        if strata_cols:
            labels = data[strata_cols[0]].astype(str)
            for col in strata_cols[1:]:
                labels = labels + ", " + data[col].astype(str)
            labels = labels.to_numpy()
            strata_codes = pd.factorize(labels, sort=True)[0]
            strata_names = np.array(pd.factorize(labels, sort=True)[1])
        else:
            strata_codes, strata_names = None, np.array(["all"])

        weights = (None if weights_col is None
                   else pd.to_numeric(data[weights_col]).astype(float).to_numpy())
        start = None
        if self.solver != "phreg" and len(xc) > 4 * WARM_START_ROWS:
            # a fit on a random subsample starts Newton close to the maximum, saving
            # several passes over all rows; the result does not depend on it
            sub = np.random.default_rng(0).choice(len(xc), WARM_START_ROWS, replace=False)
            sub_rs = cox_riskset.build(xc[sub], stop[sub], event[sub],
                                       None if entry is None else entry[sub],
                                       None if strata_codes is None else strata_codes[sub],
                                       self.ties, None if weights is None else weights[sub])
            try:
                start = cox_riskset.newton(sub_rs, tol=1e-6, step_tol=1e-3)[0]
            except AnalysisError:
                start = None  # e.g. a rare level without events in the subsample
            del sub_rs
        # the risk sets take the design over (its rows compacted in place): one copy of
        # the design in memory, not two
        rs = cox_riskset.build(xc, stop, event, entry, strata_codes, self.ties, weights,
                               overwrite_x=True)
        del xc
        keep = rs.kept

        solver = self.solver
        if weights is not None:
            solver = "newton"
        elif solver == "auto":
            solver = "phreg" if keep.sum() <= PHREG_MAX_ROWS else "newton"
        if solver == "phreg":
            beta = _fit_phreg(rs.x, stop[keep], event[keep],
                              None if entry is None else entry[keep],
                              None if strata_codes is None else strata_codes[keep], self.ties)
            sums = cox_riskset.risk_sums(rs, beta)
            null = cox_riskset.null_loglik(rs)
        else:
            beta, sums, null = cox_riskset.newton(rs, start=start)

        try:
            naive_cov = np.linalg.inv(sums.info)
        except np.linalg.LinAlgError:
            raise AnalysisError("the information matrix is singular: covariates are "
                                "collinear or a coefficient is infinite") from None
        if not np.all(np.isfinite(beta)) or np.any(np.diag(naive_cov) <= 0):
            raise ModelNotConvergedError(cox_riskset.NOT_CONVERGED)
        # A coefficient running off to infinity (perfect separation) leaves a flat
        # likelihood whose score and information vanish together in rounding, so the
        # iterations can stop "converged"; its standard error then dwarfs the estimate.
        if np.any(np.sqrt(np.diag(naive_cov)) > INFINITE_SE_RATIO * np.maximum(1, np.abs(beta))):
            raise ModelNotConvergedError(cox_riskset.NOT_CONVERGED)
        clusters = None
        if cluster_col is not None:
            clusters = df[cluster_col].to_numpy()
            if n_missing:
                clusters = clusters[complete]
            if not keep.all():
                clusters = clusters[keep]
        robust_cov = _robust_cov(rs, sums, naive_cov, clusters)

        hz = cox_riskset.baseline_hazard_increments(rs, sums)
        baseline = pd.DataFrame({"time": rs.times,
                                 "stratum": strata_names[rs.time_stratum.astype(int)],
                                 "hazard": hz})
        baseline["cumhaz"] = baseline.groupby("stratum", sort=False)["hazard"].cumsum()

        self.result_ = CoxFit(
            design=design, coef=beta, cov=robust_cov if robust else naive_cov,
            naive_cov=naive_cov, robust_cov=robust_cov, robust=robust, cluster=cluster_col,
            alpha=self.alpha, loglik=sums.loglik, loglik_null=null, n=len(data),
            events=int(event.sum()), n_missing=n_missing, ties=self.ties, solver=solver,
            strata=tuple(strata_cols), baseline=baseline, _rs=rs, _sums=sums,
            _km_rows=(stop, event, entry), weights=weights_col,
        )
        return self

    # -- diagnostics and prediction ---------------------------------------
    def ph_test(self, transform: str = "km") -> pd.DataFrame:
        """Proportional-hazards test per term and ``GLOBAL`` (R ``cox.zph``).

        Returns a DataFrame with columns ``term, chi2, df, p``.
        """
        fit = self.fitted()
        if fit.weights is not None:
            raise AnalysisError(
                f"the proportional-hazards test is not available for a model weighted by "
                f"'{fit.weights}' (not checked against R cox.zph with weights)")
        stop, event, entry = fit._km_rows
        return cox_diagnostics.ph_test(fit._rs, fit._sums, fit.design.term_columns,
                                       stop=stop, event=event, entry=entry,
                                       transform=transform)

    def predict_survival(self, profiles: pd.DataFrame, times) -> pd.DataFrame:
        """Survival probabilities of covariate profiles at ``times``.

        Same as R ``survfit(fit, newdata=profiles)`` (``exp(-H)``, Efron or Breslow
        hazard increments). Stratified models need the strata columns in
        ``profiles``. Returns a DataFrame indexed by time, one column per profile.
        """
        fit = self.fitted()
        missing = [c for c in (*fit.design.covariates, *fit.strata) if c not in profiles]
        if missing:
            raise AnalysisError(f"profiles lack column(s) {missing}")
        x = fit.design.encode(profiles) - fit.design.centre
        risk = np.exp(x @ fit.coef)
        if fit.strata:
            labels = profiles[fit.strata[0]].astype(str)
            for col in fit.strata[1:]:
                labels = labels + ", " + profiles[col].astype(str)
        else:
            labels = pd.Series(["all"] * len(profiles))
        times = np.asarray(times, dtype=float)
        out = {}
        for i, (label, r) in enumerate(zip(labels, risk, strict=True)):
            base = fit.baseline[fit.baseline["stratum"] == label]
            if base.empty:
                raise AnalysisError(f"stratum {label!r} has no events in the fitted data")
            idx = np.searchsorted(base["time"].to_numpy(), times, side="right")
            cumhaz = np.concatenate([[0.0], base["cumhaz"].to_numpy()])[idx]
            out[profiles.index[i]] = np.exp(-cumhaz * r)
        return pd.DataFrame(out, index=pd.Index(times, name="time"))


def _robust_cov(rs, sums, naive_cov, clusters) -> np.ndarray:
    """Sandwich covariance ``D'D`` of the dfbeta residuals ``D`` summed per cluster.

    ``clusters`` holds the cluster of each kept row (None: every row is its own; a
    missing value is a cluster of its own). As R ``coxph(cluster=)``: no small-sample
    factor.
    """
    groups = None
    if clusters is not None:
        groups = pd.factorize(clusters)[0]
        unknown = groups < 0
        if unknown.any():
            groups[unknown] = groups.max() + 1 + np.arange(unknown.sum())
        if groups.max() + 1 == len(groups):  # every cluster a single row
            groups = None
    # D = residuals @ V with V symmetric, so D'D = V (residuals' residuals) V: one
    # symmetric Gram matrix of the per-cluster residuals, no (clusters x p) product
    meat = cox_riskset.clustered_residual_gram(rs, sums, groups)
    sandwich = naive_cov @ meat @ naive_cov
    return (sandwich + sandwich.T) / 2


def _check_weights(values: pd.Series, column: str) -> None:
    """Refuse case weights R ``coxph`` refuses: missing, non-numeric, infinite or <= 0."""
    numbers = pd.to_numeric(values, errors="coerce").astype(float).to_numpy()
    bad = ~np.isfinite(numbers) | ~(numbers > 0)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise AnalysisError(
            f"weights column '{column}' must hold finite numbers > 0 (as R coxph): "
            f"{int(bad.sum())} row(s) do not, the first at position {first} "
            f"(value {values.iloc[first]!r})")


def _make_design(data, covariates, categorical, reference) -> Design:
    levels: dict[str, tuple[str, tuple[str, ...]]] = {}
    columns: list[str] = []
    term_columns: dict[str, list[int]] = {}
    for name in covariates:
        col = data[name]
        is_text = not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col))
        if name in categorical or is_text:
            codes, uniques = pd.factorize(col)
            counts = pd.Series(np.bincount(codes[codes >= 0], minlength=len(uniques)),
                               index=[str(u) for u in uniques]).groupby(level=0).sum()
            if len(counts) < 2:
                raise AnalysisError(f"covariate '{name}' has a single level; drop it")
            ordered = sorted(counts.index)
            if name in reference:
                ref = str(reference[name])
                if ref not in counts.index:
                    raise AnalysisError(
                        f"reference level {ref!r} of '{name}' does not occur; levels: {ordered}"
                    )
            else:
                top = counts.max()
                ref = next(level for level in ordered if counts[level] == top)
            others = tuple(level for level in ordered if level != ref)
            levels[name] = (ref, others)
            term_columns[name] = list(range(len(columns), len(columns) + len(others)))
            columns += [f"{name}[{level}]" for level in others]
        else:
            if pd.to_numeric(col).nunique() < 2:
                raise AnalysisError(f"covariate '{name}' is constant; drop it")
            term_columns[name] = [len(columns)]
            columns.append(name)
    return Design(tuple(covariates), levels, tuple(columns), term_columns, np.zeros(0))


def _check_rank(x: np.ndarray, columns) -> None:
    """Refuse collinear covariates, naming the first column explained by earlier ones.

    ``x`` must be centred.
    """
    cross = cox_riskset.cross(x, x)  # p x p: cheap even for millions of rows
    scale = np.sqrt(np.diag(cross))
    scale = np.where(scale > 0, scale, 1.0)
    gram = cross / np.outer(scale, scale)  # correlation matrix

    def full_rank(k: int) -> bool:
        eig = np.linalg.eigvalsh(gram[:k, :k])
        return eig.min() > 1e-10 * max(eig.max(), 1e-300)

    if full_rank(gram.shape[0]):
        return
    for k in range(1, gram.shape[0] + 1):
        if not full_rank(k):
            raise AnalysisError(
                f"covariates are collinear: '{columns[k - 1]}' is a linear combination of "
                f"{list(columns[: k - 1])}; drop one of them"
            )


def _fit_phreg(x, stop, event, entry, strata, ties) -> np.ndarray:
    from statsmodels.duration.hazard_regression import PHReg
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    if entry is not None:
        # PHReg keeps a row at risk at its own entry time; R does not ((entry, stop]).
        shift = min(0.0, entry.min())
        entry = np.nextafter(entry - shift, np.inf)
        stop = stop - shift
    model = PHReg(stop, x, status=event.astype(float), entry=entry, strata=strata, ties=ties)
    with catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = model.fit(method="newton", maxiter=100, tol=1e-10)
        except np.linalg.LinAlgError:
            raise ModelNotConvergedError(cox_riskset.NOT_CONVERGED) from None
    diverged = any(issubclass(w.category, ConvergenceWarning) for w in caught or ())
    if diverged or not np.all(np.isfinite(result.params)):
        raise ModelNotConvergedError(cox_riskset.NOT_CONVERGED)
    return np.asarray(result.params, dtype=float)
