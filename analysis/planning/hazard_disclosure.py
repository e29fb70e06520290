"""Which numbers of a monthly life table may be shown: one linear system per group.

A month's hazard and its Wilson interval are two equations in its events ``d`` and its
effective number at risk ``n - c/2``: from ``hazard, lower, upper`` a reader solves both,
and with the number at risk shown, the censored too. So a month's estimate is shown only
where its three counts are, and the counts are protected as one system
(:func:`analysis.disclosure.linked_suppression`), in which none of these may be 1 to
``k - 1`` or be worked out from what is shown:

* the counts of each month: at risk ``n_m``, events ``d_m``, censored ``c_m``;
* those who left in a month, ``left_m = d_m + c_m = n_m - n_{m+1}``, and those still
  followed after the last month published (every month up to 12 is in the system, shown
  or not, because the shares rest on them);
* the first-year shares, taken as showing the reoffenders by the end of months 1, 3
  and 6 (``E_m = d_1 + ... + d_m``; the share is ``E_m / E_12`` when nobody is censored),
  and the reoffenders of the first year ``E_12``, who are known from the dashboard's risk
  table; a share is also hidden by the rate rule (``E_12`` below ``k``, ``E_m`` or
  ``E_12 - E_m`` from 1 to ``k - 1``);
* what other outputs of the same selection show to the same day: the releases of the
  group (``n_1``), ``desist km``'s total of reoffenders, the reoffenders by 24 and 36
  months (risk table), and the numbers at risk on the days of months 6, 12, 18, 24 and
  36 (month table, ``desist km``'s default horizons). Those count the people followed
  *to* the day (``n_{m+1}`` plus those who left on the day itself), so the people who
  left on the day and the others who left in the month are counts of the system too.

Every one of those outside numbers is taken as known to the reader, whether or not the
other output hides it: that can only hide more here.
"""

from __future__ import annotations

from collections.abc import Hashable

import pandas as pd

from analysis.disclosure import DisclosurePolicy, linked_suppression, rate_discloses

#: Months on whose last day other outputs count the people at risk (the dashboard's
#: month table at 6, 12, 18, 24, 36 months; ``desist km``'s default horizons, 1 to 3 years).
OUTSIDE_AT_RISK_MONTHS: tuple[int, ...] = (6, 12, 18, 24, 36)
#: Months by whose end other outputs count the reoffenders (the risk table's years).
OUTSIDE_EVENTS_MONTHS: tuple[int, ...] = (12, 24, 36)
SHARE_MONTHS: tuple[int, ...] = (1, 3, 6)
FIRST_YEAR = 12


def hidden_cells(inner: pd.DataFrame, day_table: pd.DataFrame, published_months: int,
                 policy: DisclosurePolicy) -> set[tuple[str, int]]:
    """The cells of one group to hide: ``(name, month)`` pairs.

    Parameters
    ----------
    inner : DataFrame
        The group's life table (``month, at_risk, events, censored, end_day``) over at
        least 12 months, more when more are published.
    day_table : DataFrame
        The group's per-day counts (``time, n_event, n_competing, n_censored``).
    published_months : int
        Months shown (the first ones of ``inner``).
    policy : DisclosurePolicy

    Returns
    -------
    set
        ``("at_risk" | "events" | "censored" | "hazard", month)`` and
        ``("share", months)`` to show as hidden.

    Examples
    --------
    Twenty releases: 3 reoffend in month 1, the 17 others are followed past two years.
    The 3 are hidden, and so is every number that gives them away: the month's
    censored (0), the 17 at risk in month 2 and, so that those cannot be worked out
    from below, month 2's events and censored; the shares of 3 reoffenders too.

    >>> import pandas as pd
    >>> from analysis.planning.hazard import life_table
    >>> days = pd.DataFrame({"group": ["a", "a"], "time": [5, 800], "n_event": [3, 0],
    ...                      "n_competing": [0, 0], "n_censored": [0, 17]})
    >>> hide = hidden_cells(life_table(days, 12), days, 2, DisclosurePolicy(k=10))
    >>> sorted(hide)  # doctest: +NORMALIZE_WHITESPACE
    [('at_risk', 2), ('censored', 1), ('censored', 2), ('events', 1), ('events', 2),
     ('hazard', 1), ('hazard', 2), ('share', 1), ('share', 3), ('share', 6)]
    """
    counts = inner.set_index("month")
    last = int(counts.index.max())
    values: dict[Hashable, int] = {}
    relations: list[tuple[Hashable, list[Hashable]]] = []
    for m, row in counts.iterrows():
        values[("at_risk", m)] = int(row["at_risk"])
        values[("events", m)] = int(row["events"])
        values[("censored", m)] = int(row["censored"])
        values[("left", m)] = int(row["events"] + row["censored"])
        relations += [(("at_risk", m), [("at_risk", m + 1), ("left", m)]),
                      (("left", m), [("events", m), ("censored", m)])]
    values[("at_risk", last + 1)] = int(counts.loc[last, "at_risk"] - values[("left", last)])
    cumulative = counts["events"].cumsum()
    for m in sorted({*SHARE_MONTHS, FIRST_YEAR, *OUTSIDE_EVENTS_MONTHS}):
        if m <= last:
            values[("by", m)] = int(cumulative.loc[m])
            relations.append((("by", m), [("events", j) for j in range(1, m + 1)]))
    for m in SHARE_MONTHS:  # the first year's reoffenders: by month m, or later
        values[("after", m)] = values[("by", FIRST_YEAR)] - values[("by", m)]
        relations.append((("by", FIRST_YEAR), [("by", m), ("after", m)]))
    time = day_table["time"].to_numpy()
    removed = (day_table["n_event"] + day_table["n_competing"]
               + day_table["n_censored"]).to_numpy()
    for m in OUTSIDE_AT_RISK_MONTHS:
        if m <= last:
            on_day = int(removed[time == int(counts.loc[m, "end_day"])].sum())
            earlier = values[("left", m)] - on_day
            values[("outside_at_risk", m)] = values[("at_risk", m + 1)] + on_day
            # A part that is 0 is left out, as if the reader knew it: a sum of counts
            # that is 0 tells that each part is, which linear algebra alone cannot see.
            parts: list[Hashable] = [("at_risk", m + 1)]
            if on_day and earlier:
                values[("on_day", m)], values[("earlier", m)] = on_day, earlier
                relations.append((("left", m), [("on_day", m), ("earlier", m)]))
                parts.append(("on_day", m))
            elif on_day:  # everyone who left in the month left on its last day
                parts.append(("left", m))
            relations.append((("outside_at_risk", m), parts))
    values["all_events"] = int(day_table["n_event"].sum())
    values["events_later"] = values["all_events"] - int(cumulative.loc[last])
    relations.append(("all_events", [*(("events", m) for m in range(1, last + 1)),
                                     "events_later"]))
    shown_months = range(1, published_months + 1)
    published = [(name, m) for m in shown_months for name in ("at_risk", "events", "censored")]
    published += [("by", m) for m in SHARE_MONTHS]
    known = [("at_risk", 1), "all_events",
             *(("by", m) for m in OUTSIDE_EVENTS_MONTHS if m <= last),
             *(("outside_at_risk", m) for m in OUTSIDE_AT_RISK_MONTHS if m <= last)]
    year = values[("by", FIRST_YEAR)]
    by_rate = {("by", m) for m in SHARE_MONTHS
               if year == 0 or rate_discloses(values[("by", m)], year, policy)}
    first = _structural(values, published_months, last, policy, by_rate)
    hide = linked_suppression(values, relations, policy, published=published, known=known,
                              hidden=first)
    cells: set[tuple[str, int]] = {key for key in hide if key[0] != "by"}
    for m in shown_months:
        if cells & {("at_risk", m), ("events", m), ("censored", m)} or rate_discloses(
                values[("events", m)], values[("at_risk", m)], policy):
            cells.add(("hazard", m))
    cells |= {("share", key[1]) for key in hide if key[0] == "by"}
    return cells


def _structural(values: dict, months: int, last: int, policy: DisclosurePolicy,
                hidden: set) -> set:
    """The cells the table's own structure hides, before the exact check.

    The generic search of :func:`~analysis.disclosure.linked_suppression` finds a
    protection but, one cell at a time over a hundred linked counts, slowly and with
    more holes than needed. The table's structure says where to look:

    * a month's events and censored go together: their sum is known (``n_m - n_{m+1}``),
      so one hidden gives the other away;
    * a small number leaving in a month (in all, or on the day other outputs count the
      people at risk) is protected by hiding the next month's number at risk, and with
      it that month's events and censored (else ``n_{m+1} = n_{m+2} + d + c``);
    * the events of the months between two cumulative counts a reader has (the shares'
      months 1, 3, 6, then 12, 24, 36) add up to a known number: a lone hidden one is
      joined by the smallest other.

    :func:`~analysis.disclosure.linked_suppression` then checks the result exactly and
    adds what is still needed.
    """
    hide = set(hidden)
    small = policy.hides

    def pair(m: int) -> None:
        if m <= months:
            hide.update({("events", m), ("censored", m)})

    cuts = [0, *(m for m in (*SHARE_MONTHS, FIRST_YEAR, *OUTSIDE_EVENTS_MONTHS[1:])
                 if m <= last)]
    blocks = [range(lo + 1, hi + 1) for lo, hi in zip(cuts, cuts[1:], strict=False)]
    size = -1
    while size != len(hide):
        size = len(hide)
        for m in range(1, months + 1):
            if hide & {("events", m), ("censored", m)} or small(values[("events", m)]) or (
                    small(values[("censored", m)])):
                pair(m)
            if small(values[("left", m)]) or small(values.get(("on_day", m), 0)):
                pair(m)
                if m < months:
                    hide.add(("at_risk", m + 1))
                    pair(m + 1)
            if small(values[("at_risk", m)]) and m > 1:
                hide.add(("at_risk", m))
                pair(m - 1)
                pair(m)
        for block in blocks:
            unknown = [j for j in block if j > months or ("events", j) in hide]
            visible = [j for j in block if j not in unknown and values[("events", j)] > 0]
            if len(unknown) == 1 and visible:
                pair(min(visible, key=lambda j: (values[("events", j)], j)))
    return hide
