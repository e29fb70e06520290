"""A study: one database, one outcome, one selection — and every analysis of them.

:class:`Study` is how the CLI, the notebooks and (soon) the dashboard's views ask for
an analysis. It holds what would otherwise travel as loose pieces from the user to the
SQL builder:

* the read-only connection (opened and closed by the study, or borrowed from a caller);
* the :class:`~analysis.survival.episodes.Outcome` (which events count) and the
  :class:`~analysis.survival.episodes.Selection` (which releases), fixed when the study
  is made, as a lifelines fitter or a statsmodels model is configured at construction:
  :meth:`Study.with_outcome` and :meth:`Study.with_selection` return a *new* study;
* the episode cache: from the second analysis of an outcome on, its episodes are read
  from a temporary table made once and shared by every method and breakdown (a single
  analysis takes the direct path, which is faster than making the table first);
* breakdowns, as :class:`~analysis.survival.grouping.Grouping` objects
  (:meth:`Study.grouping`); their SQL is taken apart only in ``analysis/survival``.

Each method returns a frozen result object (:mod:`analysis.results`,
:mod:`analysis.results_rates`, :mod:`analysis.results_models`,
:mod:`analysis.results_impact`) with tidy ``summary``/``table`` frames, ``as_dict(policy)``
(the ``desist`` command's ``--json`` contract) and a notebook view.

Examples
--------
>>> import tempfile, pathlib
>>> from analysis.demo.build import build_demo
>>> db = pathlib.Path(tempfile.mkdtemp()) / "demo.duckdb"
>>> _ = build_demo(db, releases=1000)
>>> with Study.open(db, outcome="rearrest") as study:
...     km = study.kaplan_meier(by="sex")
...     women = study.with_selection(sexes=("F",)).fixed_horizon_rates([365])
>>> km.event_types, list(km.summary["group"])
(('rearrest',), ['F', 'M'])
>>> women.rates["group"].tolist()
['all']
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

import duckdb
import pandas as pd

from analysis.constants import DEFAULT_HORIZONS, DEFAULT_MIN_CELL
from analysis.errors import AnalysisError
from analysis.results import CumulativeIncidenceAnalysis, KaplanMeierAnalysis
from analysis.results_models import CoxAnalysis
from analysis.results_rates import FixedHorizonAnalysis
from analysis.store import connect_readonly, resolve_db_path
from analysis.survival.competing_risks import cumulative_incidence_from_db
from analysis.survival.cox import Solver, Ties
from analysis.survival.cox_study import DEFAULT_SE, available_covariates, fit_study_cox
from analysis.survival.episodes import (
    EPISODE_COLUMNS,
    CachedEpisodes,
    Outcome,
    Selection,
    build_episodes,
    materialize_episodes,
)
from analysis.survival.exposures import Exposure, Participation
from analysis.survival.fixed_horizon import fixed_horizon_rates_from_db
from analysis.survival.grouping import Grouping, day_counts_by, resolve_grouping
from analysis.survival.kaplan_meier import kaplan_meier_from_db
from analysis.survival.logrank import LogRankResult

if TYPE_CHECKING:
    from analysis.planning.forecast import ForecastAnalysis
    from analysis.planning.hazard import MonthlyHazardAnalysis
    from analysis.planning.scenario import ScenarioAnalysis
    from analysis.results_impact import ImpactAnalysis
    from analysis.services.coverage import CoverageResult
    from analysis.services.follow_through import FollowThroughResult

#: What ``outcome=`` may be: an :class:`Outcome`, a name (``"rearrest"``), a
#: comma-separated list of event types, or ``None`` for every type present.
OutcomeLike = Outcome | str | Sequence[str] | None
_NAMED_OUTCOMES = ("any", "rearrest", "reconviction", "reincarceration")


def as_outcome(outcome: OutcomeLike) -> Outcome:
    """``outcome`` as an :class:`Outcome`.

    Examples
    --------
    >>> as_outcome("rearrest").event_types, as_outcome("rearrest,reconviction").name
    (('rearrest',), 'rearrest+reconviction')
    >>> as_outcome(None).event_types is None
    True
    """
    if isinstance(outcome, Outcome):
        return outcome
    if isinstance(outcome, str) and outcome.strip() in _NAMED_OUTCOMES:
        return Outcome.named(outcome.strip())
    return Outcome.from_types(None if outcome is None else
                              outcome if isinstance(outcome, str) else tuple(outcome))


class _Connection:
    """A connection shared by a study and the studies made from it, with their cache."""

    def __init__(self, con: duckdb.DuckDBPyConnection, owned: bool) -> None:
        self.con = con
        self.owned = owned
        self.closed = False
        #: resolved event types -> the episodes materialized for them
        self.episodes: dict[tuple[str, ...], CachedEpisodes] = {}
        #: resolved event types -> analyses run on them so far
        self.uses: dict[tuple[str, ...], int] = {}
        #: outcome -> its event types in this database (``Outcome()``: a DISTINCT scan)
        self.types: dict[Outcome, tuple[str, ...]] = {}

    def close(self) -> None:
        if self.owned and not self.closed:
            self.con.close()
        self.closed = True


class Study:
    """A study database with the outcome and selection every analysis of it uses.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        An open connection to a study database. It is *borrowed*: :meth:`close` does
        not close it (open a study with :func:`open_study` or :meth:`Study.open` to
        have the study own its connection).
    outcome : Outcome or str, optional
        Which events count (default: every event type present); a name such as
        ``"rearrest"`` or a comma-separated list of event types is accepted.
    selection : Selection, optional
        Which releases (default: all).

    Examples
    --------
    >>> import duckdb
    >>> from analysis.store.schema import migrate
    >>> con = duckdb.connect(); _ = migrate(con)
    >>> study = Study(con, outcome="reconviction")
    >>> study.outcome.event_types, study.selection.is_empty
    (('reconviction',), True)
    >>> study.close(); con.execute("SELECT 1").fetchone()  # a borrowed connection stays open
    (1,)
    """

    __slots__ = ("_shared", "outcome", "selection")
    _shared: _Connection
    outcome: Outcome
    selection: Selection

    def __init__(self, con: duckdb.DuckDBPyConnection, *, outcome: OutcomeLike = None,
                 selection: Selection | None = None) -> None:
        self._init(_Connection(con, owned=False), as_outcome(outcome),
                   selection or Selection())

    def _init(self, shared: _Connection, outcome: Outcome, selection: Selection) -> None:
        object.__setattr__(self, "_shared", shared)
        object.__setattr__(self, "outcome", outcome)
        object.__setattr__(self, "selection", selection)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"a Study is immutable: use with_outcome() or with_selection() "
                             f"instead of setting {name!r}")

    @classmethod
    def open(cls, db: str | os.PathLike[str] | None = None, *, outcome: OutcomeLike = None,
             selection: Selection | None = None) -> Study:
        """Open a study database read-only: ``db``, else ``$DESIST_DB``, else the demo.

        The study owns the connection: :meth:`close` (or leaving a ``with`` block)
        closes it.
        """
        con = connect_readonly(resolve_db_path(db))
        try:  # DuckDB's progress bar would mix with a command's output
            con.execute("SET enable_progress_bar = false")
        except duckdb.InvalidInputException:
            # In a Jupyter kernel DuckDB refuses to touch the setting unless ipywidgets
            # (its notebook progress bar) is installed; there it never draws on stdout.
            pass
        study = cls.__new__(cls)
        study._init(_Connection(con, owned=True), as_outcome(outcome),
                    selection or Selection())
        return study

    def _derived(self, outcome: Outcome, selection: Selection) -> Study:
        study = type(self).__new__(type(self))
        study._init(self._shared, outcome, selection)
        return study

    # --- configuration -------------------------------------------------------------

    def with_outcome(self, outcome: OutcomeLike) -> Study:
        """The same study with another outcome (the connection and cache are shared)."""
        return self._derived(as_outcome(outcome), self.selection)

    def with_selection(self, selection: Selection | None = None, **fields: Any) -> Study:
        """The same study with another selection, or this one with ``fields`` changed.

        ``study.with_selection(sexes=("F",))`` keeps the rest of the current selection.
        """
        chosen = selection if selection is not None else self.selection
        return self._derived(self.outcome, replace(chosen, **fields) if fields else chosen)

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The read-only connection (for the lower-level functions that take one)."""
        if self._shared.closed:
            raise AnalysisError("this study is closed: open it again with ds.open_study()")
        return self._shared.con

    def close(self) -> None:
        """Close the connection if the study opened it (a borrowed one stays open)."""
        self._shared.close()

    def __enter__(self) -> Study:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        chosen = "all releases" if self.selection.is_empty else repr(self.selection)
        return f"<Study outcome={self.outcome.name!r}, {chosen}>"

    # --- building blocks -----------------------------------------------------------

    def grouping(self, by: str | Grouping | None) -> Grouping:
        """The breakdown ``by`` checked against the database (see
        :func:`~analysis.survival.grouping.resolve_grouping`)."""
        return resolve_grouping(self.connection, by)

    def cached_episodes(self) -> CachedEpisodes:
        """The outcome's episodes in a temporary table, made on first call and reused.

        Every analysis of the study reads them from there once they exist; without this
        call, they are made when a second analysis of the same outcome is asked for.
        """
        types = self._event_types()
        cached = self._shared.episodes.get(types)
        if cached is None:
            cached = materialize_episodes(self.connection, self.outcome)
            self._shared.episodes[types] = cached
        return cached

    def _event_types(self) -> tuple[str, ...]:
        types = self._shared.types.get(self.outcome)
        if types is None:
            types = self._shared.types[self.outcome] = self.outcome.resolve(self.connection)
        return types

    def _episodes_source(self) -> CachedEpisodes | None:
        """The cached episodes for an analysis, or ``None`` for the direct path (first one)."""
        types = self._event_types()
        self._shared.uses[types] = uses = self._shared.uses.get(types, 0) + 1
        if types in self._shared.episodes or uses > 1:
            return self.cached_episodes()
        return None

    def episodes(self, columns: Iterable[str] = (),
                 base_columns: tuple[str, ...] = EPISODE_COLUMNS,
                 categories: Iterable[str] = ()) -> pd.DataFrame:
        """One row per selected release: ``time``, ``event``, ``cause``... (those of
        ``base_columns``) and ``columns``, ``categories`` of them as pandas Categoricals
        (see :func:`~analysis.survival.episodes.build_episodes`)."""
        return build_episodes(self.connection, self.outcome, self.selection,
                              columns=list(columns), base_columns=base_columns,
                              categories=categories)

    def day_counts(self, by: str | Grouping | None = None) -> pd.DataFrame:
        """Per-day counts by a breakdown: ``group, time, n_event, n_competing, n_censored``
        (what the estimators and the dashboard's tables are computed from)."""
        table, _ = day_counts_by(self.connection, self.grouping(by), self.outcome,
                                 self.selection, self._episodes_source())
        return table

    def covariates(self) -> dict[str, str]:
        """Every field usable in models and breakdowns: name -> numeric/categorical."""
        return available_covariates(self.connection)

    # --- analyses ------------------------------------------------------------------

    def kaplan_meier(self, by: str | Grouping | None = None, *, conf_level: float = 0.95,
                     min_group_size: int = DEFAULT_MIN_CELL,
                     fh: tuple[float, float] = (0.0, 0.0)) -> KaplanMeierAnalysis:
        """Kaplan–Meier curves per group and a log-rank test between the groups.

        Parameters
        ----------
        by : str or Grouping, optional
            Breakdown: a release field, a covariate or ``program:ID``.
        conf_level : float
            Level of the pointwise CIs (log-log scale, as R).
        min_group_size : int
            Groups with fewer releases are refused (the minimum cell size k).
        fh : tuple of float
            Fleming–Harrington ``(p, q)`` of the test; ``(0, 0)`` is the log-rank.

        Returns
        -------
        KaplanMeierAnalysis
        """
        grouping = self.grouping(by)
        fitted = kaplan_meier_from_db(self.connection, grouping, self.outcome, self.selection,
                                      conf_level=conf_level, min_group_size=min_group_size,
                                      fh=fh, cached=self._episodes_source())
        return KaplanMeierAnalysis(fitted.result, fitted.day_table, fitted.event_types,
                                   grouping, fitted.logrank, self.outcome, self.selection)

    def cumulative_incidence(self, by: str | Grouping | None = None, *,
                             by_reason: bool = False, conf_level: float = 0.95,
                             min_group_size: int = DEFAULT_MIN_CELL
                             ) -> CumulativeIncidenceAnalysis:
        """Cumulative incidence (Aalen–Johansen) of reoffending and the competing ends.

        Parameters
        ----------
        by : str or Grouping, optional
            Breakdown.
        by_reason : bool
            Split the competing end by reason (death, deportation, emigration).
        conf_level : float
            Level of the CIs (log scale, as R).
        min_group_size : int
            Groups with fewer releases are refused.

        Returns
        -------
        CumulativeIncidenceAnalysis
        """
        grouping = self.grouping(by)
        result, types = cumulative_incidence_from_db(
            self.connection, grouping, self.outcome, self.selection, by_reason=by_reason,
            conf_level=conf_level, min_group_size=min_group_size,
            cached=self._episodes_source())
        return CumulativeIncidenceAnalysis(result, types, grouping, self.outcome,
                                           self.selection)

    def fixed_horizon_rates(self, horizons: Iterable[int] = DEFAULT_HORIZONS,
                            by: str | Grouping | None = None, *, conf_level: float = 0.95
                            ) -> FixedHorizonAnalysis:
        """"% reoffending within N days" among releases with complete follow-up.

        Parameters
        ----------
        horizons : iterable of int
            Days after release.
        by : str or Grouping, optional
            Breakdown.
        conf_level : float
            Level of the exact (Clopper–Pearson) CIs.

        Returns
        -------
        FixedHorizonAnalysis
        """
        grouping = self.grouping(by)
        rates = fixed_horizon_rates_from_db(self.connection, list(horizons), self.outcome,
                                            self.selection, grouping, conf_level,
                                            cached=self._episodes_source())
        return FixedHorizonAnalysis(rates, grouping, self.outcome, self.selection)

    def forecast(self, *, as_of: dt.date | None = None, months: Iterable[int] = (3, 6, 12),
                 by: str | Grouping | None = None, backtest: bool = True,
                 level: float = 0.90, window_years: int | None = 3,
                 seed: int = 2026) -> ForecastAnalysis:
        """Expected people with a first outcome event in the next months, and a backtest
        (:mod:`analysis.planning.forecast`; the method is in ``docs/planning.md``).

        Parameters
        ----------
        as_of : datetime.date, optional
            The last day whose records are used (default: the data's last day). People
            released after it are not at risk; events after it are never used.
        months : iterable of int
            Horizons, in calendar months after ``as_of``.
        by : str or Grouping, optional
            ``release_region``, ``facility``, ``sex``, ``age_band``, ``offense_category``
            or ``release_type``.
        backtest : bool
            Also make the same forecast ``max(months)`` months earlier and compare it
            with what happened.
        level : float
            Of the prediction intervals.
        window_years : int or None
            Fit the curves on the time at risk of the last so many years (``None``: all
            of it).
        seed : int
            Of the bootstrap and chance draws (the same seed gives the same intervals).

        Returns
        -------
        ForecastAnalysis
        """
        from analysis.planning.backtest import backtest_as_of, backtest_from_db
        from analysis.planning.forecast import (
            ForecastAnalysis,
            add_months,
            check_months,
            forecast_inputs,
            resolve_as_of,
        )
        from analysis.planning.prediction import predict

        chosen = check_months(months)
        grouping = self.grouping(by)
        as_of = resolve_as_of(self.connection, as_of)
        horizons = {m: (add_months(as_of, m) - as_of).days for m in chosen}
        until = as_of + dt.timedelta(days=max(horizons.values()))
        cached = self._episodes_source()
        inputs, types = forecast_inputs(self.connection, grouping, self.outcome,
                                        self.selection, as_of, until=until,
                                        window_years=window_years, cached=cached)
        groups, table, hazard_level = predict(inputs, horizons, pooled=grouping.spec is None,
                                              level=level, seed=seed)
        total = None
        if grouping.spec is not None:
            # everyone together from the same counts: the forecast without a breakdown
            everyone, pooled_table, _ = predict(inputs, horizons, pooled=True, level=level,
                                                seed=seed)
            total = everyone.merge(pooled_table, on="group")
        tested = None
        past = backtest_as_of(self.connection, as_of, chosen) if backtest else None
        if past is not None:
            tested = backtest_from_db(self.connection, grouping, self.outcome,
                                      self.selection, past, chosen,
                                      cached=self._episodes_source(), level=level,
                                      window_years=window_years, seed=seed)
        return ForecastAnalysis(as_of, types, chosen, grouping, groups, table, level, tested,
                                hazard_level, total)

    def logrank(self, by: str | Grouping, *, p: float = 0.0, q: float = 0.0,
                min_group_size: int = DEFAULT_MIN_CELL) -> LogRankResult:
        """Log-rank (or Fleming–Harrington G(p, q)) test between the groups of ``by``.

        Parameters
        ----------
        by : str or Grouping
            Breakdown with at least two groups.
        p, q : float
            Fleming–Harrington weights; ``0, 0`` is the log-rank test.
        min_group_size : int
            Groups with fewer releases are refused.

        Returns
        -------
        LogRankResult
        """
        fitted = self.kaplan_meier(by, min_group_size=min_group_size, fh=(p, q))
        if fitted.logrank is None:
            raise AnalysisError(f"a log-rank test needs at least two groups; by "
                                f"{fitted.grouping.label} there is one")
        return fitted.logrank

    def monthly_hazard(self, by: str | Grouping | None = None, *, months: int = 24,
                       conf_level: float = 0.95, min_group_size: int = DEFAULT_MIN_CELL
                       ) -> MonthlyHazardAnalysis:
        """The monthly hazard of reoffending after release (life table) per group, and
        the share of first-year reoffences within 1, 3 and 6 months
        (:mod:`analysis.planning.hazard`; defined in ``docs/planning.md``).

        Parameters
        ----------
        by : str or Grouping, optional
            Breakdown.
        months : int
            Months since release in the table (1 to 120).
        conf_level : float
            Level of the Wilson score intervals.
        min_group_size : int
            Groups with fewer releases are refused (the minimum cell size k).

        Returns
        -------
        MonthlyHazardAnalysis
        """
        from analysis.planning.hazard import monthly_hazard_from_db

        return monthly_hazard_from_db(self.connection, self.grouping(by), self.outcome,
                                      self.selection, months=months, conf_level=conf_level,
                                      min_group_size=min_group_size,
                                      cached=self._episodes_source())

    def cox(self, covariates: Iterable[str] = (), programs: Iterable[str] = (), *,
            exposure: Exposure = "current", participation: Participation = "any",
            strata: str | None = None, ties: Ties = "efron",
            se: Literal["robust", "model"] = DEFAULT_SE,
            reference: dict[str, str] | None = None, solver: Solver = "auto",
            model: Literal["cox", "finegray"] = "cox") -> CoxAnalysis:
        """A Cox model of time to the outcome, programmes as baseline or time-varying
        exposures (see :func:`~analysis.survival.cox_study.fit_study_cox`).

        Parameters
        ----------
        covariates : iterable of str
            Release fields, derived fields or imported covariates.
        programs : iterable of str
            Programme ids.
        exposure : {"current", "ever"}
            Post-release and community programmes: exposed while in it, or from then on.
        participation : {"any", "completed"}
            In-prison programmes: which participation counts.
        strata : str, optional
            A categorical field with its own baseline hazard.
        ties : {"efron", "breslow"}
        se : {"robust", "model"}
            The standard error behind the CIs and p-values.
        reference : dict, optional
            Reference level per categorical covariate.
        solver : {"auto", "phreg", "newton"}
        model : {"cox", "finegray"}
            ``cox``: cause-specific hazard ratios; ``finegray``: subdistribution hazard
            ratios of the Fine–Gray model, death, deportation and emigration competing
            (one row per release: no time-varying programmes, no strata).

        Returns
        -------
        CoxAnalysis
        """
        fitted = fit_study_cox(self.connection, list(covariates), programs=list(programs),
                               exposure=exposure, participation=participation, strata=strata,
                               outcome=self.outcome, selection=self.selection, ties=ties,
                               reference=reference, solver=solver, se=se, model=model)
        return CoxAnalysis(fitted, self.selection)

    def impact(self, program: str | None = None, project: str | None = None, *,
               horizon_days: int = 365, method: str = "match",
               variant: Participation = "any",
               **options: Any) -> ImpactAnalysis:
        """A programme's (or project's) participants against similar non-participants
        (:class:`~analysis.impact.evaluation.ImpactEvaluation`).

        Parameters
        ----------
        program, project : str, optional
            One programme id, or a project/funder (all its programmes).
        horizon_days : int
            Follow-up horizon of the headline rate.
        method : {"match", "iptw"}
            Matching (primary) or inverse-probability weighting (sensitivity).
        landmark_days : int
            Landmark for post-release programmes.
        variant : {"any", "completed"}
            Which participation counts (``completed``: completers only).
        **options
            ``landmark_days`` (post-release programmes), ``covariates`` (of the
            propensity score), ``caliper_sd``, ``seed``: as for
            :class:`~analysis.impact.evaluation.ImpactEvaluation`.

        Returns
        -------
        ImpactAnalysis
        """
        # the matching machinery (statsmodels, scipy's assignment) only when asked for
        from analysis.impact.evaluation import ImpactEvaluation
        from analysis.results_impact import ImpactAnalysis

        evaluated = ImpactEvaluation(
            program=program, project=project, horizon_days=horizon_days, method=method,
            outcome=self.outcome, selection=self.selection, variant=variant, **options,
        ).fit(self.connection)
        return ImpactAnalysis(evaluated, self.selection, variant)

    def scenario(self, program: str, participants: int, years: int, *,
                 custody_cost_per_day: float | None = None,
                 mean_custody_days: float | None = None, draws: int = 10_000,
                 seed: int = 2026, **impact_options: Any) -> ScenarioAnalysis:
        """What ``participants`` more participants a year in ``program``, for ``years``
        years, would change: reoffences and returns to custody avoided, prison-bed-years
        saved, net cost, the probability that benefits exceed costs and the break-even
        year (:func:`~analysis.planning.scenario.scale_up_scenario`; Monte Carlo over the
        uncertainty of the programme's evaluated effects).

        Parameters
        ----------
        program : str
            A programme id; its cost per participant comes from the ``programs`` table.
        participants, years : int
            More participants per year, and for how many years.
        custody_cost_per_day : float, optional
            What a day in custody costs (the programme's currency); without it the money
            figures are null.
        mean_custody_days : float, optional
            Mean time in custody after a return; default: observed in the records.
        draws, seed : int
            Monte Carlo draws and their seed.
        **impact_options
            ``horizon_days``, ``method``, ``landmark_days``...: as for :meth:`impact`.

        Returns
        -------
        ScenarioAnalysis
        """
        from analysis.planning.scenario import scale_up_scenario  # the impact stack: lazily

        return scale_up_scenario(self, program, participants, years,
                                 custody_cost_per_day=custody_cost_per_day,
                                 mean_custody_days=mean_custody_days, draws=draws, seed=seed,
                                 **impact_options)

    def services_coverage(self, *, as_of: dt.date | None = None) -> CoverageResult:
        """For each release region: releases in the 12 months to ``as_of``, upcoming
        releases, need proxies, the services offered and the gaps
        (:func:`~analysis.services.coverage.services_coverage`; ``docs/services.md``).

        Parameters
        ----------
        as_of : datetime.date, optional
            The day described (default: the data's last day).

        Returns
        -------
        CoverageResult
            Frozen; ``summary()`` is a tidy table, ``as_dict(policy)`` the
            ``desist services coverage --json`` output.

        Examples
        --------
        >>> import duckdb
        >>> from analysis.store.schema import migrate
        >>> from analysis.survival.follow_up import prepare_for_analysis
        >>> con = duckdb.connect(); _ = migrate(con)
        >>> _ = con.execute("INSERT INTO releases (release_id, person_id, release_date,"
        ...     " facility, follow_up_end, release_region, sex, batch_id) VALUES"
        ...     " ('r1', 'p1', DATE '2024-03-01', 'A', DATE '2024-12-31', 'North', 'F', 'b')")
        >>> _ = con.execute("INSERT INTO providers VALUES ('P1', 'Open Door', 'ngo', ['all'],"
        ...     " NULL, NULL, NULL, NULL, 'b')")
        >>> _ = con.execute("INSERT INTO services VALUES ('S1', 'P1', 'housing', NULL,"
        ...     " ['all'], 'men', NULL, 40, NULL, NULL, 'b')")
        >>> _ = prepare_for_analysis(con)
        >>> north = Study(con).services_coverage().regions[0]
        >>> north.releases_12m, north.services[0].capacity
        (1, 40)
        >>> [g.reason for g in north.gaps if g.service_type == "housing"]
        ['none_for_women']
        """
        from analysis.services.coverage import services_coverage

        return services_coverage(self.connection, as_of=as_of, selection=self.selection)

    def referral_follow_through(self, by: Sequence[str] = ("service_type", "release_region"),
                                *, compare: bool = True, exposure: str = "service:any",
                                **impact_options: Any) -> FollowThroughResult:
        """Referred -> reached -> completed per group, days from release to first contact,
        and (``compare``) the reoffending of people who reached a service against those
        who had not yet at a landmark day (:meth:`impact` of ``exposure``).

        Parameters
        ----------
        by : sequence of str
            ``service_type`` and release fields
            (:data:`analysis.services.follow_through.BY_FIELDS`).
        compare : bool
            Also run the landmark comparison; when it cannot be made, its
            ``comparison.reason`` says why.
        exposure : str
            ``service:any`` or ``service:<service_type>``.
        **impact_options
            ``horizon_days``, ``landmark_days``, ``method``...: as for :meth:`impact`.

        Returns
        -------
        FollowThroughResult
            Frozen; ``rows`` per group, ``total``, ``comparison``, ``as_dict(policy)``
            (the ``desist services referrals --json`` output).

        Examples
        --------
        >>> import duckdb
        >>> from analysis.store.schema import migrate
        >>> from analysis.survival.follow_up import prepare_for_analysis
        >>> con = duckdb.connect(); _ = migrate(con)
        >>> _ = con.execute("INSERT INTO releases (release_id, person_id, release_date,"
        ...     " facility, follow_up_end, release_region, batch_id) VALUES"
        ...     " ('r1', 'p1', DATE '2024-03-01', 'A', DATE '2024-12-31', 'North', 'b')")
        >>> _ = con.execute("INSERT INTO providers VALUES ('P1', 'Open Door', 'ngo', ['all'],"
        ...     " NULL, NULL, NULL, NULL, 'b')")
        >>> _ = con.execute("INSERT INTO services VALUES ('S1', 'P1', 'housing', NULL,"
        ...     " ['all'], 'both', NULL, 40, NULL, NULL, 'b')")
        >>> _ = con.execute("INSERT INTO referrals VALUES ('p1', 'S1', DATE '2024-03-05',"
        ...     " 'completed', NULL, DATE '2024-03-12', 'b')")
        >>> _ = prepare_for_analysis(con)
        >>> result = Study(con).referral_follow_through(compare=False)
        >>> result.rows[["service_type", "region", "referred", "completed",
        ...              "median_days_to_contact"]].to_dict("records")
        [{'service_type': 'housing', 'region': 'North', 'referred': 1, 'completed': 1, 'median_days_to_contact': 11.0}]
        """
        from dataclasses import replace as with_field

        from analysis.services.follow_through import ServiceComparison, referral_follow_through
        from analysis.survival.service_exposure import contact_days

        result = referral_follow_through(self.connection, by=by, selection=self.selection)
        if not compare:
            return result
        reached, undated = contact_days(self.connection, exposure)
        try:
            impact, reason = self.impact(exposure, **impact_options), None
        except AnalysisError as exc:
            impact, reason = None, str(exc)
        return with_field(result, comparison=ServiceComparison(exposure, impact, reason,
                                                               reached, undated))



def open_study(db: str | os.PathLike[str] | None = None, *, outcome: OutcomeLike = None,
               selection: Selection | None = None) -> Study:
    """Open a study database read-only: ``db``, else ``$DESIST_DB``, else ``data/demo.duckdb``.

    Parameters
    ----------
    db : path, optional
        The study database.
    outcome : Outcome or str, optional
        Which events count (default: every type present).
    selection : Selection, optional
        Which releases (default: all).

    Returns
    -------
    Study
        It owns its connection: close it, or use it in a ``with`` block.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from analysis.demo.build import build_demo
    >>> db = pathlib.Path(tempfile.mkdtemp()) / "demo.duckdb"
    >>> _ = build_demo(db, releases=1000)
    >>> with open_study(db, outcome="rearrest") as study:
    ...     print(study.connection.execute("SELECT count(*) FROM releases").fetchone()[0])
    1000
    """
    return Study.open(db, outcome=outcome, selection=selection)
