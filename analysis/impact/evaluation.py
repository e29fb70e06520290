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
   sample, robust SEs clustered by person).
4. The Justice Data Lab rules (:mod:`analysis.impact.rules`) decide what may be
   reported and called significant; the plain-words text is generated from the numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd
from scipy.stats import norm

from analysis.errors import AnalysisError
from analysis.impact.balance import att_weights, balance_table
from analysis.impact.cohort import (
    CATEGORICAL_COVARIATES,
    DEFAULT_COVARIATES,
    DEFAULT_LANDMARK_DAYS,
    Cohort,
    build_cohort,
    events_in_window,
    resolve_programmes,
)
from analysis.impact.cost import CostEffectiveness, cost_effectiveness
from analysis.impact.matching import DEFAULT_CALIPER_SD, match_nearest
from analysis.impact.propensity import PropensityScore, design_matrix
from analysis.impact.rules import Verdict, judge
from analysis.impact.wording import impact_sentence
from analysis.survival.cox import CoxModel
from analysis.survival.episodes import Outcome, Selection
from analysis.survival.restricted_mean import restricted_mean
from analysis.survival.weighted_km import weighted_km

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
    hazard_ratio: Estimate
    rmst_difference: Estimate
    frequency: dict
    later_horizons: pd.DataFrame
    naive: dict
    balance: pd.DataFrame
    overlap: pd.DataFrame
    curves: pd.DataFrame
    verdict: Verdict
    summary_text: str
    cost: CostEffectiveness | None
    notes: tuple[str, ...] = field(default=())

    @property
    def significant(self) -> bool:
        return self.verdict.significant

    @property
    def reportable(self) -> bool:
        return self.verdict.reportable

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
            f"<p>{html.escape(self.summary_text)}</p>"
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
            "attrition": self.attrition.to_dict("records"),
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
            "rules": list(self.verdict.reasons),
            "balance": self.balance[["covariate", "smd_before", "smd_after"]].to_dict("records"),
            "cost": self.cost.as_dict() if self.cost else None,
            "summary_text": self.summary_text,
            "notes": list(self.notes),
        }


class ImpactEvaluation:
    """Matched (or weighted) comparison of a programme's participants with similar people.

    Parameters
    ----------
    program, project
        One programme id, or a project/funder name (all its programmes together).
    horizon_days
        Follow-up horizon of the headline rate (default one year).
    method
        ``"match"`` (primary) or ``"iptw"`` (sensitivity).
    outcome
        Which events count (default: every type present).
    covariates
        Baseline covariates for the propensity score and the adjusted Cox model.
    landmark_days
        Landmark for post-release programmes.
    variant
        ``"any"`` participation or ``"completed"`` only (in-prison programmes).

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
        covariates: tuple[str, ...] = DEFAULT_COVARIATES,
        landmark_days: int = DEFAULT_LANDMARK_DAYS,
        caliper_sd: float = DEFAULT_CALIPER_SD,
        variant: str = "any",
        seed: int = 20240601,
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
        self.covariates = tuple(covariates)
        self.landmark_days = int(landmark_days)
        self.caliper_sd = caliper_sd
        self.variant = variant
        self.seed = seed

    def fit(self, con: duckdb.DuckDBPyConnection) -> ImpactResult:
        programmes = resolve_programmes(con, self.program, self.project)
        cohort = build_cohort(
            con,
            programmes,
            outcome=self.outcome,
            selection=self.selection,
            covariates=self.covariates,
            landmark_days=self.landmark_days,
            variant=self.variant,
        )
        return _evaluate(con, cohort, self)


def _evaluate(con, cohort: Cohort, spec: ImpactEvaluation) -> ImpactResult:
    frame = cohort.frame
    treated = frame["treated"].to_numpy(dtype=bool)
    if treated.all() or not treated.any():
        raise AnalysisError(f"{cohort.programmes.label}: no comparison releases are available")
    categorical = [c for c in cohort.covariates if c in CATEGORICAL_COVARIATES]
    ps = PropensityScore(list(cohort.covariates), categorical).fit(frame, "treated")
    design = design_matrix(frame, list(cohort.covariates), categorical)
    if spec.method == "match":
        matches = match_nearest(ps.logit_, treated, caliper_sd=spec.caliper_sd, seed=spec.seed)
        if len(matches) == 0:
            raise AnalysisError("no participant has a comparison person within the caliper")
        weights = np.zeros(len(frame))
        weights[matches.treated] = 1.0
        weights[matches.control] = 1.0
        pair = np.full(len(frame), -1)
        pair[matches.treated] = np.arange(len(matches))
        pair[matches.control] = np.arange(len(matches))
        analysed = frame.assign(pair_id=pair)[weights > 0].reset_index(drop=True)
        analysed_weights = np.ones(len(analysed))
        matched_count, unmatched = len(matches), matches.unmatched_treated
    else:
        weights = att_weights(ps.scores_, treated)
        analysed, analysed_weights = frame.reset_index(drop=True), weights
        matched_count, unmatched = int(treated.sum()), 0
    balance = balance_table(design, treated, weights)
    group = analysed["treated"].to_numpy(dtype=bool)
    horizon = spec.horizon_days
    part = _group_outcome(analysed[group], analysed_weights[group], horizon)
    comp = _group_outcome(analysed[~group], analysed_weights[~group], horizon)
    difference = _difference(part.rate, part.se, comp.rate, comp.se)
    rmst_difference = _difference(part.rmst, part.rmst_se, comp.rmst, comp.rmst_se)
    hazard_ratio = _hazard_ratio(
        analysed if spec.method == "match" else frame, ps.design_.columns, spec
    )
    event_types = spec.outcome.resolve(con)
    frequency = _frequency(
        con, analysed, analysed_weights, event_types, cohort.landmark_days or 0, horizon
    )
    verdict = judge(part.with_outcome, part.reoffended, comp.reoffended, difference.p)
    text = impact_sentence(
        participant_rate=part.rate,
        comparison_rate=comp.rate,
        difference_lower=difference.lower,
        difference_upper=difference.upper,
        horizon_days=horizon,
        verdict=verdict,
        participants_with_outcomes=part.with_outcome,
    )
    attrition = pd.concat(
        [
            cohort.attrition,
            pd.DataFrame(
                [
                    (
                        "matched" if spec.method == "match" else "weighted",
                        matched_count,
                        int((~group).sum()),
                        f"{unmatched} participants without a comparison person within the caliper"
                        if spec.method == "match"
                        else "every eligible release, weighted",
                    )
                ],
                columns=cohort.attrition.columns,
            ),
        ],
        ignore_index=True,
    )
    counts = {
        "participants": int(cohort.attrition["participants"].iloc[0]),
        "eligible": int(treated.sum()),
        "matched": matched_count,
        "comparison": int((~group).sum()),
        "comparison_candidates": int(cohort.attrition["comparison"].iloc[0]),
        "participants_with_outcomes": part.with_outcome,
    }
    cost = _cost(cohort, part, frequency, difference, verdict)
    naive = _naive(frame, horizon)
    notes = list(cohort.notes)
    if balance["imbalanced_after"].any():
        notes.append(
            "Some covariates remain imbalanced after adjustment (|SMD| > 0.1): "
            + ", ".join(balance.loc[balance["imbalanced_after"], "covariate"])
        )
    return ImpactResult(
        program=cohort.programmes.label,
        program_ids=cohort.programmes.ids,
        method=spec.method,
        horizon_days=horizon,
        landmark_days=cohort.landmark_days,
        event_types=tuple(event_types),
        counts=counts,
        attrition=attrition,
        participants=part,
        comparison=comp,
        difference=difference,
        hazard_ratio=hazard_ratio,
        rmst_difference=rmst_difference,
        frequency=frequency,
        later_horizons=_later_horizons(analysed, analysed_weights, horizon),
        naive=naive,
        balance=balance,
        overlap=ps.overlap(),
        curves=_curves(analysed, analysed_weights),
        verdict=verdict,
        summary_text=text,
        cost=cost,
        notes=tuple(notes),
    )


def _at(table: pd.DataFrame, horizon: float, column: str) -> float:
    i = np.searchsorted(table["time"].to_numpy(), horizon, side="right") - 1
    if i < 0:
        return {"survival": 1.0, "se": 0.0, "lower": 1.0, "upper": 1.0}[column]
    return float(table[column].iloc[i])


def _group_outcome(part: pd.DataFrame, weights: np.ndarray, horizon: int) -> GroupOutcome:
    time = part["time"].to_numpy(dtype=float)
    event = part["event"].to_numpy(dtype=bool)
    table = weighted_km(time, event, weights)
    if time.max() < horizon:
        raise AnalysisError(
            f"follow-up is too short for a {horizon}-day horizon (longest is {int(time.max())} days)"
        )
    rmst, rmst_se = restricted_mean(table, horizon)
    survival = _at(table, horizon, "survival")
    return GroupOutcome(
        n=len(part),
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


def _hazard_ratio(data: pd.DataFrame, columns, spec: ImpactEvaluation) -> Estimate:
    """Covariate-adjusted hazard ratio of taking part (robust SEs).

    Uses the propensity model's design columns (indicators already made, redundant
    ones dropped), so both models adjust for exactly the same things.
    """
    categorical = [c for c in spec.covariates if c in CATEGORICAL_COVARIATES]
    design = design_matrix(data, [c for c in spec.covariates if c in data], categorical)
    design = design[[c for c in columns if c in design.columns]]
    design = design.loc[:, design.nunique() > 1]
    # An indicator whose people all stayed free of reoffending (or all reoffended) has an
    # infinite coefficient; it cannot confound the compared sample's HR, so it is left out.
    event = data["event"].to_numpy(dtype=bool)
    separating = [
        c
        for c in design.columns
        if set(np.unique(design[c])) <= {0.0, 1.0}
        and (not event[design[c].to_numpy() == 1].any() or event[design[c].to_numpy() == 1].all())
    ]
    design = design.drop(columns=separating)
    cluster = "pair_id" if spec.method == "match" else "person_id"
    model_frame = pd.concat(
        [data[["time", "event", cluster]].reset_index(drop=True), design.reset_index(drop=True)],
        axis=1,
    ).assign(programme=data["treated"].astype(int).to_numpy())
    model = CoxModel(ties="efron").fit(
        model_frame, "time", "event", ["programme", *design.columns], cluster_col=cluster
    )
    row = model.summary.set_index("term").loc["programme"]
    return Estimate(
        float(row["hr"]), float(row["hr_lower"]), float(row["hr_upper"]), float(row["p"])
    )


def _frequency(con, analysed, weights, event_types, start_day, horizon) -> dict:
    counts = events_in_window(
        con, analysed["release_id"].to_numpy(), tuple(event_types), start_day, horizon
    )
    merged = (
        analysed[["release_id", "treated"]].assign(weight=weights).merge(counts, on="release_id")
    )
    result = {}
    stats = {}
    for name, flag in ((PARTICIPANTS, True), (COMPARISON, False)):
        group = merged[merged["treated"] == flag]
        if group.empty or group["weight"].sum() == 0:
            return {
                "participants": None,
                "comparison": None,
                "difference": None,
                "n_complete_follow_up": 0,
            }
        w = group["weight"].to_numpy()
        x = group["events"].to_numpy(dtype=float)
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
    result["n_complete_follow_up"] = int(len(merged))
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


def _naive(frame: pd.DataFrame, horizon: int) -> dict:
    """Unadjusted comparison of all participants with all available non-participants."""
    out = {}
    for name, flag in ((PARTICIPANTS, True), (COMPARISON, False)):
        part = frame[frame["treated"] == flag]
        table = weighted_km(part["time"], part["event"].astype(bool), np.ones(len(part)))
        out[name] = {"n": len(part), "rate": 1 - _at(table, horizon, "survival")}
    model = CoxModel(ties="efron").fit(
        frame.assign(programme=frame["treated"].astype(int)),
        "time",
        "event",
        ["programme"],
        cluster_col="person_id",
    )
    row = model.summary.set_index("term").loc["programme"]
    out["hazard_ratio"] = {
        "estimate": float(row["hr"]),
        "lower": float(row["hr_lower"]),
        "upper": float(row["hr_upper"]),
    }
    return out


def _later_horizons(analysed: pd.DataFrame, weights: np.ndarray, horizon: int) -> pd.DataFrame:
    """Rates at 2 and 3 years where at least 10 people per group are still followed."""
    rows = []
    for days in (730, 1095):
        if days <= horizon:
            continue
        row = {"days": days}
        for name, flag in ((PARTICIPANTS, True), (COMPARISON, False)):
            mask = analysed["treated"].to_numpy(dtype=bool) == flag
            time = analysed.loc[mask, "time"].to_numpy(dtype=float)
            if (time >= days).sum() < 10:
                break
            table = weighted_km(time, analysed.loc[mask, "event"].astype(bool), weights[mask])
            row[name] = 1 - _at(table, days, "survival")
            row[f"{name}_lower"] = 1 - _at(table, days, "upper")
            row[f"{name}_upper"] = 1 - _at(table, days, "lower")
        else:
            rows.append(row)
    return pd.DataFrame(rows)


def _curves(analysed: pd.DataFrame, weights: np.ndarray) -> pd.DataFrame:
    parts = []
    for name, flag in ((PARTICIPANTS, True), (COMPARISON, False)):
        mask = analysed["treated"].to_numpy(dtype=bool) == flag
        table = weighted_km(
            analysed.loc[mask, "time"], analysed.loc[mask, "event"].astype(bool), weights[mask]
        )
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
