"""An impact result made safe to show outside the analyst's own screen.

Every count between 1 and ``k - 1`` becomes ``"<k"``: attrition counts, the counts the
attrition notes quote (``removed``), the count of participants with outcomes quoted by
the rules and the headline (a label in the verdict's reasons and in
``hidden_labels``: every language then writes the label, never the number), and
propensity-score bins holding fewer than ``k`` people of a group. Curves are cut where fewer than ``k`` remain at risk by the
chart code (:func:`analysis.disclosure.truncate_curve`). Rates and hazard ratios are
only reported at all when the impact rules allow it (at least 60 participants).

Complementary suppression (:func:`hidden_counts`): the attrition table is a chain —
each step's ``before = after + removed`` (the removed count is quoted by the step's
note, or not shown at all), the eligible participants are the matched plus the unmatched, and
the first step's two groups add up to the selection's releases. Those relations, and
those between a group's size, the people with a known outcome and those who reoffended,
are solved exactly (:func:`analysis.disclosure.linked_suppression`): a count hidden
only to protect a smaller one reads ``"hidden"`` (:data:`SECONDARY_LABEL`). A rate is
hidden with the count it would reveal (:func:`analysis.disclosure.rate_discloses`).

Used by the HTML report (``desist report``) and by the dashboard's Impact page, so the
two can never disagree about what is hidden.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from analysis.disclosure import (
    DisclosurePolicy,
    linked_suppression,
    parts_to_hide,
    published_min_cell,
    truncate_curve,
)
from analysis.impact.evaluation import ImpactResult
from analysis.impact.rules import NOT_REPORTED
from analysis.impact.wording import SECONDARY_LABEL, attrition_table, horizon_words


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


#: The attrition step whose note counts participants only (the unmatched).
MATCHED_STEP = "matched"
GROUPS = ("participants", "comparison")


def _count(value) -> int | None:
    """A count of an attrition cell, or None when it is hidden (a label)."""
    if isinstance(value, str):
        return int(value) if value.isdigit() else None
    return int(value)


def _removed(value) -> int | None:
    """The count a step's note quotes, or None (no count, or hidden: a label)."""
    if value is None or isinstance(value, str) or pd.isna(value):
        return None
    return int(value)


def hidden_counts(result: ImpactResult, policy: DisclosurePolicy, *,
                  releases: int | None = None) -> frozenset:
    """Which counts of ``result`` must be hidden (complementary suppression included).

    Names: ``("participants", i)`` / ``("comparison", i)`` for attrition row ``i``,
    ``("note", i)`` for the count row ``i``'s note quotes (``removed``), and for each group
    ``(group, "with_outcome")`` and ``(group, "reoffended")``; the group sizes of the
    rates are the last attrition row. For a programme compared at release, the first
    row's two groups add up to the selection's releases, a total other pages show:
    ``releases`` (default: that sum) is treated as known to every reader.

    Works on a raw result and on one already through :func:`for_publication` (then
    the attrition's hidden cells are read from its labels).

    Examples
    --------
    >>> attrition = pd.DataFrame({"step": ["eligible", "matched"],
    ...     "participants": [3005, 3002], "comparison": [9000, 3002],
    ...     "removed": [None, 3]})
    >>> sorted((k for k in hidden_counts(_stub(attrition), DisclosurePolicy(k=10))
    ...         if k[0] != "note"), key=str)
    [('comparison', 1), ('participants', 1)]

    (3005 - 3002 would give the 3 unmatched away; the matched comparison group is as
    large as the matched participants, so it goes too.)
    """
    attrition = result.attrition.reset_index(drop=True)
    values: dict = {}
    relations: list = []
    already = set()
    for i, row in attrition.iterrows():
        for group in GROUPS:
            if _count(row[group]) is not None:
                values[(group, i)] = _count(row[group])
            else:
                already.add((group, i))
        number = _removed(row["removed"])
        if number is not None:
            values[("note", i)] = number
        elif isinstance(row["removed"], str):
            already.add(("note", i))
    published = set(values)
    if already or any(isinstance(v, str) for v in attrition["participants"]):
        # Published already: only the outcome counts are left to decide, against the
        # attrition's shown numbers.
        last = len(attrition) - 1
        values = {key: v for key, v in values.items() if key[1] == last}
        relations = []
        published = set(values)
    else:
        for i in range(1, len(attrition)):
            for group in GROUPS:
                values[(group, "removed", i)] = values[(group, i - 1)] - values[(group, i)]
                relations.append(((group, i - 1), [(group, i), (group, "removed", i)]))
            if ("note", i) in values:
                removed = [("participants", "removed", i)]
                if attrition.loc[i, "step"] != MATCHED_STEP:
                    removed.append(("comparison", "removed", i))
                relations.append((("note", i), removed))
            if attrition.loc[i, "step"] == MATCHED_STEP:
                # one comparison person per matched participant: a reader knows they agree
                relations.append((("participants", i), [("comparison", i)]))
        if result.landmark_days is None and len(attrition):
            first = values[("participants", 0)] + values[("comparison", 0)]
            values["releases"] = int(first if releases is None else releases)
            relations.append(("releases", [("participants", 0), ("comparison", 0)]))
    last = len(attrition) - 1
    for group, outcome in ((GROUPS[0], result.participants), (GROUPS[1], result.comparison)):
        size = (group, last)
        values[(group, "with_outcome")] = int(outcome.with_outcome)
        values[(group, "reoffended")] = int(outcome.reoffended)
        values[(group, "censored")] = int(outcome.n) - int(outcome.with_outcome)
        values[(group, "free")] = int(outcome.with_outcome) - int(outcome.reoffended)
        published |= {(group, "with_outcome"), (group, "reoffended")}
        if (group, last) in values:
            relations.append((size, [(group, "with_outcome"), (group, "censored")]))
        relations.append(((group, "with_outcome"), [(group, "reoffended"), (group, "free")]))
    # A step that removes nobody from a group is seen as such (its count does not move).
    known = ({"releases"} & set(values)) | {
        key for key, value in values.items()
        if value == 0 and len(key) == 3 and key[1] == "removed"}
    hidden = linked_suppression(values, relations, policy, published=published,
                                known=known, hidden=already & published)
    return frozenset(hidden | already)


def _stub(attrition: pd.DataFrame) -> _Stub:
    """A result holding only an attrition table and large outcome counts (doctests)."""
    from analysis.impact.evaluation import GroupOutcome

    big = GroupOutcome(n=int(attrition["participants"].iloc[-1]), with_outcome=2000,
                       reoffended=800, rate=0.4, lower=0.3, upper=0.5, se=0.01, rmst=300,
                       rmst_se=5)
    return _Stub(attrition, big)


@dataclass(frozen=True)
class _Stub:
    attrition: pd.DataFrame
    participants: object
    comparison: object = None
    landmark_days: int | None = None

    def __post_init__(self):
        object.__setattr__(self, "comparison", self.participants)


def _label(value: int, hidden: bool, policy: DisclosurePolicy) -> str:
    if not hidden:
        return str(int(value))
    return policy.label if policy.hides(value) else SECONDARY_LABEL


def safe_attrition(attrition: pd.DataFrame, policy: DisclosurePolicy,
                   hidden: frozenset | None = None) -> pd.DataFrame:
    """The attrition table with small counts, the counts that would reveal them by
    subtraction (``hidden``, from :func:`hidden_counts`) and the counts its notes quote
    hidden (as labels: :func:`analysis.impact.wording.attrition_table` words them)."""
    table = attrition.copy().reset_index(drop=True)
    hidden = frozenset() if hidden is None else hidden
    for column in GROUPS:
        table[column] = [value if isinstance(value, str)
                         else _label(value, (column, i) in hidden or policy.hides(value), policy)
                         for i, value in enumerate(table[column])]
    removed = []
    for i, value in enumerate(table["removed"]):
        number = _removed(value)
        if number is not None and (("note", i) in hidden or policy.hides(number)):
            value = _label(number, True, policy)
        removed.append(value)
    table["removed"] = pd.Series(removed, dtype=object)
    return table


def safe_overlap(overlap: pd.DataFrame, policy: DisclosurePolicy) -> pd.DataFrame:
    """Propensity-score bins: counts of 1 to ``k - 1`` people become missing (not drawn).

    A group's bins add up to its eligible count, shown in the attrition table, so one
    more bin goes missing where a single hidden bin could be recovered from it.
    """
    overlap = overlap.copy()
    for column in ("participants", "others"):
        values = pd.to_numeric(overlap[column], errors="coerce").astype(float)
        counts: dict[Hashable, int] = {i: int(v) for i, v in enumerate(values)
                                       if np.isfinite(v)}
        hidden = parts_to_hide(counts, policy)
        overlap[column] = [np.nan if i in hidden else v for i, v in enumerate(values)]
    return overlap


def safe_curves(curves: pd.DataFrame, policy: DisclosurePolicy) -> pd.DataFrame:
    """Each group's curve cut where fewer than ``k`` people remain at risk.

    The numbers at risk are dropped once used: the first is the group's size and each
    drop a count of people, which the attrition and rates tables control.
    """
    if curves.empty or "n_risk" not in curves:
        return curves
    parts = [truncate_curve(part, policy) for _, part in curves.groupby("group", sort=False)]
    return pd.concat(parts, ignore_index=True).drop(columns="n_risk")


def rate_hidden(result: ImpactResult, group: str, policy: DisclosurePolicy,
                hidden: frozenset) -> bool:
    """True when ``group``'s rate (and its CI and mean days free) must not be shown.

    The rate is about the reoffenders among the people with a known outcome: hidden
    when either side (those who reoffended, those who did not) numbers 1 to ``k - 1``
    or the group is smaller than ``k``. A share of a group whose size is hidden reveals
    no count by itself, so it stays; the number who reoffended goes instead (see
    :func:`rates_table`).
    """
    outcome = result.participants if group == GROUPS[0] else result.comparison
    free = int(outcome.with_outcome) - int(outcome.reoffended)
    return (outcome.n < policy.k or policy.hides(outcome.reoffended) or policy.hides(free)
            or (group, "reoffended") in hidden or (group, "with_outcome") in hidden)


def rates_table(result: ImpactResult, policy: DisclosurePolicy,
                hidden: frozenset | None = None) -> pd.DataFrame:
    """Both groups: people and reoffenders (text, ``"<k"`` below k), rate with CI, RMST.

    Columns ``group, people, reoffended <horizon>, rate, rate_lower, rate_upper,
    days_free_mean``; rates are shares (0–1), missing when :func:`rate_hidden`. The
    dashboard shows it as is; the HTML report formats it. ``hidden`` defaults to
    :func:`hidden_counts` of ``result``.
    """
    hidden = hidden_counts(result, policy) if hidden is None else hidden
    last = len(result.attrition) - 1
    rows = []
    for name, group in (("participants", result.participants),
                        ("comparison", result.comparison)):
        masked = rate_hidden(result, name, policy, hidden)
        rows.append({
            "group": name,
            "people": _label(group.n, (name, last) in hidden or policy.hides(group.n), policy),
            # with the size hidden, reoffenders / rate would give the size back
            f"reoffended {horizon_words(result.horizon_days)}": _label(
                group.reoffended, (name, "reoffended") in hidden or (name, last) in hidden
                or policy.hides(group.reoffended), policy),
            "rate": np.nan if masked else group.rate,
            "rate_lower": np.nan if masked else group.lower,
            "rate_upper": np.nan if masked else group.upper,
            "days_free_mean": np.nan if masked else group.rmst,
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


def for_publication(result: ImpactResult, policy: DisclosurePolicy, *,
                    releases: int | None = None, unsafe: bool = False) -> ImpactResult:
    """A copy of ``result`` whose words, tables and curves respect the minimum cell size.

    ``releases`` is the selection's number of releases when it is shown elsewhere (see
    :func:`hidden_counts`). The cost-effectiveness is dropped when the number of
    participants is hidden. Applying it twice changes nothing more.

    A ``policy`` with ``k`` below :data:`~analysis.disclosure.MIN_CELL_FLOOR` is refused
    (:class:`~analysis.errors.AnalysisError`) unless ``unsafe`` (the analyst's own
    screen: ``--unsafe-analyst-output``), so no report can be built below it.
    """
    published_min_cell(policy.k, setting="the minimum cell size k", unsafe=unsafe,
                       unsafe_option=None)
    hidden = hidden_counts(result, policy, releases=releases)
    labels = dict(result.hidden_labels)
    with_outcome = result.participants.with_outcome
    if ("participants", "with_outcome") in hidden or policy.hides(with_outcome):
        labels["participants_with_outcomes"] = policy.label
    label = labels.get("participants_with_outcomes")
    reasons = tuple(
        reason.with_params(n=label) if label is not None and reason.code == NOT_REPORTED
        else reason for reason in result.verdict.reasons)
    shown = replace(
        result,
        # total cost = participants x cost per participant: it goes with a hidden size
        cost=result.cost if cost_shown(result, policy, hidden) else None,
        attrition=safe_attrition(result.attrition, policy, hidden),
        overlap=safe_overlap(result.overlap, policy),
        curves=safe_curves(result.curves, policy),
        verdict=replace(result.verdict, reasons=reasons),
        hidden_labels=labels,
    )
    return replace(shown, summary_text=shown.headline())


def published_dict(result: ImpactResult, policy: DisclosurePolicy, *,
                   unsafe: bool = False) -> tuple[dict, int]:
    """``result.as_dict()`` with every hidden count, and every rate that would reveal
    one, set to ``None`` (the ``desist impact --json`` contract); also how many values
    were withheld.

    The attrition rows keep their labels in ``note`` (``"<k"``/``"hidden"``) and have
    ``None`` for hidden counts; the words (headline, rules, notes) are those of
    :func:`for_publication`.
    """
    hidden = hidden_counts(result, policy)
    shown = for_publication(result, policy, unsafe=unsafe)
    payload = shown.as_dict()
    withheld = 0
    last = len(result.attrition) - 1
    rows = []
    for row in attrition_table(shown.attrition).to_dict("records"):
        for group in GROUPS:
            if not str(row[group]).isdigit():
                row[group] = None
                withheld += 1
            else:
                row[group] = int(row[group])
        rows.append(row)
    payload["attrition"] = rows
    first = result.attrition.index[0] if len(result.attrition) else None
    aliases = {"participants": ("participants", 0), "comparison_candidates": ("comparison", 0),
               "eligible": ("participants", len(result.attrition) - 2),
               "matched": ("participants", last), "comparison": ("comparison", last),
               "participants_with_outcomes": ("participants", "with_outcome")}
    counts = dict(payload["counts"])
    for name, key in aliases.items():
        value = counts.get(name)
        if first is not None and value is not None and (key in hidden or policy.hides(value)):
            counts[name] = None
            withheld += 1
    payload["counts"] = counts
    for group in GROUPS:
        outcome = dict(payload[group])
        masked = rate_hidden(result, group, policy, hidden)
        size_hidden = (group, last) in hidden
        for name, key in (("n", (group, last)), ("with_outcome", (group, "with_outcome")),
                          ("reoffended", (group, "reoffended"))):
            if key in hidden or policy.hides(outcome[name]) or (
                    size_hidden and name == "reoffended"):
                outcome[name] = None
                withheld += 1
        if masked:
            for name in ("rate", "lower", "upper", "se", "rmst", "rmst_se"):
                outcome[name] = None
                withheld += 1
        payload[group] = outcome
    naive = dict(payload["naive"])
    eligible = len(result.attrition) - 2
    for group in GROUPS:
        entry = dict(naive.get(group) or {})
        if entry and ((group, eligible) in hidden or policy.hides(entry.get("n", 0))):
            entry["n"] = entry["rate"] = None
            withheld += 2
        naive[group] = entry
    payload["naive"] = naive
    frequency = dict(payload["frequency_per_100"])
    if policy.hides(frequency.get("n_complete_follow_up") or 0):
        frequency["n_complete_follow_up"] = None
        withheld += 1
    payload["frequency_per_100"] = frequency
    if payload.get("cost") and not cost_shown(result, policy, hidden):
        payload["cost"] = None
        withheld += 1
    return payload, withheld


def cost_shown(result: ImpactResult, policy: DisclosurePolicy,
               hidden: frozenset | None = None) -> bool:
    """False when the cost statement would reveal a hidden number of participants
    (total cost = participants × cost per participant)."""
    hidden = hidden_counts(result, policy) if hidden is None else hidden
    return ("participants", len(result.attrition) - 1) not in hidden
