"""Cox models straight from a study database: covariate lookup, episodes, exposures, fit.

Used by ``desist cox`` and usable from notebooks::

    con = connect_readonly("data/demo.duckdb")
    study = fit_study_cox(con, ["age_at_release", "sex"], programs=["VOC1"])
    study.model.summary, study.ph_test

Covariates may be contract fields of ``releases``, the derived ``age``, ``age_band`` and
``release_year``, or extra covariates imported from ``releases.csv`` (listed in the
``covariates`` table). Text fields, ``age_band``, ``release_year`` and covariates of kind
``categorical`` enter as indicators against their most frequent level; the others are
numeric.

Standard errors: every term carries both ``se_model`` (R ``coxph``) and ``se_robust``
(R ``coxph(cluster=person_id)``: clustered by person, because people have several
releases and time-varying programmes split a release into several rows). ``se="robust"``
(the default) or ``se="model"`` chooses which one is ``se`` and drives the intervals and
p-values (``se_type``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import duckdb
import pandas as pd

from analysis.contract import COMPETING_END_REASONS
from analysis.errors import AnalysisError
from analysis.survival.cox import SE_TYPES, CoxFit, CoxModel, Solver, Ties
from analysis.survival.episodes import Outcome, Selection, build_episodes, release_columns
from analysis.survival.exposures import Exposure, ExposureData, Participation, add_exposures
from analysis.survival.fine_gray import FineGrayModel

#: Release columns that are bookkeeping, never covariates.
NOT_COVARIATES = ("release_id", "person_id", "release_date", "follow_up_end", "batch_id")
#: Numeric-looking fields that are better treated as categories.
CATEGORICAL_FIELDS = ("age_band", "release_year")
#: Choices of ``se``: which standard error drives the intervals and p-values.
SE_CHOICES = SE_TYPES
#: The default: robust, clustered by person.
DEFAULT_SE: Literal["robust", "model"] = "robust"
#: What the robust standard errors are clustered by.
CLUSTER = "person_id"
#: ``desist cox --model``: cause-specific (Cox) or subdistribution (Fine–Gray) hazards.
MODELS = ("cox", "finegray")
Model = Literal["cox", "finegray"]

@dataclass(frozen=True)
class StudyCox:
    """A fitted study model with what the report needs."""

    model: CoxModel
    ph_test: pd.DataFrame
    n_releases: int
    n_missing: int
    outcome: Outcome
    time_varying_programs: tuple[str, ...]
    baseline_programs: tuple[str, ...]
    dropped_zero_time: int
    #: ``"cox"`` (cause-specific hazard ratios) or ``"finegray"`` (subdistribution ones).
    kind: str = "cox"

    @property
    def result(self) -> CoxFit:
        """The fitted model's results (:func:`fit_study_cox` builds only fitted ones)."""
        return self.model.fitted()

    @property
    def se_type(self) -> str:
        """``"robust"`` or ``"model"``: the standard error behind the CIs and p-values."""
        return self.result.se_type

    def as_dict(self) -> dict:
        """The ``desist cox --json`` payload.

        Each term has ``se`` (the ``se_type`` one, behind ``hr_lower``, ``hr_upper``
        and ``p``), ``se_model`` and ``se_robust``; ``se_robust_cluster`` names what
        the robust SEs are clustered by.
        """
        return {
            "n": self.n_releases,
            "events": self.model.events,
            "ties": self.result.ties,
            "loglik": self.model.loglik,
            "se_type": self.se_type,
            # the Fine–Gray rows carry the person as their "id"
            "se_robust_cluster": CLUSTER if self.kind == "finegray" else self.result.cluster,
            "terms": self.model.summary.to_dict("records"),
            "ph_test": self.ph_test.to_dict("records"),
            "model": self.kind,
            "competing_reasons": list(COMPETING_END_REASONS) if self.kind == "finegray"
            else [],
        }


def available_covariates(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Every usable covariate name and whether it is ``numeric`` or ``categorical``.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Connection to a study database (read-only is enough).

    Returns
    -------
    dict
        Name -> ``"numeric"`` or ``"categorical"``: release fields, imported
        covariates, and the derived ``age``, ``age_band`` and ``release_year``.

    Examples
    --------
    >>> import duckdb
    >>> from analysis.store.schema import migrate
    >>> con = duckdb.connect(); _ = migrate(con)
    >>> kinds = available_covariates(con)
    >>> kinds["age_at_release"], kinds["sex"], kinds["age_band"]
    ('numeric', 'categorical', 'categorical')
    """
    kinds = dict(con.execute("SELECT name, kind FROM covariates").fetchall())
    types = dict(con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = 'releases'").fetchall())
    out: dict[str, str] = {}
    for col in release_columns(con):
        if col in NOT_COVARIATES:
            continue
        numeric = any(t in types[col].upper() for t in ("INT", "DOUBLE", "FLOAT", "DECIMAL"))
        kind = kinds.get(col, "numeric" if numeric else "categorical")
        out[col] = kind
    out.update({"age": "numeric", "age_band": "categorical", "release_year": "categorical"})
    return out


@dataclass(frozen=True)
class CoxFrame:
    """The rows a study Cox model fits (:func:`cox_frame`): complete cases of the
    covariates, programmes and stratum, with the programme exposures; ``n_missing``
    releases were left out for a missing value."""

    frame: pd.DataFrame
    data: ExposureData
    covariates: list[str]
    programs: list[str]
    categorical: list[str]
    known: dict[str, str]
    outcome: Outcome
    n_missing: int


def checked_covariates(con: duckdb.DuckDBPyConnection, wanted) -> dict[str, str]:
    """:func:`available_covariates`, once every name of ``wanted`` is checked to be one
    of them (else an error listing the available ones)."""
    known = available_covariates(con)
    unknown = [c for c in wanted if c not in known]
    if unknown:
        raise AnalysisError(
            f"unknown covariate(s) {unknown}; available: {', '.join(sorted(known))}"
        )
    return known


def cox_frame(con: duckdb.DuckDBPyConnection, covariates=(), programs=(), *,
              exposure: Exposure = "current", participation: Participation = "any",
              strata: str | None = None, outcome: Outcome | None = None,
              selection: Selection | None = None) -> CoxFrame:
    """The rows :func:`fit_study_cox` fits, before the fit: one place, so that
    ``desist export counting-process`` writes exactly them. Options as there.

    Raises
    ------
    AnalysisError
        Nothing to fit, an unknown covariate, no release selected, or a programme
        that every (or no) release in the analysis is exposed to.
    """
    covariates = list(dict.fromkeys(covariates))
    programs = list(dict.fromkeys(programs))
    if not covariates and not programs:
        raise AnalysisError("give at least one covariate or programme")
    wanted = covariates + ([strata] if strata else [])
    known = checked_covariates(con, wanted)
    outcome = outcome or Outcome()
    episodes = build_episodes(con, outcome, selection, columns=wanted)
    if episodes.empty:
        raise AnalysisError("the database has no releases" if selection is None
                            or selection.is_empty else "no releases match the selection")
    data = add_exposures(con, episodes, programs, exposure=exposure, variant=participation)
    frame = data.frame
    used = [*covariates, *programs, *([strata] if strata else [])]
    complete = frame[used].notna().all(axis=1).to_numpy()
    n_missing = 0
    if not complete.all():
        n_missing = int(frame.loc[~complete, "release_id"].nunique())
        frame = frame[complete]
    for program in programs:
        if frame[program].nunique() < 2:
            raise AnalysisError(
                f"program {program!r}: no release in the analysis is "
                f"{'exposed' if frame[program].max() == 0 else 'unexposed'} to it, so its "
                "effect cannot be estimated"
            )
    categorical = [c for c in covariates if known[c] == "categorical"
                   or c in CATEGORICAL_FIELDS]
    return CoxFrame(frame, data, covariates, programs, categorical, known, outcome,
                    n_missing)


def fit_study_cox(
    con: duckdb.DuckDBPyConnection,
    covariates,
    *,
    programs=(),
    exposure: Exposure = "current",
    participation: Participation = "any",
    strata: str | None = None,
    outcome: Outcome | None = None,
    selection: Selection | None = None,
    ties: Ties = "efron",
    reference: dict[str, str] | None = None,
    solver: Solver = "auto",
    se: Literal["robust", "model"] = DEFAULT_SE,
    model: Model = "cox",
) -> StudyCox:
    """Fit a Cox model of time to the outcome after release.

    Parameters
    ----------
    con : read-only connection to a study database.
    covariates : list of str
        Release fields, derived fields or imported covariates (see module docs).
    programs : list of str
        Programme ids; ``in_prison`` ones are baseline indicators, ``post_release`` and
        ``community`` ones time-varying (see :mod:`analysis.survival.exposures`).
    exposure : {"current", "ever"}
        Time-varying definition for post-release and community programmes.
    participation : {"any", "completed"}
        Which participation counts for in-prison programmes.
    strata : str, optional
        A categorical field with a separate baseline hazard per level.
    outcome : Outcome, optional
        Event types that count (default: every type present).
    selection : Selection, optional
        Which releases (default: all).
    ties : {"efron", "breslow"}
    reference : dict, optional
        Reference level per categorical covariate.
    solver : {"auto", "phreg", "newton"}
        See :class:`analysis.survival.cox.CoxModel`.
    se : {"robust", "model"}
        Which standard error gives the intervals and p-values: ``robust`` (default),
        clustered by person as R ``coxph(cluster=person_id)``, or ``model`` as R
        ``coxph``. Both are reported either way.
    """
    if se not in SE_CHOICES:
        raise AnalysisError(f"se must be one of {', '.join(SE_CHOICES)}, not {se!r}")
    rows = cox_frame(con, covariates, programs, exposure=exposure,
                     participation=participation, strata=strata, outcome=outcome,
                     selection=selection)
    covariates, programs, frame, data = rows.covariates, rows.programs, rows.frame, rows.data
    categorical, outcome = rows.categorical, rows.outcome
    if model == "finegray":
        return _fit_fine_gray(rows, ties=ties, reference=reference, strata=strata)
    if model != "cox":
        raise AnalysisError(f"model must be one of {', '.join(MODELS)}, not {model!r}")
    fitted = CoxModel(ties=ties, solver=solver, robust=se == "robust").fit(
        frame, data.duration_col, data.event_col, covariates + programs,
        categorical=categorical, reference=reference, strata=strata,
        entry_col=data.entry_col, cluster_col=CLUSTER,
    )
    return StudyCox(
        model=fitted,
        ph_test=fitted.ph_test(),
        n_releases=int(frame["release_id"].nunique()),
        n_missing=rows.n_missing,
        outcome=outcome,
        time_varying_programs=data.time_varying_programs,
        baseline_programs=data.baseline_programs,
        dropped_zero_time=data.dropped_zero_time,
    )


def _fit_fine_gray(rows: CoxFrame, *, ties: Ties, reference: dict[str, str] | None,
                   strata: str | None) -> StudyCox:
    """The Fine–Gray model of the same rows: subdistribution hazard ratios, with death,
    deportation and emigration (episode cause 2) as competing ends, robust SEs by person
    (R ``finegray`` + ``coxph(weights = fgwt, cluster = person_id)``)."""
    data, frame = rows.data, rows.frame
    if data.entry_col is not None or strata:
        raise AnalysisError(
            "the Fine–Gray model takes one row per release: no time-varying (post-release "
            "or community) programmes and no strata; use --model cox for those")
    # a release with no day of follow-up is at risk at no time (the Cox model leaves it
    # out too); the Fine–Gray rows need a positive time
    followed = frame[data.duration_col] > 0
    dropped = int((~followed).sum())
    frame = frame[followed]
    fine_gray = FineGrayModel(ties=ties).fit(
        frame, data.duration_col, "cause", rows.covariates + rows.programs, event=1,
        competing=[2], cluster_col=CLUSTER, categorical=rows.categorical,
        reference=reference)
    fitted = fine_gray.cox_
    assert fitted is not None  # fit() sets it or raises
    return StudyCox(
        model=fitted,
        # Schoenfeld residuals of the weighted rows are not a checked Fine–Gray test
        ph_test=pd.DataFrame(columns=["term", "chi2", "df", "p"]),
        n_releases=int(frame["release_id"].nunique()),
        n_missing=rows.n_missing,
        outcome=rows.outcome,
        time_varying_programs=data.time_varying_programs,
        baseline_programs=data.baseline_programs,
        dropped_zero_time=data.dropped_zero_time + dropped,
        kind="finegray",
    )

