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
horizon is hidden when 1 to ``k - 1`` releases of the group reoffended by then, or did
not. Beside each rate, the people who reoffended by then, shown only beside a shown
rate and hidden with it while a count from 1 to ``k - 1`` could be worked out from
them, the other horizons, the risk table and the selection's totals
(:func:`_reoffended_counts`). The risk table under the chart (number at risk and reoffended so far, each year) is
controlled in one system with the month table (:mod:`analysis.views.risk_table`), so a
number the two share is hidden in both or in neither.

The result is language-free: tables keyed by column codes (``group``, ``releases``,
``at_6``, ``reoffended_365``, ``within_365``), the test as a :class:`~analysis.views.words.Note`; the
chart is drawn by :func:`curves_figure` in the reader's language.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analysis.charts import curve_facets, highlighted_curves, step_curves
from analysis.constants import DEFAULT_HORIZONS
from analysis.disclosure import linked_suppression, rate_discloses, truncate_curve
from analysis.errors import AnalysisError
from analysis.i18n import N_, translator
from analysis.results import events_by_horizon
from analysis.survival.competing_risks import OUTCOME_STATE, CumulativeIncidence
from analysis.survival.kaplan_meier import KaplanMeier
from analysis.survival.logrank import logrank_from_day_table
from analysis.views.estimates import (
    by_rate,
    group_sizes,
    hidden_reoffended,
    overall_reoffended,
    reoffended_cell,
    view_study,
)
from analysis.views.filters import ViewFilters
from analysis.views.risk_table import (
    day_of_month,
    figure_cells,
    risk_counts,
    risk_masks,
    risk_table,
    risk_years,
)
from analysis.views.scope import serves
from analysis.views.words import Note

#: Months at which the number-at-risk table is shown.
AT_RISK_MONTHS: tuple[int, ...] = (0, 6, 12, 18, 24, 36)
#: Estimator code -> its name (the chart's title).
#: Columns of the horizon table (:attr:`Curves.horizon_table`).
HORIZON_COLUMNS: list[str] = ["group", "releases", *(
    f"{name}_{d}{end}" for d in DEFAULT_HORIZONS
    for name, end in (("reoffended", ""), ("within", ""), ("within", "_lower"),
                      ("within", "_upper")))]
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
        One row per group; with a breakdown, the selection's own line first (``group``
        ``all``, as the view without a breakdown shows it), then the groups by their
        one-year rate, highest first. ``group, releases`` (text, as the month table),
        then for each horizon ``d`` of
        365, 730 and 1095 days: ``reoffended_<d>`` (people who reoffended by then, an
        ``int``, or why the rate is missing: ``suppressed`` for a group not estimated,
        ``not_reached`` when fewer than ``k`` are still followed, ``"<k"`` or
        ``hidden``) and the rate ``within_<d>``, ``within_<d>_lower``,
        ``within_<d>_upper`` (shares 0–1, NaN where not shown).
    logrank_p : float or None
    test_note : Note
        The test (or why there is none).
    hidden_groups : tuple of str
        Groups with fewer than ``k`` releases (not estimated).
    smallest_group : int or None
        Releases in the smallest group shown (for the small-sample warning).
    risk_table : DataFrame
        The risk table under the curves (:mod:`analysis.views.risk_table`): ``group``,
        ``measure`` (``at_risk``, ``events``: reoffended so far) and one text column
        ``at_<m>`` per whole year (``at_0``, ``at_12``...) up to the end of the curves.
    overall : DataFrame
        The curve of all releases of the selection (``group`` ``all``), as the view
        without a breakdown shows it: the grey context of the small multiples.
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
    risk_table: pd.DataFrame
    overall: pd.DataFrame


def _at_risk(day_table: pd.DataFrame, groups, policy,
             last_day: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The month table of numbers at risk and the risk table, both as text, hidden cells
    chosen once for the two (:func:`analysis.views.risk_table.risk_masks`): they share
    the numbers at risk at 0, 12, 24 and 36 months."""
    years = [12 * year for year in risk_years(last_day)]
    months = sorted(set(AT_RISK_MONTHS) | set(years))
    at_risk, events = risk_counts(day_table, groups, months)
    events = events[[f"at_{m}" for m in years]]
    hide_n, hide_e = risk_masks(at_risk, events, policy)
    columns = [f"at_{m}" for m in AT_RISK_MONTHS]
    text = at_risk[columns].astype(str).mask(hide_n[columns], policy.label)
    return text, risk_table(at_risk, events, hide_n, hide_e, policy)


def at_risk_mask(counts: pd.DataFrame, policy) -> pd.DataFrame:
    """Cells of a numbers-at-risk table (groups × months) to hide.

    Two kinds of relation let a reader subtract: each month's column adds up to the
    overall number at risk (shown by the view without a breakdown), and along a row
    the number at risk falls by the people who left the risk set in between
    (``at 0 months = at 6 months + left in the first 6 months``), a count that must not
    be 1 to ``k - 1`` either. (:func:`analysis.views.risk_table.risk_masks` without
    the cumulative events.)
    """
    return risk_masks(counts, None, policy)[0]


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


@serves("recidivism")
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
    if not shown:
        empty = pd.DataFrame(columns=["group", "time", "recidivism", "lower", "upper",
                                      "n_risk"])
        at_risk_text, risks = _at_risk(table, list(sizes.index), policy, 0)
        return Curves(method, breakdown, empty, at_risk_text.rename_axis("group").reset_index(),
                      pd.DataFrame(columns=HORIZON_COLUMNS), None,
                      Note("all_groups_hidden", {"k": policy.k}), hidden, None, risks, empty)
    kept = table[table["group"].isin(shown)]
    curve, at = _fit(kept, method)
    curve = _truncated(curve, sizes, policy)
    overall = _overall(table, method, policy) if breakdown else curve
    # the risk table runs to the end of the curves (the x axis)
    at_risk_text, risks = _at_risk(table, list(sizes.index), policy,
                                   float(curve["time"].max()))
    at_risk = at_risk_text.rename_axis("group").reset_index()
    events = events_by_horizon(kept, DEFAULT_HORIZONS)
    too_few = [n_risk < policy.k or rate_discloses(events.get((g, d), 0), sizes[g], policy)
               for g, d, n_risk in zip(at["group"], at["days"], at["n_risk"], strict=True)]
    at.loc[too_few, ["recidivism", "lower", "upper"]] = np.nan
    release_cells = at_risk_text["at_0"]
    horizon_table = pd.DataFrame({"group": [str(g) for g in sizes.index],
                                  "releases": release_cells.to_numpy()})
    counts = _reoffended_counts(table, at, sizes, release_cells, risks, policy,
                                pooled=not breakdown)
    for days in DEFAULT_HORIZONS:
        values = at[at["days"] == days].set_index("group")
        count = counts[days]
        horizon_table[f"reoffended_{days}"] = count.to_numpy()
        # a rate beside a hidden count is hidden with it (rate × releases ≈ the count)
        for end, column in (("", "recidivism"), ("_lower", "lower"), ("_upper", "upper")):
            horizon_table[f"within_{days}{end}"] = [
                float(values[column].get(g, np.nan))
                if isinstance(count[g], int | np.integer) else np.nan
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
    horizon_table = horizon_table[HORIZON_COLUMNS]
    if breakdown:
        # The selection's own line first — the view without a breakdown, so the same
        # numbers as there — then the groups, highest one-year rate first.
        pooled = recidivism_curves(con, filters, method=method).horizon_table
        horizon_table = pd.concat(
            [pooled, by_rate(horizon_table, f"within_{DEFAULT_HORIZONS[0]}")],
            ignore_index=True)
    return Curves(method, breakdown, curve, at_risk, horizon_table, p, note,
                  hidden, smallest, risks, overall)


def _reoffended_counts(table: pd.DataFrame, at: pd.DataFrame, sizes: pd.Series,
                       release_cells: pd.Series, risks: pd.DataFrame, policy, *,
                       pooled: bool) -> dict[int, pd.Series]:
    """People who reoffended by each horizon, per group, as the horizon table shows
    them: an ``int`` beside a shown rate, else why not — ``"suppressed"`` (group not
    estimated), ``"not_reached"`` (fewer than ``k`` still followed), ``"<k"`` or
    ``"hidden"`` (:func:`~analysis.views.estimates.reoffended_cell`).

    Each horizon is hidden as the Subgroups tables hide theirs
    (:func:`~analysis.views.estimates.hidden_reoffended`, the selection's own count as
    :func:`~analysis.views.estimates.overall_reoffended` shows it); then
    :func:`_chain_hidden` hides more while the page's other counts (the other horizons,
    the risk table's reoffended so far) would give a small count away. Without a
    breakdown (``pooled``) the one line is the selection: its counts are the Overview's
    (:func:`~analysis.views.estimates.overall_reoffended`).
    """
    horizons = [int(d) for d in DEFAULT_HORIZONS]
    groups = list(sizes.index)
    rates = at.set_index(["group", "days"])
    events = events_by_horizon(table, horizons)
    _, overall = overall_reoffended(table, horizons, policy)
    size_shown = [g for g in groups if str(release_cells[g]).isdigit()]
    hide: set[tuple] = {(g, d) for g in groups for d in horizons if overall[d] is None}
    if pooled:
        return _cells(events, rates, sizes, hide, policy)
    for days in horizons:
        missing = [g for g in groups if g not in size_shown or overall[days] is None
                   or not np.isfinite(rates["recidivism"].get((g, days), np.nan))]
        on_day = {g: events.get((g, days), 0) for g in groups}
        hide |= {(g, days) for g in hidden_reoffended(
            sizes.to_dict(), on_day, size_shown, missing, [groups], policy)}
    hide |= _chain_hidden(table, sizes, size_shown, hide, risks, overall, policy)
    return _cells(events, rates, sizes, hide, policy)


def _cells(events: dict, rates: pd.DataFrame, sizes: pd.Series, hide: set, policy
           ) -> dict[int, pd.Series]:
    """The cells of :func:`_reoffended_counts` per horizon, given the counts to hide."""
    groups = list(sizes.index)
    counts = {}
    for days in DEFAULT_HORIZONS:
        cells: list[object] = []
        for g in groups:
            if sizes[g] < policy.k:
                cells.append("suppressed")
            elif rates["n_risk"].get((g, days), 0) < policy.k:
                cells.append("not_reached")
            elif (g, days) in hide:
                cells.append(reoffended_cell(events.get((g, days), 0), policy))
            else:
                cells.append(int(events.get((g, days), 0)))
        counts[days] = pd.Series(cells, index=groups, dtype=object)
    return counts


#: The group key of the selection's own counts in :func:`_chain_hidden` (a group is
#: a text: none is this tuple).
_TOTAL = ("selection",)


def _chain_hidden(table: pd.DataFrame, sizes: pd.Series, size_shown: list, hidden: set,
                  risks: pd.DataFrame, overall: dict, policy) -> set[tuple]:
    """``(group, days)`` counts of reoffenders to hide (``hidden`` among them) so that,
    with every other count of reoffenders the page shows, none from 1 to ``k - 1`` can
    be worked out.

    A group's reoffenders by a horizon, by another horizon and by each whole year of the
    risk table (day 1096 for three years, the horizon being 1095) differ by those who
    reoffended in between, and its releases minus them are those who did not; each
    column adds up to the selection's count (taken as known wherever the Overview or the
    risk table without a breakdown may show it). The risk table's shown counts are
    known, its hidden ones unknown (a count both tables hold is hidden in both).
    """
    horizons = [int(d) for d in DEFAULT_HORIZONS]
    groups = list(sizes.index)
    events_rows = risks[risks["measure"] == "events"].set_index("group")
    risk_days = {day_of_month(int(c[3:])): c for c in risks.columns
                 if c.startswith("at_") and c != "at_0"}
    days = sorted(set(horizons) | set(risk_days))
    events = events_by_horizon(table, days)
    values: dict[Hashable, int] = {"N": int(sizes.sum())}
    relations: list[tuple[Hashable, list[Hashable]]] = []
    known: list[Hashable] = [] if policy.hides(values["N"]) else ["N"]
    known += [("n", g) for g in size_shown]
    withheld = [("e", g, d) for g, d in hidden]
    sequences = [horizons, sorted(risk_days), days]
    for g in groups:
        values[("n", g)] = int(sizes[g])
        for d in days:
            values[("e", g, d)] = int(events.get((g, d), 0))
            values[("r", g, d)] = int(sizes[g]) - values[("e", g, d)]
            relations.append((("n", g), [("e", g, d), ("r", g, d)]))
            if d in risk_days:
                cell = str(events_rows.loc[str(g), risk_days[d]])
                if cell.isdigit():
                    known.append(("e", g, d))
                elif d in horizons:
                    withheld.append(("e", g, d))
    for d in days:
        values[("e", _TOTAL, d)] = sum(values[("e", g, d)] for g in groups)
        values[("r", _TOTAL, d)] = values["N"] - values[("e", _TOTAL, d)]
        relations += [(("e", _TOTAL, d), [("e", g, d) for g in groups]),
                      ("N", [("e", _TOTAL, d), ("r", _TOTAL, d)])]
        if d in risk_days or overall.get(d) is not None:
            known.append(("e", _TOTAL, d))
    relations.append(("N", [("n", g) for g in groups]))
    for g in [*groups, _TOTAL]:
        for sequence in sequences:
            for before, after in zip(sequence, sequence[1:], strict=False):
                key = ("b", g, before, after)
                if key not in values:
                    values[key] = values[("e", g, after)] - values[("e", g, before)]
                    relations.append((("e", g, after), [("e", g, before), key]))
    published = [("e", g, d) for g in groups for d in horizons]
    hide = linked_suppression(values, relations, policy, published=published,
                              known=[key for key in known if key not in withheld],
                              hidden=withheld)
    return {(key[1], key[2]) for key in hide if key[0] == "e" and key[1] != _TOTAL}


def _overall(table: pd.DataFrame, method: str, policy) -> pd.DataFrame:
    """The curve of every release of ``table`` (groups pooled), as the view without a
    breakdown draws it."""
    pooled = (table.assign(group="all").groupby(["group", "time"], as_index=False, sort=True)
              [["n_event", "n_competing", "n_censored"]].sum())
    curve, _ = _fit(pooled, method)
    return _truncated(curve, group_sizes(pooled), policy)


#: How the curves of a breakdown are drawn (the page offers the last two past
#: :data:`~analysis.charts.MANY_GROUPS` groups).
LAYOUTS = {"overlay": N_("All in one chart"), "facets": N_("One small chart per group"),
           "highlight": N_("One group highlighted")}


def curves_figure(result: Curves, language: str = "en", *, layout: str = "overlay",
                  highlight: str | None = None, risk_table: bool = True) -> go.Figure:
    """The curves of ``result``, titled and labelled in ``language`` (empty when no group
    could be shown).

    Parameters
    ----------
    layout : str, default "overlay"
        A code of :data:`LAYOUTS`: every curve in one chart, with the risk table under
        it (:mod:`analysis.views.risk_table`) when ``risk_table``; ``"facets"``: one
        small chart per group with the curve of all releases in grey behind
        (:func:`~analysis.charts.curve_facets`); ``"highlight"``: every group in grey and
        ``highlight`` (default: the first group) in colour
        (:func:`~analysis.charts.highlighted_curves`). Without a breakdown there is one
        curve, drawn as ``"overlay"``.
    """
    if result.smallest_group is None:
        return go.Figure()
    if layout not in LAYOUTS:
        raise AnalysisError(f"unknown layout {layout!r}; choose {', '.join(LAYOUTS)}")
    tr = translator(language)
    y_title = (tr("Reoffended") if result.method == "km"
               else tr("Cumulative incidence of reoffending"))
    title = tr(METHODS[result.method])
    common: dict[str, Any] = {"value": "recidivism", "time_unit": "months",
                              "y_title": y_title, "title": title, "language": language}
    groups = list(dict.fromkeys(result.curves["group"]))
    if layout == "facets" and result.breakdown:
        return curve_facets(result.curves, overall=result.overall, **common)
    if layout == "highlight" and result.breakdown:
        chosen = str(highlight if highlight in groups else groups[0])
        return highlighted_curves(result.curves, highlight=chosen, **common)
    # without a breakdown the one group is the code "all", worded; groups are data otherwise
    cells = figure_cells(result.risk_table, groups) if risk_table else None
    return step_curves(result.curves, series_codes=not result.breakdown, risk_table=cells,
                       risk_title=tr("Number at risk (reoffended so far)"), **common)
