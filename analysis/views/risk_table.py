"""The risk table under Kaplan–Meier curves: number at risk and cumulative reoffences.

As survminer draws it under a curve (``risk.table = "nrisk_cumevents"``): for each group
and each whole year since release (0, 1, 2, ... years), the releases still at risk and
the releases who had reoffended by then.

Disclosure control is one linear system over every number the curves page shows at
once (the numbers at risk of its month table too, so a count hidden in one table is
hidden in the other), solved by :func:`analysis.disclosure.linked_suppression`:

- each time's column adds up to the number shown without a breakdown (for the numbers
  at risk and for the reoffences);
- along a row the number at risk falls by the people who left the risk set in between,
  and the reoffences grow by those who reoffended in between (counts of people too);
- the releases of a group are those who had reoffended by a time plus those who had
  not, a complement that must not be 1 to ``k - 1`` either ("97 of 100 reoffended"
  names the 3 who did not).

None of those in-between counts may be 1 to ``k - 1`` or be solvable from what is shown.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd

from analysis.constants import DAYS_PER_MONTH
from analysis.disclosure import DisclosurePolicy, determined, linked_suppression
from analysis.i18n import N_, translator

#: Measure code of a risk-table row -> its words.
RISK_MEASURES: dict[str, str] = {"at_risk": N_("Number at risk"),
                                 "events": N_("Reoffended so far")}
#: At most this many years in the table (the demo follows people up to 9 years).
MAX_YEARS = 10


def day_of_month(month: int) -> int:
    """The day since release that month ``month`` starts (the month tables' columns).

    Whole years fall on the days of the rate horizons (years of 365 days), so that a count of this table and a horizon's count of the same people are
    counted to the same day: one day apart, their difference would name the few who
    reoffended on the day between.

    Examples
    --------
    >>> [day_of_month(m) for m in (0, 6, 12, 18, 24, 36)]
    [0, 183, 365, 548, 730, 1095]
    """
    return int(month * 365 / 12 + 0.5)


def risk_years(last_day: float) -> list[int]:
    """Whole years from 0 up to ``last_day`` (the end of the curves shown), at most
    :data:`MAX_YEARS`.

    Examples
    --------
    >>> risk_years(1000), risk_years(0)
    ([0, 1, 2], [0])
    """
    years = int(max(0.0, float(last_day)) // (DAYS_PER_MONTH * 12))
    return list(range(min(years, MAX_YEARS) + 1))


def risk_counts(day_table: pd.DataFrame, groups: Sequence, months: Sequence[int]
                ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Numbers at risk and cumulative outcome events per group (rows) and month (columns).

    At risk at month ``m``: releases whose follow-up lasts to day :func:`day_of_month`
    or longer. Reoffended by month ``m``: outcome events on or before that day (the
    numerator of the rate at that horizon, :func:`analysis.results.events_by_horizon`).

    Examples
    --------
    >>> table = pd.DataFrame({"group": ["a", "a", "a"], "time": [100, 400, 800],
    ...     "n_event": [2, 1, 0], "n_competing": [0, 0, 1], "n_censored": [0, 3, 5]})
    >>> at_risk, events = risk_counts(table, ["a"], [0, 12, 24])
    >>> at_risk.loc["a"].tolist(), events.loc["a"].tolist()
    ([12, 10, 6], [0, 2, 3])
    """
    removed = day_table["n_event"] + day_table["n_competing"] + day_table["n_censored"]
    at_risk, events = {}, {}
    for month in months:
        day = day_of_month(month)
        at_risk[f"at_{month}"] = [int(removed[(day_table["group"] == g)
                                              & (day_table["time"] >= day)].sum())
                                  for g in groups]
        events[f"at_{month}"] = [int(day_table["n_event"][(day_table["group"] == g)
                                                          & (day_table["time"] <= day)].sum())
                                 for g in groups]
    return (pd.DataFrame(at_risk, index=list(groups)),
            pd.DataFrame(events, index=list(groups)))


def risk_masks(at_risk: pd.DataFrame, events: pd.DataFrame | None,
               policy: DisclosurePolicy) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Cells of the numbers at risk and of the cumulative events to hide (see the module
    docstring for the relations). ``events`` may cover fewer months than ``at_risk``
    (its columns a subset), or be ``None``.

    Solved as two linked systems, each a fraction of the size of one (the rank checks
    grow with the cube of the unknowns): the numbers at risk first, then the events,
    which meet them only in each group's releases (the number at risk at 0 months). A
    group's releases that the first system shows, or that a reader can work out from
    it, are known to the second; the others stay unknown there, and the second cannot
    pin them down either (they meet it only through unpublished "not yet" counts).

    Examples
    --------
    Two groups at 0 and 12 months; 3 of group b's 40 left before a year, and 38 of its
    40 reoffended (the 2 who did not would be named):

    >>> at_risk = pd.DataFrame({"at_0": [50, 40], "at_12": [30, 37]}, index=["a", "b"])
    >>> events = pd.DataFrame({"at_0": [0, 0], "at_12": [20, 38]}, index=["a", "b"])
    >>> hide_n, hide_e = risk_masks(at_risk, events, DisclosurePolicy(k=10))
    >>> hide_n.to_numpy().tolist(), hide_e.to_numpy().tolist()
    ([[False, True], [False, True]], [[False, True], [False, True]])
    """
    groups = list(range(at_risk.shape[0]))
    columns = list(at_risk.columns)
    counts = at_risk.to_numpy(dtype="int64")
    values: dict[Hashable, int] = {}
    relations: list[tuple[Hashable, list[Hashable]]] = []
    for m in range(len(columns)):
        values[("total", m)] = int(counts[:, m].sum())
        values.update({("n", g, m): int(counts[g, m]) for g in groups})
        relations.append((("total", m), [("n", g, m) for g in groups]))
    for g in groups:
        for m in range(len(columns) - 1):
            values[("left", g, m)] = int(counts[g, m] - counts[g, m + 1])
            relations.append((("n", g, m), [("n", g, m + 1), ("left", g, m)]))
    published = [("n", g, m) for g in groups for m in range(len(columns))]
    totals = [("total", m) for m in range(len(columns))]
    hidden = linked_suppression(values, relations, policy, published=published, known=totals)
    hide_n = np.zeros(counts.shape, dtype=bool)
    for _, g, m in hidden:  # published keys are 3-tuples
        hide_n[g, m] = True
    mask_n = pd.DataFrame(hide_n, index=at_risk.index, columns=columns)
    if events is None:
        return mask_n, None
    unknown = (set(values) - set(published) - set(totals)) | hidden
    releases_known = {g for g in groups if ("n", g, 0) not in hidden} | {
        key[1] for key in determined(values, relations, unknown)
        if key[0] == "n" and key[2] == 0}
    return mask_n, _events_mask(events, counts[:, 0], releases_known, policy)


def _events_mask(events: pd.DataFrame, releases: np.ndarray, releases_known: set,
                 policy: DisclosurePolicy) -> pd.DataFrame:
    """Cumulative events to hide, given each group's releases (known to a reader or not)."""
    groups = list(range(events.shape[0]))
    cumulative = events.to_numpy(dtype="int64")
    values: dict[Hashable, int] = {("releases", g): int(releases[g]) for g in groups}
    values["all releases"] = int(releases.sum())  # shown without a breakdown
    relations: list[tuple[Hashable, list[Hashable]]] = [
        ("all releases", [("releases", g) for g in groups])]
    for e in range(events.shape[1]):
        values[("events total", e)] = int(cumulative[:, e].sum())
        relations.append((("events total", e), [("e", g, e) for g in groups]))
        for g in groups:
            values[("e", g, e)] = int(cumulative[g, e])
            # releases = reoffended by then + not (yet)
            values[("not yet", g, e)] = int(releases[g] - cumulative[g, e])
            relations.append((("releases", g), [("e", g, e), ("not yet", g, e)]))
    for g in groups:
        for e in range(events.shape[1] - 1):
            values[("new", g, e)] = int(cumulative[g, e + 1] - cumulative[g, e])
            relations.append((("e", g, e + 1), [("e", g, e), ("new", g, e)]))
    published = [("e", g, e) for g in groups for e in range(events.shape[1])]
    known = ["all releases", *(("events total", e) for e in range(events.shape[1])),
             *(("releases", g) for g in releases_known)]
    hidden = linked_suppression(values, relations, policy, published=published, known=known)
    hide_e = np.zeros(cumulative.shape, dtype=bool)
    for _, g, e in hidden:  # published keys are 3-tuples
        hide_e[g, e] = True
    return pd.DataFrame(hide_e, index=events.index, columns=events.columns)


def risk_table(at_risk: pd.DataFrame, events: pd.DataFrame, hide_n: pd.DataFrame,
               hide_e: pd.DataFrame, policy: DisclosurePolicy) -> pd.DataFrame:
    """The risk table, language-free: ``group``, ``measure`` (a code of
    :data:`RISK_MEASURES`) and one text column ``at_<month>`` per year; two rows per
    group (at risk, then reoffended so far), hidden cells ``"<k"``.

    Examples
    --------
    >>> n = pd.DataFrame({"at_0": [50], "at_12": [30]}, index=["a"])
    >>> e = pd.DataFrame({"at_0": [0], "at_12": [20]}, index=["a"])
    >>> hide = n.astype(bool) & False
    >>> risk_table(n, e, hide, hide, DisclosurePolicy()).values.tolist()
    [['a', 'at_risk', '50', '30'], ['a', 'events', '0', '20']]
    """
    columns = list(events.columns)
    shown_n = at_risk[columns].astype(str).mask(hide_n[columns], policy.label)
    shown_e = events.astype(str).mask(hide_e, policy.label)
    rows = []
    for group in at_risk.index:
        rows.append({"group": str(group), "measure": "at_risk", **shown_n.loc[group]})
        rows.append({"group": str(group), "measure": "events", **shown_e.loc[group]})
    return pd.DataFrame(rows, columns=["group", "measure", *columns])


def risk_rows(table: pd.DataFrame, language: str = "en") -> pd.DataFrame:
    """The risk table with its measures in words (for the screen and the downloads; the
    column headers are worded by :func:`analysis.views.words.render_table`).

    Examples
    --------
    >>> table = pd.DataFrame({"group": ["a", "a"], "measure": ["at_risk", "events"],
    ...                       "at_0": ["50", "0"]})
    >>> risk_rows(table, "fr")["measure"].tolist()
    ['Nombre à risque', 'Ont récidivé (cumul)']
    """
    tr = translator(language)
    return table.assign(measure=[tr(RISK_MEASURES[code]) for code in table["measure"]])


def figure_cells(table: pd.DataFrame, groups: Sequence[str]) -> pd.DataFrame:
    """The risk table as the chart draws it: per shown group and year, ``"at risk
    (reoffended)"`` at its time in days (``group``, ``time``, ``text``).

    Examples
    --------
    >>> table = pd.DataFrame({"group": ["a", "a"], "measure": ["at_risk", "events"],
    ...                       "at_0": ["50", "0"], "at_12": ["30", "<10"]})
    >>> figure_cells(table, ["a"]).values.tolist()
    [['a', 0.0, '50 (0)'], ['a', 365.25, '30 (<10)']]
    """
    columns = [c for c in table.columns if c.startswith("at_")]
    rows = []
    for group in groups:
        part = table[table["group"] == str(group)].set_index("measure")
        if part.empty:
            continue
        for column in columns:
            # the month in days unrounded: the chart divides it back to whole months
            rows.append((str(group), int(column[3:]) * DAYS_PER_MONTH,
                         f"{part.loc['at_risk', column]} ({part.loc['events', column]})"))
    return pd.DataFrame(rows, columns=["group", "time", "text"])
