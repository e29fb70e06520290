"""The public API's functions that take a study: each one is a :class:`~analysis.study.Study`
method, also callable the older way with a connection and an outcome.

``ds.kaplan_meier(study, by="sex")`` is ``study.kaplan_meier(by="sex")``; given a DuckDB
connection instead (``ds.kaplan_meier(con, by="sex", outcome=...)``), it borrows the
connection for a study of that outcome and selection, and leaves it open. With a study,
``outcome`` and ``selection`` replace the study's own for that call.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import duckdb
import pandas as pd

from analysis.constants import DEFAULT_HORIZONS
from analysis.results import CumulativeIncidenceAnalysis, KaplanMeierAnalysis
from analysis.results_models import CoxAnalysis
from analysis.study import OutcomeLike, Study, open_study
from analysis.survival.episodes import Selection
from analysis.survival.grouping import Grouping

__all__ = ["cumulative_incidence", "fit_cox", "fixed_horizon_rates", "kaplan_meier",
           "open_study", "study_of"]

StudyLike = Study | duckdb.DuckDBPyConnection


def study_of(source: StudyLike, outcome: OutcomeLike = None,
             selection: Selection | None = None) -> Study:
    """``source`` as a study, with ``outcome`` and ``selection`` when given.

    Parameters
    ----------
    source : Study or duckdb.DuckDBPyConnection
        A study, or a connection to borrow (it is not closed).
    outcome : Outcome or str, optional
        Replaces the study's outcome.
    selection : Selection, optional
        Replaces the study's selection.

    Returns
    -------
    Study

    Examples
    --------
    >>> import duckdb
    >>> from analysis.store.schema import migrate
    >>> con = duckdb.connect(); _ = migrate(con)
    >>> study_of(con, "rearrest").outcome.name
    'rearrest'
    """
    if not isinstance(source, Study):
        return Study(source, outcome=outcome, selection=selection)
    study = source
    if outcome is not None:
        study = study.with_outcome(outcome)
    if selection is not None:
        study = study.with_selection(selection)
    return study


def kaplan_meier(source: StudyLike, by: str | Grouping | None = None,
                 outcome: OutcomeLike = None, selection: Selection | None = None,
                 **options: Any) -> KaplanMeierAnalysis:
    """Kaplan–Meier curves per group and a log-rank test: :meth:`Study.kaplan_meier`.

    Parameters
    ----------
    source : Study or duckdb.DuckDBPyConnection
        The study (or a connection to one).
    by : str or Grouping, optional
        Breakdown: a release field, a covariate or ``program:ID``.
    outcome, selection : optional
        Replace the study's (see :func:`study_of`).
    **options
        ``conf_level``, ``min_group_size``, ``fh``: as for :meth:`Study.kaplan_meier`.

    Returns
    -------
    KaplanMeierAnalysis
        ``.result`` (``table``, ``summary``, ``at()``), ``.logrank``, ``.as_dict(policy)``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from analysis.demo.build import build_demo
    >>> db = pathlib.Path(tempfile.mkdtemp()) / "demo.duckdb"
    >>> _ = build_demo(db, releases=1000)
    >>> with open_study(db) as study:
    ...     km = kaplan_meier(study, by="sex", outcome="rearrest")
    >>> km.result.at([365])["group"].tolist()
    ['F', 'M']
    """
    return study_of(source, outcome, selection).kaplan_meier(by, **options)


def cumulative_incidence(source: StudyLike, by: str | Grouping | None = None,
                         outcome: OutcomeLike = None, selection: Selection | None = None,
                         **options: Any) -> CumulativeIncidenceAnalysis:
    """Cumulative incidence with competing risks: :meth:`Study.cumulative_incidence`.

    Parameters
    ----------
    source : Study or duckdb.DuckDBPyConnection
    by : str or Grouping, optional
        Breakdown.
    outcome, selection : optional
        Replace the study's (see :func:`study_of`).
    **options
        ``by_reason``, ``conf_level``, ``min_group_size``.

    Returns
    -------
    CumulativeIncidenceAnalysis
        ``.table``, ``.summary``, ``.causes``, ``.event_types``, ``.at()``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from analysis.demo.build import build_demo
    >>> db = pathlib.Path(tempfile.mkdtemp()) / "demo.duckdb"
    >>> _ = build_demo(db, releases=1000)
    >>> with open_study(db) as study:
    ...     cif = cumulative_incidence(study, by_reason=True)
    >>> cif.causes[0]
    'reoffence'
    """
    return study_of(source, outcome, selection).cumulative_incidence(by, **options)


def fixed_horizon_rates(source: StudyLike, horizons: Iterable[int] = DEFAULT_HORIZONS,
                        by: str | Grouping | None = None, outcome: OutcomeLike = None,
                        selection: Selection | None = None) -> pd.DataFrame:
    """The classic "% reoffending within N days" among releases with complete follow-up.

    Show them beside the Kaplan–Meier values, which also use incomplete follow-up.
    :meth:`Study.fixed_horizon_rates` gives the same numbers as a result object.

    Parameters
    ----------
    source : Study or duckdb.DuckDBPyConnection
    horizons : iterable of int
        Days after release.
    by : str or Grouping, optional
        Breakdown.
    outcome, selection : optional
        Replace the study's (see :func:`study_of`).

    Returns
    -------
    DataFrame
        ``group, days, n, events, excluded, rate, lower, upper`` (exact binomial CI).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from analysis.demo.build import build_demo
    >>> db = pathlib.Path(tempfile.mkdtemp()) / "demo.duckdb"
    >>> _ = build_demo(db, releases=1000)
    >>> with open_study(db) as study:
    ...     rates = fixed_horizon_rates(study, [365, 730])
    >>> rates["days"].tolist()
    [365, 730]
    """
    return study_of(source, outcome, selection).fixed_horizon_rates(horizons, by).rates


def fit_cox(source: StudyLike, covariates: Iterable[str] = (), *,
            outcome: OutcomeLike = None, selection: Selection | None = None,
            **options: Any) -> CoxAnalysis:
    """A Cox model of a study: :meth:`Study.cox`.

    Parameters
    ----------
    source : Study or duckdb.DuckDBPyConnection
    covariates : iterable of str
        Release fields, derived fields or imported covariates.
    outcome, selection : optional
        Replace the study's (see :func:`study_of`).
    **options
        ``programs``, ``exposure``, ``participation``, ``strata``, ``ties``, ``se``,
        ``reference``, ``solver``: as for :meth:`Study.cox`.

    Returns
    -------
    CoxAnalysis
        ``.model``, ``.summary``, ``.ph_test``, ``.as_dict(policy)``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from analysis.demo.build import build_demo
    >>> db = pathlib.Path(tempfile.mkdtemp()) / "demo.duckdb"
    >>> _ = build_demo(db, releases=1000)
    >>> with open_study(db) as study:
    ...     cox = fit_cox(study, ["age_at_release"], se="model")
    >>> cox.se_type, cox.summary["term"].tolist()
    ('model', ['age_at_release'])
    """
    return study_of(source, outcome, selection).cox(covariates, **options)
