"""The donor's impact report: an offline, printable HTML file built from an :class:`ImpactResult`."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from analysis.charts import balance_plot, overlap_plot, step_curves
from analysis.disclosure import DisclosurePolicy
from analysis.html_report import Section, render_html
from analysis.impact.evaluation import ImpactResult
from analysis.impact.publication import estimates_table, for_publication, rates_table
from analysis.impact.rules import ALPHA, MIN_OUTCOMES_PER_GROUP, MIN_PARTICIPANTS
from analysis.impact.wording import horizon_words

METHOD_NOTES = (
    "Participants are compared with people released from the same facilities in the same "
    "period who did not take part. A propensity score (logistic regression on age, sex, prior "
    "convictions, offense, sentence length, facility and release year) describes how likely each "
    "person was to take part; each participant is matched to the non-participant with the closest "
    "score, within 0.2 standard deviations of its logit (primary method). Inverse-probability "
    "weighting is the sensitivity method.",
    "Reoffending rates are Kaplan–Meier estimates, so people whose follow-up is still short "
    "count for the time they were observed. The hazard ratio comes from a Cox model in the "
    "compared sample, adjusted for the same covariates, with robust standard errors.",
    f"Rules: no result is reported for fewer than {MIN_PARTICIPANTS} participants with outcomes; "
    f"a difference is called significant only when p ≤ {ALPHA} and each group has at least "
    f"{MIN_OUTCOMES_PER_GROUP} people who reoffended.",
    "Participants and comparison people can still differ in ways the records do not show "
    "(motivation, family support). The comparison removes differences in the recorded "
    "characteristics only.",
)


def _pct(value: float) -> str:
    return "–" if value is None or pd.isna(value) else f"{100 * value:.1f}%"


def _rates_table(result: ImpactResult, policy: DisclosurePolicy) -> pd.DataFrame:
    rates = rates_table(result, policy)
    return pd.DataFrame({
        "group": rates["group"].str.capitalize(),
        "people": rates["people"],
        f"reoffended {horizon_words(result.horizon_days)}": rates["rate"].map(_pct),
        "95% CI": [f"{_pct(lo)} to {_pct(hi)}"
                   for lo, hi in zip(rates["rate_lower"], rates["rate_upper"], strict=True)],
        "days free of reoffending (mean)": rates["days_free_mean"].map(lambda d: f"{d:.0f}"),
    })


#: Print format of each estimate (signed differences, a ratio), by its measure.
_ESTIMATE_FORMATS = {
    "difference in rate (percentage points)": "{:+.1f}",
    "hazard ratio": "{:.2f}",
    "difference in days free of reoffending": "{:+.0f}",
    "difference in reoffences per 100 people": "{:+.1f}",
}


def _estimates_table(result: ImpactResult) -> pd.DataFrame:
    rows = []
    for row in estimates_table(result).itertuples(index=False):
        fmt = _ESTIMATE_FORMATS[row.measure]
        rows.append((row.measure[0].upper() + row.measure[1:], fmt.format(row.estimate),
                     f"{fmt.format(row.lower)} to {fmt.format(row.upper)}", row.p))
    table = pd.DataFrame(rows, columns=["measure", "estimate", "95% CI", "p"])
    table["p"] = table["p"].map(
        lambda p: "–" if p is None else ("<0.001" if p < 0.001 else f"{p:.3f}")
    )
    return table


def build_report_html(result: ImpactResult, *, policy: DisclosurePolicy | None = None) -> str:
    """The complete HTML report, safe to hand to a donor.

    Curves stop where fewer than ``k`` people remain at risk, and every count of 1 to
    ``k - 1`` people is shown as ``"<k"`` (:func:`analysis.impact.publication.for_publication`).
    """
    policy = policy or DisclosurePolicy()
    result = for_publication(result, policy)  # also cuts the curves at k at risk
    warnings = list(result.verdict.reasons)
    if result.counts["eligible"] < policy.small_sample:
        warnings.append(f"Fewer than {policy.small_sample} participants: estimates are uncertain.")
    sections = [
        Section(
            "Result",
            headline=result.summary_text,
            warnings=tuple(warnings),
            tables=(("Reoffending", _rates_table(result, policy)), ("Estimates", _estimates_table(result)))
            if result.reportable
            else (),
            figures=(
                step_curves(result.curves, value="recidivism", title="Share reoffended since release"),
            )
            if result.reportable
            else (),
        ),
    ]
    if result.cost is not None:
        sections.append(Section("Cost-effectiveness", paragraphs=(result.cost.statement,)))
    sections.append(
        Section(
            "Who was compared",
            paragraphs=result.notes,
            tables=(("Attrition at every step", result.attrition),),
        )
    )
    balance = result.balance[["covariate", "smd_before", "smd_after"]].round(3)
    sections.append(
        Section(
            "Balance of the comparison",
            paragraphs=(
                "Standardized mean differences of each characteristic between participants and "
                "the comparison group, before and after adjustment; below 0.1 counts as balanced.",
            ),
            tables=(("Standardized mean differences", balance),),
            figures=(balance_plot(result.balance), overlap_plot(result.overlap)),
        )
    )
    sections.append(Section("Method", paragraphs=METHOD_NOTES))
    subtitle = (
        f"Outcome: {', '.join(result.event_types)} · horizon {result.horizon_days} days · "
        f"method {result.method} · {dt.date.today().isoformat()}"
    )
    return render_html(f"Impact of {result.program}", sections, subtitle=subtitle)
