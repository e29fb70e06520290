"""An impact result made safe to show outside the analyst's own screen.

Every count between 1 and ``k - 1`` becomes ``"<k"``: attrition counts, numbers inside
the attrition notes and the rules' wording, and propensity-score bins holding fewer
than ``k`` people of a group. Curves are cut where fewer than ``k`` remain at risk by the
chart code (:func:`analysis.disclosure.truncate_curve`). Rates and hazard ratios are
only reported at all when the impact rules allow it (at least 60 participants).

Used by the HTML report (``desist report``) and by the dashboard's Impact page, so the
two can never disagree about what is hidden.
"""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pandas as pd

from analysis.disclosure import DisclosurePolicy, truncate_curve
from analysis.impact.evaluation import ImpactResult
from analysis.impact.wording import horizon_words
from analysis.impact.wording_locales import WORDINGS, SmallCount


def count_label(value, policy: DisclosurePolicy) -> str:
    """A count as text, ``"<k"`` when it is between 1 and ``k - 1``; text passes through.

    Examples
    --------
    >>> policy = DisclosurePolicy(k=10)
    >>> count_label(3, policy), count_label(0, policy), count_label(250, policy)
    ('<10', '0', '250')
    >>> count_label("<10", policy)
    '<10'
    """
    if isinstance(value, str):
        return value
    value = int(value)
    return policy.label if 0 < value < policy.k else str(value)


def suppress_numbers_in_text(text: str, policy: DisclosurePolicy) -> str:
    """Replace whole numbers from 1 to ``k - 1`` in a sentence by ``"<k"``.

    Decimals, numbers glued to words, numbers already behind ``<`` and the landmark
    ("day 90") are left alone.

    Examples
    --------
    >>> suppress_numbers_in_text("3 releases excluded; 250 kept", DisclosurePolicy(k=10))
    '<10 releases excluded; 250 kept'
    """
    return re.sub(r"(?<![\w.,<])(?<!day )\d+(?![\w.,])",
                  lambda m: count_label(int(m.group(0)), policy), text)


def hide_small_mentions(text: str, policy: DisclosurePolicy) -> str:
    """Counts quoted in the rules' wording: "only 32 participants", "(32)".

    Thresholds in the same sentences ("at least 60") are rules, not people, so only the
    count of participants and a number in parentheses are rewritten. Every language of
    :mod:`analysis.impact.wording_locales` names its phrase; a hidden count takes the
    language's plural form whatever its value, so the noun cannot reveal a count of 1.

    Examples
    --------
    >>> hide_small_mentions("only 7 participants (at least 60 needed)", DisclosurePolicy(k=10))
    'only <10 participants (at least 60 needed)'
    >>> hide_small_mentions("только 1 участник был под наблюдением", DisclosurePolicy(k=10))
    'только <10 участников были под наблюдением'
    """
    def hide(small: SmallCount):
        def replace_match(match: re.Match) -> str:
            if 0 < int(match.group("n")) < policy.k:
                return small.hidden.format(label=policy.label)
            return match.group(0)
        return replace_match

    for words in WORDINGS.values():
        for small in words.small_counts:
            text = re.sub(small.pattern, hide(small), text)
    return re.sub(r"(?<=\()\d+(?=\))", lambda m: count_label(int(m.group(0)), policy), text)


def safe_attrition(attrition: pd.DataFrame, policy: DisclosurePolicy) -> pd.DataFrame:
    """The attrition table with small counts and the numbers in its notes hidden."""
    table = attrition.copy()
    for column in ("participants", "comparison"):
        table[column] = table[column].map(lambda v: count_label(v, policy))
    table["note"] = table["note"].map(lambda t: suppress_numbers_in_text(str(t), policy))
    return table


def safe_overlap(overlap: pd.DataFrame, policy: DisclosurePolicy) -> pd.DataFrame:
    """Propensity-score bins: counts of 1 to ``k - 1`` people become missing (not drawn)."""
    overlap = overlap.copy()
    for column in ("participants", "others"):
        values = pd.to_numeric(overlap[column], errors="coerce").astype(float)
        overlap[column] = values.mask((values > 0) & (values < policy.k), np.nan)
    return overlap


def safe_curves(curves: pd.DataFrame, policy: DisclosurePolicy) -> pd.DataFrame:
    """Each group's curve cut where fewer than ``k`` people remain at risk."""
    if curves.empty:
        return curves
    parts = [truncate_curve(part, policy) for _, part in curves.groupby("group", sort=False)]
    return pd.concat(parts, ignore_index=True)


def rates_table(result: ImpactResult, policy: DisclosurePolicy) -> pd.DataFrame:
    """Both groups: people and reoffenders (text, ``"<k"`` below k), rate with CI, RMST.

    Columns ``group, people, reoffended <horizon>, rate, rate_lower, rate_upper,
    days_free_mean``; rates are shares (0–1). The dashboard shows it as is; the HTML
    report formats it.
    """
    rows = []
    for name, group in (("participants", result.participants),
                        ("comparison", result.comparison)):
        rows.append({
            "group": name,
            "people": count_label(group.n, policy),
            f"reoffended {horizon_words(result.horizon_days)}": count_label(group.reoffended,
                                                                            policy),
            "rate": group.rate,
            "rate_lower": group.lower,
            "rate_upper": group.upper,
            "days_free_mean": group.rmst,
        })
    return pd.DataFrame(rows)


def estimates_table(result: ImpactResult) -> pd.DataFrame:
    """The effect estimates with 95% CI and p: ``measure, estimate, lower, upper, p``.

    The rate difference is in percentage points; the frequency row appears when the
    evaluation could count reoffences per 100 people.
    """
    d, hr, rm = result.difference, result.hazard_ratio, result.rmst_difference
    rows = [
        ("difference in rate (percentage points)", 100 * d.estimate, 100 * d.lower,
         100 * d.upper, d.p),
        ("hazard ratio", hr.estimate, hr.lower, hr.upper, hr.p),
        ("difference in days free of reoffending", rm.estimate, rm.lower, rm.upper, rm.p),
    ]
    frequency = result.frequency.get("difference")
    if frequency:
        rows.append(("difference in reoffences per 100 people", frequency["estimate"],
                     frequency["lower"], frequency["upper"], frequency["p"]))
    return pd.DataFrame(rows, columns=["measure", "estimate", "lower", "upper", "p"])


def for_publication(result: ImpactResult, policy: DisclosurePolicy) -> ImpactResult:
    """A copy of ``result`` whose words, tables and curves respect the minimum cell size.

    Applying it twice changes nothing more.
    """
    return replace(
        result,
        attrition=safe_attrition(result.attrition, policy),
        overlap=safe_overlap(result.overlap, policy),
        curves=safe_curves(result.curves, policy),
        notes=tuple(suppress_numbers_in_text(n, policy) for n in result.notes),
        summary_text=hide_small_mentions(result.summary_text, policy),
        verdict=replace(result.verdict, reasons=tuple(
            hide_small_mentions(r, policy) for r in result.verdict.reasons)),
    )
