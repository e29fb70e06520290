"""Programme impact: participants against similar people who did not take part.

:class:`ImpactEvaluation` is configured in its constructor and run with
``fit(con)``; the result is an immutable :class:`ImpactResult` whose
``as_dict()`` is the JSON contract of ``desist impact``.

Method (documented for donors in ``docs/impact.md``):

1. :func:`~analysis.impact.cohort.build_cohort` chooses participants and the
   available comparison releases (landmark for post-release programmes).
2. A logistic propensity score on the baseline covariates; **primary method**
   one-to-one nearest-neighbour matching on its logit within a 0.2-SD caliper;
   **sensitivity method** inverse-probability weighting for the effect on the
   treated (ATT weights 1 and e/(1−e)).
3. Kaplan–Meier recidivism at the horizon per group (weighted for ATT), the
   difference with a normal-approximation CI, the restricted mean time free of
   reoffending, the frequency of reoffending per 100 people with complete
   follow-up, and a covariate-adjusted Cox hazard ratio (in the matched sample,
   robust SEs clustered by matched pair; with weighting, in the whole eligible
   sample, robust SEs clustered by person). Its CI and p use the robust SE; the
   model-based one is reported beside it (:class:`HazardRatio`).
4. The Justice Data Lab rules (:mod:`analysis.impact.rules`) decide what may be
   reported and called significant; the plain-words text is generated from the numbers.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import duckdb
import numpy as np
import pandas as pd
from scipy.stats import norm

from analysis.arrow_memory import give_back_arrow_memory
from analysis.constants import DEFAULT_HORIZONS
from analysis.errors import AnalysisError, ModelNotConvergedError
from analysis.impact.adjustment import (
    Adjustment,
    CovariateRequest,
    adjustment_of,
    resolve_covariates,
)
from analysis.impact.balance import att_weights, balance_table
from analysis.impact.cohort import (
    ATTRITION_COLUMNS,
    DEFAULT_LANDMARK_DAYS,
    Cohort,
    attrition_frame,
    build_cohort,
    events_in_window,
    resolve_programmes,
)
from analysis.impact.cost import CostEffectiveness, cost_effectiveness
from analysis.impact.matching import DEFAULT_CALIPER_SD, MATCH_ORDERS, MatchOrder, match_nearest
from analysis.impact.propensity import PropensityScore
from analysis.impact.rules import Reason, Verdict, judge
from analysis.impact.wording import (
    IMBALANCED,
    attrition_table,
    impact_sentence,
    reason_text,
    verdict_reasons,
)
from analysis.survival.cox import CoxModel
from analysis.survival.episodes import Outcome, Selection
from analysis.survival.exposures import Participation
from analysis.survival.kaplan_meier import KaplanMeier
from analysis.survival.restricted_mean import restricted_mean

METHODS = ("match", "iptw")
PARTICIPANTS, COMPARISON = "participants", "comparison"


@dataclass(frozen=True)
class Estimate:
    estimate: float
    lower: float
    upper: float
    p: float | None = None

    def as_dict(self) -> dict:
        return {"estimate": self.estimate, "lower": self.lower, "upper": self.upper, "p": self.p}


@dataclass(frozen=True)
class HazardRatio(Estimate):
    """A Cox hazard ratio with both standard errors of its logarithm.

    ``lower``, ``upper`` and ``p`` use the ``se_type`` one: ``se_robust`` (clustered
    by ``se_robust_cluster``, as R ``coxph(cluster=)``) or ``se_model`` (as R ``coxph``).
    """

    se_type: str = "robust"
    se_model: float = math.nan
    se_robust: float = math.nan
    se_robust_cluster: str | None = None

    @classmethod
    def of_term(cls, model: CoxModel, term: str) -> HazardRatio:
        """The hazard ratio of ``term`` in a fitted model."""
        fit = model.fitted()
        row = fit.summary.set_index("term").loc[term]
        return cls(float(row["hr"]), float(row["hr_lower"]), float(row["hr_upper"]),
                   float(row["p"]), str(row["se_type"]), float(row["se_model"]),
                   float(row["se_robust"]), fit.cluster)

    def as_dict(self) -> dict:
        return {**super().as_dict(), "se_type": self.se_type, "se_model": self.se_model,
                "se_robust": self.se_robust, "se_robust_cluster": self.se_robust_cluster}


@dataclass(frozen=True)
class GroupOutcome:
    """One group's recidivism at the horizon (KM-based) and supporting counts."""

    n: int
    with_outcome: int  # followed up to the horizon, or reoffended before it
    reoffended: int  # observed outcome events by the horizon
    rate: float
    lower: float
    upper: float
    se: float
    rmst: float
    rmst_se: float

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class ImpactResult:
    program: str
    program_ids: tuple[str, ...]
    method: str
    horizon_days: int
    landmark_days: int | None
    event_types: tuple[str, ...]
    counts: dict[str, int]
    attrition: pd.DataFrame
    participants: GroupOutcome
    comparison: GroupOutcome
    difference: Estimate
    hazard_ratio: HazardRatio
    rmst_difference: Estimate
    frequency: dict
    later_horizons: pd.DataFrame
    naive: dict
    balance: pd.DataFrame
    overlap: pd.DataFrame
    curves: pd.DataFrame
    verdict: Verdict
    summary_text: str  # the headline in English (the JSON contract): see headline()
    cost: CostEffectiveness | None
    notes: tuple[Reason, ...] = field(default=())
    #: Counts hidden by disclosure control, by name in ``counts`` -> their label ("<10");
    #: set by :func:`analysis.impact.publication.for_publication`.
    hidden_labels: dict[str, str] = field(default_factory=dict)
    #: Which covariates were adjusted for, and which were left out and why.
    adjustment: Adjustment | None = None

    @property
    def significant(self) -> bool:
        return self.verdict.significant

    @property
    def reportable(self) -> bool:
        return self.verdict.reportable

    def headline(self, language: str = "en") -> str:
        """The plain-words headline in ``language``; a count hidden for publication stays
        hidden (in English it is :attr:`summary_text`)."""
        part, comp = self.participants, self.comparison
        return impact_sentence(
            participant_rate=part.rate, comparison_rate=comp.rate,
            difference_lower=self.difference.lower, difference_upper=self.difference.upper,
            horizon_days=self.horizon_days, verdict=self.verdict,
            participants_with_outcomes=self.hidden_labels.get(
                "participants_with_outcomes", part.with_outcome),
            language=language)

    def reasons(self, language: str = "en") -> list[str]:
        """Why the rules limit what is said, in ``language``."""
        return verdict_reasons(self.verdict, language)

    def note_texts(self, language: str = "en") -> list[str]:
        """The notes on who was compared, in ``language``."""
        return [reason_text(note, language) for note in self.notes]

    def _repr_html_(self) -> str:
        """Notebook display: the headline, the rates and the estimates."""
        import html

        rates = pd.DataFrame(
            {PARTICIPANTS: self.participants.as_dict(), COMPARISON: self.comparison.as_dict()}
        ).T[["n", "rate", "lower", "upper", "rmst"]]
        estimates = pd.DataFrame(
            {
                "difference in rate": self.difference.as_dict(),
                "hazard ratio": self.hazard_ratio.as_dict(),
                "difference in days free": self.rmst_difference.as_dict(),
            }
        ).T
        return (
            f"<h4>Impact of {html.escape(self.program)} ({self.method}, {self.horizon_days} days)</h4>"
            f"<p>{html.escape(self.headline())}</p>"
            + rates.to_html(float_format=lambda v: f"{v:.3f}")
            + estimates.to_html(float_format=lambda v: f"{v:.3g}")
        )

    def as_dict(self) -> dict:
        """The ``desist impact --json`` contract."""
        return {
            "program": self.program,
            "program_ids": list(self.program_ids),
            "method": self.method,
            "horizon_days": self.horizon_days,
            "landmark_days": self.landmark_days,
            "event_types": list(self.event_types),
            "counts": self.counts,
            "attrition": attrition_table(self.attrition).to_dict("records"),
            "participants": self.participants.as_dict(),
            "comparison": self.comparison.as_dict(),
            "difference": self.difference.as_dict(),
            "hazard_ratio": self.hazard_ratio.as_dict(),
            "rmst_difference_days": self.rmst_difference.as_dict(),
            "frequency_per_100": self.frequency,
            "later_horizons": self.later_horizons.to_dict("records"),
            "naive": self.naive,
            "significant": self.significant,
            "reportable": self.reportable,
            "rules": self.reasons(),
            "balance": self.balance[["covariate", "smd_before", "smd_after"]].to_dict("records"),
            "adjustment": self.adjustment.as_dict() if self.adjustment else None,
            "cost": self.cost.as_dict() if self.cost else None,
            "summary_text": self.summary_text,
            "notes": self.note_texts(),
        }


class ImpactEvaluation:
    """Matched (or weighted) comparison of a programme's participants with similar people.

    Parameters
    ----------
    program, project : str, optional
        One programme id, or a project/funder name (all its programmes together).
    horizon_days : int, optional
        Follow-up horizon of the headline rate, in days since release (since the
        landmark for post-release programmes); default 365. Below 1 is refused
        (:class:`~analysis.errors.AnalysisError`).
    method : {"match", "iptw"}, optional
        ``"match"`` (primary) or ``"iptw"`` (sensitivity); anything else is refused.
    outcome : Outcome, optional
        Which events count (default: every type present).
    selection : Selection, optional
        Which releases take part in the evaluation, participants and comparison alike
        (default ``None``: every release). :meth:`fit` refuses a selection with no
        releases, or with no participant of the programme.
    covariates : sequence of str, optional
        Baseline covariates for the propensity score, the balance table and the
        adjusted Cox model. Default ``None``: the default set, the standard fields
        (:data:`~analysis.impact.cohort.DEFAULT_COVARIATES`) plus every extra covariate
        of the dataset known for at least
        :data:`~analysis.impact.cohort.MIN_KNOWN_SHARE` of the releases compared
        (:mod:`analysis.impact.adjustment`). :meth:`fit` refuses a name the database
        does not have, listing those it has. The result's ``adjustment`` says which
        were used and which were left out, and why.
    landmark_days : int, optional
        Landmark for post-release programmes, in days since release (default 90):
        only releases still followed and free of reoffending after that day are
        compared, participants being those who started the programme before it. Not
        used for in-prison programmes.
    caliper_sd : float, optional
        Widest distance allowed between a participant and their comparison person, in
        standard deviations of the logit of the propensity score over all eligible
        releases (default 0.2, Austin 2011). Participants with no unused comparison
        person that close stay unmatched; when none is matched, :meth:`fit` refuses.
        Used by ``method="match"`` only.
    variant : {"any", "completed"}, optional
        ``"any"`` participation or ``"completed"`` only (in-prison programmes).
    seed : int, optional
        Seed of the random order in which participants are matched (greedy matching
        without replacement): the same seed gives the same pairs. Used by
        ``method="match"`` only; default 20240601.
    match_order : {"random", "largest", "smallest", "data"}, optional
        Order in which participants choose their comparison person: ``"random"``
        (seeded, the default) or as R MatchIt's ``m.order`` of the same name
        (``"largest"`` is MatchIt's default; :func:`~analysis.impact.matching.match_nearest`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from analysis.demo.build import build_demo
    >>> from analysis.store import connect_readonly
    >>> db = pathlib.Path(tempfile.mkdtemp()) / "demo.duckdb"
    >>> _ = build_demo(db, releases=4000, seed=3)
    >>> result = ImpactEvaluation(program="VOC-METAL").fit(connect_readonly(db))
    >>> result.method, result.counts["matched"] > 60, result.summary_text.startswith("For every 100")
    ('match', True, True)
    """

    def __init__(
        self,
        program: str | None = None,
        project: str | None = None,
        *,
        horizon_days: int = 365,
        method: str = "match",
        outcome: Outcome | None = None,
        selection: Selection | None = None,
        covariates: Sequence[str] | None = None,
        landmark_days: int = DEFAULT_LANDMARK_DAYS,
        caliper_sd: float = DEFAULT_CALIPER_SD,
        variant: Participation = "any",
        seed: int = 20240601,
        match_order: MatchOrder = "random",
    ):
        if method not in METHODS:
            raise AnalysisError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
        if horizon_days < 1:
            raise AnalysisError("the horizon must be at least one day")
        self.program, self.project = program, project
        self.horizon_days = int(horizon_days)
        self.method = method
        self.outcome = outcome or Outcome()
        self.selection = selection
        self.covariates = None if covariates is None else tuple(covariates)
        self.landmark_days = int(landmark_days)
        self.caliper_sd = caliper_sd
        self.variant = variant
        self.seed = seed
        if match_order not in MATCH_ORDERS:
            raise AnalysisError(f"match_order must be one of {', '.join(MATCH_ORDERS)}, "
                                f"not {match_order!r}")
        self.match_order = match_order

    def fit(self, con: duckdb.DuckDBPyConnection) -> ImpactResult:
        """Run the evaluation with this evaluation's method."""
        return self.prepare(con).result(self.method)

    def prepare(self, con: duckdb.DuckDBPyConnection) -> PreparedEvaluation:
        """The cohort and the propensity score, ready for either method.

        ``prepare(con).result("match")`` and ``.result("iptw")`` give what ``fit`` gives
        with each method, building the cohort and fitting the propensity model once.
        """
        request = resolve_covariates(con, self.covariates)
        programmes = resolve_programmes(con, self.program, self.project)
        cohort = build_cohort(
            con,
            programmes,
            outcome=self.outcome,
            selection=self.selection,
            covariates=request.requested,
            landmark_days=self.landmark_days,
            variant=self.variant,
            optional=request.optional,
            extras=request.extras,
            categorical=request.categorical,
        )
        return PreparedEvaluation(con, cohort, self, request)


class PreparedEvaluation:
    """One evaluation's cohort and propensity score, from which either method runs.

    Matching and weighting compare the same eligible releases with the same propensity
    model, and report the same naive comparison; building those is most of the work of
    an evaluation, so they are built once, here, with what each method takes from the
    propensity design (its matched pairs or weights and their balance: its
    :meth:`comparison`), after which the score is kept without its design
    (:meth:`~analysis.impact.propensity.PropensityScore.without_design`: on a national
    cohort the design is 1.5 GB, and the methods' models no longer run beside it). Each
    :meth:`result` then adds only what its method needs.

    Parameters
    ----------
    con
        Connection to the study database (event counts for the frequency of reoffending).
    cohort
        From :func:`~analysis.impact.cohort.build_cohort`.
    spec
        The evaluation's settings (its ``method`` is only the default of :meth:`result`).
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, cohort: Cohort, spec: ImpactEvaluation,
                 request: CovariateRequest | None = None):
        frame = cohort.frame
        treated = frame["treated"].to_numpy(dtype=bool)
        if treated.all() or not treated.any():
            raise AnalysisError(f"{cohort.programmes.label}: no comparison releases are available")
        categorical = list(cohort.categorical)
        self.con, self.cohort, self.spec = con, cohort, spec
        self.treated = treated
        self.categorical = categorical
        self.days = frame["time"].to_numpy()  # as stored, for the Cox models
        self.event_codes = frame["event"].to_numpy()
        self.time = self.days.astype(float)
        self.event = self.event_codes.astype(bool)
        # People as integers numbered in order of appearance (build_cohort): the Cox
        # models cluster on them exactly as on the text ids.
        self.person = frame["person"].to_numpy()
        # What every method reads and the design does not enter, before the design is
        # built: on a national cohort the naive model (every eligible release) and the
        # event counts each need a gigabyte or two for a moment, which beside the
        # design's gigabytes made the view's peak.
        _ = self.naive, self.window_events
        give_back_arrow_memory()  # what the event counts' ids left in Arrow's pool
        self.propensity = PropensityScore(list(cohort.covariates), categorical).fit(
            frame, "treated"
        )
        request = request or CovariateRequest(cohort.covariates, False, (), (),
                                              tuple(categorical), cohort.covariates)
        self.adjustment, self.adjustment_notes = adjustment_of(
            request, cohort, self.propensity.full_design_, self.propensity.dropped_columns_)
        # Both methods' comparisons now, then the design goes (see _Comparison); a method
        # that cannot compare says why when its result is asked for.
        self._comparisons: dict[str, _Comparison | AnalysisError] = {}
        for method in METHODS:
            try:
                self._comparisons[method] = _compare(self, method)
            except AnalysisError as exc:
                self._comparisons[method] = exc
        self.propensity = self.propensity.without_design()

    @cached_property
    def event_types(self) -> tuple[str, ...]:
        return tuple(self.spec.outcome.resolve(self.con))

    @cached_property
    def naive(self) -> dict:
        """Unadjusted comparison of all participants with all available non-participants."""
        return _naive(self, self.spec.horizon_days)

    @cached_property
    def window_events(self) -> np.ndarray:
        """Outcome events per cohort row in the frequency window; NaN when follow-up is short.

        Counted once for every eligible release: each method then reads its own rows.
        """
        frame = self.cohort.frame
        counts = events_in_window(
            self.con, frame["release_id"].array, self.event_types,
            self.cohort.landmark_days or 0, self.spec.horizon_days,
        )
        events = np.full(len(frame), np.nan)
        events[counts["row"].to_numpy()] = counts["events"].to_numpy(dtype=float)
        return events

    def comparison(self, method: str) -> _Comparison:
        """Whom ``method`` compares (made when the score was fitted)."""
        compared = self._comparisons[method]
        if isinstance(compared, AnalysisError):
            raise compared
        return compared

    def result(self, method: str | None = None) -> ImpactResult:
        """The evaluation with ``method`` (``"match"`` or ``"iptw"``; default: the spec's)."""
        method = self.spec.method if method is None else method
        if method not in METHODS:
            raise AnalysisError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
        return _evaluate(self, method)


@dataclass(frozen=True)
class _Comparison:
    """Whom a method compares, and all it takes from the propensity design.

    Made for both methods as soon as the score is fitted (:class:`PreparedEvaluation`),
    so that the design, a gigabyte or more on a national cohort, is gone before the
    methods' models run beside it.
    """

    #: Per cohort row: 1 for a matched person and 0 for others (match), the ATT weight
    #: (iptw).
    weights: np.ndarray
    #: The cohort rows compared, in cohort order, and the weights they are analysed with.
    rows: np.ndarray
    analysed_weights: np.ndarray
    matched_count: int
    unmatched: int
    #: Per cohort row, the pair a matched person belongs to (-1: none); None for iptw.
    pair: np.ndarray | None
    balance: pd.DataFrame
    #: The design's columns on ``rows`` (match); no columns, one row per compared row
    #: (iptw: the weights do the adjusting).
    adjustment: pd.DataFrame


def _compare(prepared: PreparedEvaluation, method: str) -> _Comparison:
    """The comparison of ``method``: the matched pairs or the weights, and their balance."""
    spec, ps, treated = prepared.spec, prepared.propensity, prepared.treated
    n = len(treated)
    if method == "match":
        matches = match_nearest(ps.logit_, treated, caliper_sd=spec.caliper_sd, seed=spec.seed,
                                order=spec.match_order)
        if len(matches) == 0:
            raise AnalysisError("no participant has a comparison person within the caliper")
        weights = np.zeros(n)
        weights[matches.treated] = 1.0
        weights[matches.control] = 1.0
        pair = np.full(n, -1)
        pair[matches.treated] = np.arange(len(matches))
        pair[matches.control] = np.arange(len(matches))
        rows = np.flatnonzero(weights > 0)  # the matched people, in cohort order
        return _Comparison(weights, rows, np.ones(len(rows)), len(matches),
                           matches.unmatched_treated, pair,
                           balance_table(ps.full_design_, treated, weights),
                           _adjustment(prepared, rows))
    weights = att_weights(ps.scores_, treated)
    rows = np.arange(n)
    return _Comparison(weights, rows, weights, int(treated.sum()), 0, None,
                       balance_table(ps.full_design_, treated, weights),
                       pd.DataFrame(index=pd.RangeIndex(n)))


def _evaluate(prepared: PreparedEvaluation, method: str) -> ImpactResult:
    cohort, spec, ps = prepared.cohort, prepared.spec, prepared.propensity
    treated = prepared.treated
    compared = prepared.comparison(method)
    weights, rows, analysed_weights = compared.weights, compared.rows, compared.analysed_weights
    matched_count, unmatched = compared.matched_count, compared.unmatched
    balance = compared.balance
    group = treated[rows]
    time, event = prepared.time[rows], prepared.event[rows]
    horizon = spec.horizon_days
    # One Kaplan-Meier table per group serves the headline, the later horizons and the curves.
    tables = {
        flag: KaplanMeier().fit(time[group == flag], event[group == flag],
                                weights=analysed_weights[group == flag]).table
        for flag in (True, False)
    }
    part = _group_outcome(tables[True], time[group], event[group], horizon)
    comp = _group_outcome(tables[False], time[~group], event[~group], horizon)
    difference = _difference(part.rate, part.se, comp.rate, comp.se)
    rmst_difference = _difference(part.rmst, part.rmst_se, comp.rmst, comp.rmst_se)
    adjustment = compared.adjustment
    if method == "match":
        assert compared.pair is not None
        clusters = ("pair_id", compared.pair[rows])
    else:
        clusters = ("person_id", prepared.person)
    verdict = judge(part.with_outcome, part.reoffended, comp.reoffended, difference.p)
    try:
        hazard_ratio = (_hazard_ratio(prepared, rows, adjustment, *clusters)
                        if method == "match" else _marginal_hazard_ratio(prepared, weights))
    except ModelNotConvergedError:
        if verdict.reportable:
            raise
        # A result too small to report (its hazard ratio is never shown) may have more
        # adjustment columns than its few pairs can estimate: its hazard ratio is then
        # the one of taking part alone, and the evaluation still says why it is not
        # reported instead of failing.
        hazard_ratio = _hazard_ratio(prepared, rows, adjustment.iloc[:, :0], *clusters)
    event_types = prepared.event_types
    frequency = _frequency(prepared.window_events[rows], group, analysed_weights)
    text = impact_sentence(
        participant_rate=part.rate,
        comparison_rate=comp.rate,
        difference_lower=difference.lower,
        difference_upper=difference.upper,
        horizon_days=horizon,
        verdict=verdict,
        participants_with_outcomes=part.with_outcome,
    )
    last_step = (("matched", matched_count, int((~group).sum()), int(unmatched))
                 if method == "match" else ("weighted", matched_count, int((~group).sum()), None))
    attrition = attrition_frame([
        *cohort.attrition[list(ATTRITION_COLUMNS)].itertuples(index=False, name=None),
        last_step])
    counts = {
        "participants": int(cohort.attrition["participants"].iloc[0]),
        "eligible": int(treated.sum()),
        "matched": matched_count,
        "comparison": int((~group).sum()),
        "comparison_candidates": int(cohort.attrition["comparison"].iloc[0]),
        "participants_with_outcomes": part.with_outcome,
    }
    cost = _cost(cohort, part, frequency, difference, verdict)
    naive = prepared.naive
    notes = [*cohort.notes, *prepared.adjustment_notes]
    if balance["imbalanced_after"].any():
        notes.append(Reason(IMBALANCED, {"covariates": tuple(
            balance.loc[balance["imbalanced_after"], "covariate"])}))
    return ImpactResult(
        program=cohort.programmes.label,
        program_ids=cohort.programmes.ids,
        method=method,
        horizon_days=horizon,
        landmark_days=cohort.landmark_days,
        event_types=event_types,
        counts=counts,
        attrition=attrition,
        participants=part,
        comparison=comp,
        difference=difference,
        hazard_ratio=hazard_ratio,
        rmst_difference=rmst_difference,
        frequency=frequency,
        later_horizons=_later_horizons(tables, time, group, horizon),
        naive=copy.deepcopy(naive),
        balance=balance.copy(),  # each result its own: results do not change
        overlap=ps.overlap(),
        curves=_curves(tables),
        verdict=verdict,
        summary_text=text,
        cost=cost,
        notes=tuple(notes),
        adjustment=prepared.adjustment,
    )


def _at(table: pd.DataFrame, horizon: float, column: str) -> float:
    i = np.searchsorted(table["time"].to_numpy(), horizon, side="right") - 1
    if i < 0:
        return {"survival": 1.0, "se": 0.0, "lower": 1.0, "upper": 1.0}[column]
    return float(table[column].iloc[i])


def _group_outcome(
    table: pd.DataFrame, time: np.ndarray, event: np.ndarray, horizon: int
) -> GroupOutcome:
    """One group's outcome at the horizon from its (weighted) Kaplan-Meier ``table``."""
    if time.max() < horizon:
        raise AnalysisError(
            f"follow-up is too short for a {horizon}-day horizon (longest is {int(time.max())} days)"
        )
    days_free = restricted_mean(table, horizon)
    rmst, rmst_se = days_free.estimate, days_free.se
    survival = _at(table, horizon, "survival")
    return GroupOutcome(
        n=len(time),
        with_outcome=int(((time >= horizon) | (event & (time <= horizon))).sum()),
        reoffended=int((event & (time <= horizon)).sum()),
        rate=1 - survival,
        lower=1 - _at(table, horizon, "upper"),
        upper=1 - _at(table, horizon, "lower"),
        se=_at(table, horizon, "se"),
        rmst=rmst,
        rmst_se=rmst_se,
    )


def _difference(a: float, se_a: float, b: float, se_b: float) -> Estimate:
    """a − b with a normal-approximation 95% CI (groups treated as independent)."""
    se = math.sqrt(se_a**2 + se_b**2)
    estimate = float(a - b)
    if se == 0:
        return Estimate(estimate, estimate, estimate, None)
    z = float(norm.ppf(0.975))
    p = float(2 * norm.sf(abs(estimate) / se))
    return Estimate(estimate, estimate - z * se, estimate + z * se, p)


def _adjustment(prepared: PreparedEvaluation, rows: np.ndarray) -> pd.DataFrame:
    """The propensity model's design on the compared cohort ``rows``.

    The same columns with the same reference levels as the propensity model, so both
    models adjust for exactly the same things. (Remaking the indicators in the matched
    sample, as earlier versions did, could pick another reference level when two levels
    tie there, and then silently drop one level from the adjustment.)
    """
    return prepared.propensity.design_.take(rows)


def _hazard_ratio(
    prepared: PreparedEvaluation, rows: np.ndarray, design: pd.DataFrame, cluster: str,
    clusters: np.ndarray,
) -> HazardRatio:
    """Covariate-adjusted hazard ratio of taking part in the compared cohort ``rows``.

    ``design`` holds their adjustment covariates, row for row: the propensity model's
    design columns (indicators already made, redundant ones dropped), so both models
    adjust for exactly the same things. The CI and p use robust SEs clustered by
    ``clusters`` (named ``cluster``); the model-based SE is reported beside them.
    """
    values = design.to_numpy(dtype=float)
    event = prepared.event[rows]
    adjust = []
    for position, name in enumerate(design.columns):
        column = values[:, position]
        present = column[~np.isnan(column)]
        if present.size == 0 or present.min() == present.max():
            continue  # constant in the compared sample
        if np.all((column == 0.0) | (column == 1.0)):
            # An indicator whose people all stayed free of reoffending (or all reoffended)
            # has an infinite coefficient; it cannot confound the compared sample's HR,
            # so it is left out.
            among = event[column == 1.0]
            if not among.any() or among.all():
                continue
        adjust.append((name, column))
    adjust = _independent_of_earlier(prepared.treated[rows].astype(float), adjust)
    model_frame = pd.DataFrame(
        {
            "time": prepared.days[rows],
            "event": prepared.event_codes[rows],
            cluster: clusters,
            **dict(adjust),
            "programme": prepared.treated[rows].astype(int),
        }
    )
    model = CoxModel(ties="efron", robust=True).fit(
        model_frame, "time", "event", ["programme", *(name for name, _ in adjust)],
        cluster_col=cluster,
    )
    return HazardRatio.of_term(model, "programme")


def _independent_of_earlier(programme: np.ndarray,
                            adjust: list[tuple[str, np.ndarray]]) -> list[tuple[str, np.ndarray]]:
    """The adjustment columns that are not a linear combination of taking part and the
    columns kept before them, in the compared sample.

    The propensity model's design has no redundant column in the cohort it was fitted
    on, but a matched sample can make one: when every woman matched came from the one
    women's prison, that prison's indicator equals ``sex[F]``. Such a column adjusts for
    nothing the others do not, so it is left out rather than refusing the comparison.
    The test is the Cox engine's own (:func:`analysis.survival.cox._check_rank`): the
    correlation matrix of the centred columns must keep its smallest eigenvalue above
    1e-10 of its largest.
    """
    if not adjust:
        return adjust
    first = programme - programme.mean()
    centred = [first]
    # The cross-products of the columns kept so far, grown by one row and column per
    # column kept: each trial adds only its own products, where stacking the columns
    # again for every trial copied them all (0.7 s on a national cohort).
    products = np.array([[first @ first]])
    kept: list[tuple[str, np.ndarray]] = []
    for name, column in adjust:
        values = np.nan_to_num(column) - np.nanmean(column)
        cross = np.array([c @ values for c in centred])
        trial = np.block([[products, cross[:, None]], [cross[None, :], values @ values]])
        scale = np.sqrt(np.diag(trial))
        eig = np.linalg.eigvalsh(trial / np.outer(scale, scale))
        if eig.min() > 1e-10 * max(eig.max(), 1e-300):
            centred.append(values)
            products = trial
            kept.append((name, column))
    return kept


def _marginal_hazard_ratio(prepared: PreparedEvaluation, weights: np.ndarray) -> HazardRatio:
    """The weighted marginal hazard ratio of taking part (Austin 2016): a Cox model of
    taking part alone, each release weighted by its ATT weight, with robust SEs
    clustered by person (R ``coxph(Surv(time, event) ~ programme, weights = w,
    cluster = person_id)``). The weights, not covariates, do the adjusting; a release
    whose weight is 0 (a propensity score of 0) counts for nothing and is left out, as
    R refuses weights that are not positive."""
    positive = weights > 0
    kept = slice(None) if positive.all() else np.flatnonzero(positive)
    model_frame = _model_frame(prepared, kept, weight=weights[kept])
    model = CoxModel(ties="efron", robust=True).fit(
        model_frame, "time", "event", ["programme"], weights_col="weight",
        cluster_col="person_id")
    return HazardRatio.of_term(model, "programme")


def _model_frame(prepared: PreparedEvaluation, rows: slice | np.ndarray,
                 **columns: np.ndarray) -> pd.DataFrame:
    """``time``, ``event``, ``person_id`` and ``programme`` (0/1) of the cohort ``rows``,
    plus ``columns``, for a model of taking part alone.

    Not copied when ``rows`` is every row: on a national cohort the frame of such a
    model, built by copying, held 400 MB beside the model's own arrays.
    """
    return pd.DataFrame({
        "time": prepared.days[rows],
        "event": prepared.event_codes[rows],
        "person_id": prepared.person[rows],
        "programme": prepared.treated[rows].astype(np.int8),
        **columns,
    }, copy=False)


def _frequency(events: np.ndarray, treated: np.ndarray, weights: np.ndarray) -> dict:
    """Weighted mean number of outcome events per 100 people followed over the window.

    ``events`` is NaN for people whose follow-up does not cover the window.
    """
    complete = ~np.isnan(events)
    result: dict[str, float | int | dict] = {}
    stats = {}
    for name, flag in ((PARTICIPANTS, True), (COMPARISON, False)):
        chosen = complete & (treated == flag)
        w = weights[chosen]
        if not chosen.any() or w.sum() == 0:
            return {
                "participants": None,
                "comparison": None,
                "difference": None,
                "n_complete_follow_up": 0,
            }
        x = events[chosen]
        mean = float((w * x).sum() / w.sum())
        effective = w.sum() ** 2 / (w**2).sum()
        var = float((w * (x - mean) ** 2).sum() / w.sum())
        stats[name] = (mean, math.sqrt(var / effective))
        result[name] = 100 * mean
    (mp, sp), (mc, sc) = stats[PARTICIPANTS], stats[COMPARISON]
    diff = _difference(mp, sp, mc, sc)
    result["difference"] = Estimate(
        100 * diff.estimate, 100 * diff.lower, 100 * diff.upper, diff.p
    ).as_dict()
    result["n_complete_follow_up"] = int(complete.sum())
    return result


def _cost(
    cohort: Cohort, part: GroupOutcome, frequency: dict, difference: Estimate, verdict: Verdict
):
    costs = cohort.programmes.cost.dropna(subset=["cost_per_participant"])
    if costs.empty or frequency.get("difference") is None or not verdict.reportable:
        return None
    currencies = set(costs["currency"].dropna())
    if len(currencies) > 1:
        return None
    per_participant = float(costs["cost_per_participant"].sum())
    freq = frequency["difference"]
    # Reductions are comparison minus participants, per person.
    reduction = (-freq["estimate"] / 100, -freq["upper"] / 100, -freq["lower"] / 100)
    return cost_effectiveness(
        participants=part.n,
        cost_per_participant=per_participant,
        currency=currencies.pop() if currencies else "",
        frequency_reduction=reduction,
        rate_reduction=-difference.estimate if difference.upper < 0 else 0.0,
    )


def _naive(prepared: PreparedEvaluation, horizon: int) -> dict:
    """Unadjusted comparison of all participants with all available non-participants."""
    treated = prepared.treated
    out = {}
    for name, flag in ((PARTICIPANTS, True), (COMPARISON, False)):
        chosen = treated == flag
        table = KaplanMeier().fit(prepared.time[chosen], prepared.event[chosen]).table
        out[name] = {"n": int(chosen.sum()), "rate": 1 - _at(table, horizon, "survival")}
    model = CoxModel(ties="efron", robust=True).fit(
        _model_frame(prepared, slice(None)), "time", "event", ["programme"],
        cluster_col="person_id"
    )
    hazard_ratio = HazardRatio.of_term(model, "programme").as_dict()
    del hazard_ratio["p"]  # the naive comparison reports no p-value
    out["hazard_ratio"] = hazard_ratio
    return out


def _later_horizons(tables: dict, time: np.ndarray, treated: np.ndarray, horizon: int) -> pd.DataFrame:
    """Rates at the later default horizons (2 and 3 years) where at least 10 people per
    group are still followed."""
    rows = []
    for days in DEFAULT_HORIZONS[1:]:
        if days <= horizon:
            continue
        row: dict[str, float] = {"days": days}
        for name, flag in ((PARTICIPANTS, True), (COMPARISON, False)):
            if (time[treated == flag] >= days).sum() < 10:
                break
            table = tables[flag]
            row[name] = 1 - _at(table, days, "survival")
            row[f"{name}_lower"] = 1 - _at(table, days, "upper")
            row[f"{name}_upper"] = 1 - _at(table, days, "lower")
        else:
            rows.append(row)
    return pd.DataFrame(rows)


def _curves(tables: dict) -> pd.DataFrame:
    parts = []
    for name, flag in ((PARTICIPANTS, True), (COMPARISON, False)):
        table = tables[flag]
        parts.append(
            pd.DataFrame(
                {
                    "group": name,
                    "time": np.r_[0.0, table["time"]],
                    "n_risk": np.r_[table["n_risk"].iloc[0], table["n_risk"]],
                    "recidivism": np.r_[0.0, 1 - table["survival"]],
                    "lower": np.r_[0.0, 1 - table["upper"]],
                    "upper": np.r_[0.0, 1 - table["lower"]],
                }
            )
        )
    return pd.concat(parts, ignore_index=True)
