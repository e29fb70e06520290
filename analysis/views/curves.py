"""Recidivism over time: curves by a breakdown, numbers at risk, horizons and a test.

Two estimators (``method``):

- ``"km"`` — 1 − Kaplan–Meier survival: the share who would have reoffended if nobody
  died, was deported or emigrated (competing ends are censored);
- ``"cif"`` — the Aalen–Johansen cumulative incidence of reoffending, which treats
  competing ends as ends: the share who actually reoffended.

Disclosure control: groups with fewer than ``k`` releases are not estimated (listed in
``hidden_groups``, their counts shown as ``"<k"``); each curve stops where fewer than
``k`` releases remain at risk (:func:`analysis.disclosure.truncate_curve`); numbers at
risk below ``k`` are hidden with complementary suppression within each time point
(their sum over groups is the overall number at risk) and along each row (the drop
between two months is a count of people too: :func:`at_risk_mask`); a rate at a
horizon is hidden when 1 to ``k - 1`` releases of the group reoffended by then.

The result is language-free: tables keyed by column codes (``group``, ``releases``,
``at_6``, ``within_365``), the test as a :class:`~analysis.views.words.Note`; the
chart is drawn by :func:`curves_figure` in the reader's language.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analysis.charts import step_curves
from analysis.constants import DAYS_PER_MONTH, DEFAULT_HORIZONS
from analysis.disclosure import linked_suppression, rate_discloses, truncate_curve
from analysis.errors import AnalysisError
from analysis.i18n import N_, translator
from analysis.results import events_by_horizon
from analysis.survival.competing_risks import OUTCOME_STATE, CumulativeIncidence
from analysis.survival.kaplan_meier import KaplanMeier
from analysis.survival.logrank import logrank_from_day_table
from analysis.views.estimates import (
    format_rate,
    group_sizes,
    view_study,
)
from analysis.views.filters import ViewFilters
from analysis.views.words import Note

#: Months at which the number-at-risk table is shown.
AT_RISK_MONTHS: tuple[int, ...] = (0, 6, 12, 18, 24, 36)
#: A horizon value that is suppressed (fewer than k at risk) or beyond the follow-up.
NOT_SHOWN = "—"
#: Estimator code -> its name (the chart's title).
METHODS = {"km": N_("Kaplan–Meier (1 − survival)"),
           "cif": N_("Cumulative incidence (competing risks)")}


@dataclass(frozen=True)
class Curves:
    """Curves of one breakdown, ready to show.

    Attributes
    ----------
    curves : DataFrame
        ``group, time (days), recidivism, lower, upper, n_risk``, truncated.
    at_risk : DataFrame
        ``group`` then one text column ``at_<m>`` per month of :data:`AT_RISK_MONTHS`.
    horizon_table : DataFrame
        ``group, releases`` and the rate at 1, 2 and 3 years with 95% CI
        (``within_365``...; the code ``suppressed`` for a group not estimated).
    logrank_p : float or None
    test_note : Note
        The test (or why there is none).
    hidden_groups : tuple of str
        Groups with fewer than ``k`` releases (not estimated).
    smallest_group : int or None
        Releases in the smallest group shown (for the small-sample warning).
    """

    method: str
    breakdown: str
    curves: pd.DataFrame
    at_risk: pd.DataFrame
    horizon_table: pd.DataFrame
    logrank_p: float | None
    test_note: Note
    hidden_groups: tuple[str, ...]
    smallest_group: int | None


def _at_risk(day_table: pd.DataFrame, groups, policy) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Numbers at risk per group and month (numeric) and the suppressed text table."""
    removed = day_table["n_event"] + day_table["n_competing"] + day_table["n_censored"]
    counts = pd.DataFrame(
        {f"at_{m}": [int(removed[(day_table["group"] == g)
                                     & (day_table["time"] >= round(m * DAYS_PER_MONTH))].sum())
                         for g in groups]
         for m in AT_RISK_MONTHS},
        index=list(groups),
    )
    mask = at_risk_mask(counts, policy)
    text = counts.astype(str).mask(mask, policy.label)
    return counts, text


def at_risk_mask(counts: pd.DataFrame, policy) -> pd.DataFrame:
    """Cells of a numbers-at-risk table (groups × months) to hide.

    Two kinds of relation let a reader subtract: each month's column adds up to the
    overall number at risk (shown by the view without a breakdown), and along a row
    the number at risk falls by the people who left the risk set in between
    (``at 0 months = at 6 months + left in the first 6 months``), a count that must not
    be 1 to ``k - 1`` either.
    """
    groups, months = list(range(counts.shape[0])), list(range(counts.shape[1]))
    matrix = counts.to_numpy(dtype="int64")
    # cells (group, month), column totals ("total", month) and the people who left
    # between two months ("left", group, month)
    values: dict[Hashable, int] = {(g, m): int(matrix[g, m]) for g in groups for m in months}
    relations: list[tuple[Hashable, list[Hashable]]] = []
    for m in months:
        values[("total", m)] = int(matrix[:, m].sum())
        relations.append((("total", m), [(g, m) for g in groups]))
    for g in groups:
        for m in months[:-1]:
            values[("left", g, m)] = int(matrix[g, m] - matrix[g, m + 1])
            relations.append(((g, m), [(g, m + 1), ("left", g, m)]))
    cells = [(g, m) for g in groups for m in months]
    hidden = linked_suppression(values, relations, policy, published=cells,
                                known=[("total", m) for m in months])
    mask = np.zeros(matrix.shape, dtype=bool)
    for g, m in hidden:
        mask[g, m] = True
    return pd.DataFrame(mask, index=counts.index, columns=counts.columns)


def _fit(table: pd.DataFrame, method: str):
    """Curve table (``group, time, recidivism, lower, upper, n_risk``) and horizon values."""
    if method == "km":
        km = KaplanMeier().fit_day_table(table)
        curve = km.table.rename(columns={"recidivism_lower": "lo", "recidivism_upper": "hi"})
        curve = curve[["group", "time", "recidivism", "lo", "hi", "n_risk"]]
        at = km.at(list(DEFAULT_HORIZONS))[["group", "days", "recidivism", "recidivism_lower",
                                        "recidivism_upper", "n_risk"]]
    else:
        long = table.melt(id_vars=["group", "time"], value_vars=["n_event", "n_competing",
                                                                 "n_censored"],
                          var_name="state", value_name="n")
        long["state"] = long["state"].map({"n_event": OUTCOME_STATE, "n_competing": "competing",
                                           "n_censored": "censored"})
        cif = CumulativeIncidence().fit_long(long[long["n"] > 0])
        curve = cif.table[cif.table["cause"] == OUTCOME_STATE].rename(
            columns={"cif": "recidivism", "lower": "lo", "upper": "hi"})
        curve = curve[["group", "time", "recidivism", "lo", "hi", "n_risk"]]
        at = cif.at(list(DEFAULT_HORIZONS))
        at = at[at["cause"] == OUTCOME_STATE][["group", "days", "cif", "lower", "upper",
                                                "n_risk"]]
    curve = curve.rename(columns={"lo": "lower", "hi": "upper"})
    at.columns = ["group", "days", "recidivism", "lower", "upper", "n_risk"]
    return curve, at


def _truncated(curve: pd.DataFrame, sizes: pd.Series, policy) -> pd.DataFrame:
    parts = []
    for group, part in curve.groupby("group", sort=True):
        start = pd.DataFrame({"group": [group], "time": [0], "recidivism": [0.0],
                              "lower": [0.0], "upper": [0.0], "n_risk": [int(sizes[group])]})
        parts.append(truncate_curve(pd.concat([start, part], ignore_index=True), policy))
    return pd.concat(parts, ignore_index=True)


def recidivism_curves(con: duckdb.DuckDBPyConnection, filters: ViewFilters, *,
                      breakdown: str = "", method: str = "km") -> Curves:
    """Curves, at-risk table, horizon table and log-rank test for a breakdown.

    Parameters
    ----------
    breakdown
        ``""`` for none, else a spec of :func:`analysis.survival.grouping.resolve_grouping`
        (``"sex"``, ``"release_year"``, ``"program:VOC-METAL"``, a covariate...).
    method
        ``"km"`` or ``"cif"`` (see the module docstring).

    Raises
    ------
    AnalysisError
        Unknown breakdown or method, or no release matches the filters.
    """
    if method not in METHODS:
        raise AnalysisError(f"unknown method {method!r}; choose {' or '.join(METHODS)}")
    policy = filters.policy
    table = view_study(con, filters).day_counts(breakdown or None)
    if table.empty:
        raise AnalysisError("no releases match the selection: widen the filters")
    sizes = group_sizes(table)
    shown = [g for g, n in sizes.items() if n >= policy.k]
    hidden = tuple(str(g) for g, n in sizes.items() if n < policy.k)
    counts, at_risk_text = _at_risk(table, list(sizes.index), policy)
    at_risk = at_risk_text.rename_axis("group").reset_index()
    if not shown:
        empty = pd.DataFrame(columns=["group", "time", "recidivism", "lower", "upper",
                                      "n_risk"])
        return Curves(method, breakdown, empty, at_risk,
                      pd.DataFrame(columns=["group", "releases"]), None,
                      Note("all_groups_hidden", {"k": policy.k}), hidden, None)
    kept = table[table["group"].isin(shown)]
    curve, at = _fit(kept, method)
    curve = _truncated(curve, sizes, policy)
    events = events_by_horizon(kept, DEFAULT_HORIZONS)
    too_few = [n_risk < policy.k or rate_discloses(events.get((g, d), 0), sizes[g], policy)
               for g, d, n_risk in zip(at["group"], at["days"], at["n_risk"], strict=True)]
    at.loc[too_few, ["recidivism", "lower", "upper"]] = np.nan
    release_text = at_risk_text["at_0"]
    horizon_table = pd.DataFrame({"group": [str(g) for g in sizes.index],
                                  "releases": release_text.to_numpy()})
    for days in DEFAULT_HORIZONS:
        values = at[at["days"] == days].set_index("group")
        horizon_table[f"within_{days}"] = [
            format_rate(values["recidivism"].get(g), values["lower"].get(g),
                        values["upper"].get(g)) or NOT_SHOWN
            if g in values.index else "suppressed"
            for g in sizes.index]
    if len(shown) > 1:
        test = logrank_from_day_table(kept)
        p = float(test.p)
        code = "logrank" + ("_cif" if method == "cif" else "") + (
            "_small_p" if p < 0.001 else "")
        note = Note(code, {"groups": len(shown), "chi2": f"{test.chi2:.1f}",
                           "df": int(test.df), "p": f"{p:.3g}"})
    else:
        p, note = None, Note("one_group")
    smallest = int(sizes[shown].min())
    return Curves(method, breakdown, curve, at_risk, horizon_table, p, note, hidden,
                  smallest)


def curves_figure(result: Curves, language: str = "en") -> go.Figure:
    """The curves of ``result``, titled and labelled in ``language`` (empty when no group
    could be shown)."""
    if result.smallest_group is None:
        return go.Figure()
    tr = translator(language)
    y_title = (tr("Reoffended") if result.method == "km"
               else tr("Cumulative incidence of reoffending"))
    return step_curves(result.curves, value="recidivism", time_unit="months",
                       y_title=y_title, title=tr(METHODS[result.method]), language=language)
