"""The donor's impact report: an offline, printable HTML file built from an :class:`ImpactResult`."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from analysis.charts import balance_plot, overlap_plot, step_curves
from analysis.disclosure import DisclosurePolicy, truncate_curve
from analysis.html_report import Section, render_html
from analysis.impact.evaluation import ImpactResult
from analysis.impact.publication import for_publication
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


def _rates_table(result: ImpactResult) -> pd.DataFrame:
    rows = []
    for name, group in (("Participants", result.participants), ("Comparison", result.comparison)):
        rows.append(
            {
                "group": name,
                "people": group.n,
                f"reoffended {horizon_words(result.horizon_days)}": _pct(group.rate),
                "95% CI": f"{_pct(group.lower)} to {_pct(group.upper)}",
                "days free of reoffending (mean)": f"{group.rmst:.0f}",
            }
        )
    return pd.DataFrame(rows)


def _estimates_table(result: ImpactResult) -> pd.DataFrame:
    d, hr, rm = result.difference, result.hazard_ratio, result.rmst_difference
    freq = result.frequency.get("difference") or {}
    rows = [
        (
            "Difference in rate (percentage points)",
            f"{100 * d.estimate:+.1f}",
            f"{100 * d.lower:+.1f} to {100 * d.upper:+.1f}",
            d.p,
        ),
        ("Hazard ratio", f"{hr.estimate:.2f}", f"{hr.lower:.2f} to {hr.upper:.2f}", hr.p),
        (
            "Difference in days free of reoffending",
            f"{rm.estimate:+.0f}",
            f"{rm.lower:+.0f} to {rm.upper:+.0f}",
            rm.p,
        ),
    ]
    if freq:
        rows.append(
            (
                "Difference in reoffences per 100 people",
                f"{freq['estimate']:+.1f}",
                f"{freq['lower']:+.1f} to {freq['upper']:+.1f}",
                freq["p"],
            )
        )
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
    result = for_publication(result, policy)
    curves = pd.concat(
        [truncate_curve(part, policy) for _, part in result.curves.groupby("group", sort=False)]
    )
    warnings = list(result.verdict.reasons)
    if result.counts["eligible"] < policy.small_sample:
        warnings.append(f"Fewer than {policy.small_sample} participants: estimates are uncertain.")
    sections = [
        Section(
            "Result",
            headline=result.summary_text,
            warnings=tuple(warnings),
            tables=(("Reoffending", _rates_table(result)), ("Estimates", _estimates_table(result)))
            if result.reportable
            else (),
            figures=(
                step_curves(curves, value="recidivism", title="Share reoffended since release"),
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
