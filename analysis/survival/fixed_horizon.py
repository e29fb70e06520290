"""Fixed-horizon recidivism rates: the classic "% reoffending within 1, 2, 3 years".

A release counts towards the rate at horizon ``h`` days only when its outcome at ``h``
is *known* and its cohort could be watched for the whole period:

1. **eligible cohort**: the data could follow it at least ``h`` days
   (``follow_up_end - release_date >= h``). Without this rule, recent releases would
   enter only when they reoffend quickly (their non-reoffenders are not yet followed
   for ``h`` days), which inflates the rate. A competing end (death, deportation,
   emigration) before ``h`` sets ``follow_up_end`` before ``h``: such releases are
   **excluded** — the rate reads "among people who could be observed for the whole
   period" (the cumulative incidence in :mod:`analysis.survival.competing_risks`
   keeps them instead);
2. among eligible releases: reoffended on or before day ``h`` → in the numerator and
   denominator; followed to day ``h`` or later without reoffending → denominator only;
   follow-up cut before ``h`` by a next release or a reincarceration that is not the
   outcome → **excluded** (unknown).

The rate comes with an exact Clopper–Pearson binomial CI. It is shown beside the
Kaplan–Meier estimate at the same horizon, which uses every release; the two agree
when nobody is censored before ``h``.

Examples
--------
>>> import pandas as pd
>>> eps = pd.DataFrame({"time": [100, 200, 400, 90], "event": [1, 0, 0, 1],
...                     "potential": [1000, 200, 1000, 300]})
>>> rates = fixed_horizon_rates(eps, [365])
>>> int(rates.n[0]), int(rates.events[0]), float(rates.rate[0])
(2, 1, 0.5)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint

from analysis.survival.episodes import (
    GROUP_KEY,
    CachedEpisodes,
    Outcome,
    Selection,
    episodes_query,
    resolve_source,
)
from analysis.survival.grouping import Grouping

#: Columns of :func:`fixed_horizon_rates`.
RATE_COLUMNS = ("group", "days", "n", "events", "excluded", "rate", "lower", "upper")


def clopper_pearson(events: int, n: int, conf_level: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper–Pearson) binomial CI for ``events / n``; NaN when ``n == 0``.

    Computed by statsmodels' ``proportion_confint(method="beta")``: the beta quantiles,
    with the lower bound 0 when ``events == 0`` and the upper bound 1 when
    ``events == n``.

    Examples
    --------
    >>> [round(x, 4) for x in clopper_pearson(3, 10)]
    [0.0667, 0.6525]
    """
    if n == 0:
        return float("nan"), float("nan")
    lower, upper = proportion_confint(events, n, alpha=1 - conf_level, method="beta")
    return float(lower), float(upper)


def _finish(counts: pd.DataFrame, conf_level: float) -> pd.DataFrame:
    rows = []
    for r in counts.itertuples(index=False):
        lower, upper = clopper_pearson(int(r.events), int(r.n), conf_level)
        rows.append({"group": r.group, "days": int(r.days), "n": int(r.n),
                     "events": int(r.events), "excluded": int(r.total - r.n),
                     "rate": r.events / r.n if r.n else np.nan, "lower": lower, "upper": upper})
    return pd.DataFrame(rows, columns=list(RATE_COLUMNS))


def fixed_horizon_rates(episodes: pd.DataFrame, horizons, group_col: str | None = None,
                        conf_level: float = 0.95) -> pd.DataFrame:
    """Rates from a per-release frame with ``time``, ``event`` and ``potential``.

    ``potential`` is the days the data could follow the release
    (``follow_up_end - release_date``). Returns :data:`RATE_COLUMNS`.
    """
    frame = episodes.assign(group="all" if group_col is None else episodes[group_col])
    rows = []
    for group, g in frame.groupby("group", sort=True):
        t, e, pot = g["time"].to_numpy(), g["event"].to_numpy() == 1, g["potential"].to_numpy()
        for h in horizons:
            eligible = pot >= h
            hit = eligible & e & (t <= h)
            known = hit | (eligible & (t >= h))
            rows.append({"group": group, "days": h, "n": int(known.sum()),
                         "events": int(hit.sum()), "total": len(g)})
    return _finish(pd.DataFrame(rows, columns=["group", "days", "n", "events", "total"]),
                   conf_level)


def fixed_horizon_rates_from_db(con, horizons, outcome: Outcome | None = None,
                                selection: Selection | None = None,
                                grouping: Grouping | None = None, conf_level: float = 0.95,
                                cached: CachedEpisodes | None = None) -> pd.DataFrame:
    """Rates per group and horizon, counted inside DuckDB. Returns :data:`RATE_COLUMNS`.

    Rows are grouped on the ``grouping``'s raw value and labelled on the aggregate, as
    in :func:`~analysis.survival.grouping.day_counts_by` (default: everyone, ``all``).
    :meth:`analysis.study.Study.fixed_horizon_rates` is the public way in.
    """
    grouping = grouping or Grouping(None)
    types, source = resolve_source(con, outcome, cached)
    select = f"""{grouping.key_sql} AS {GROUP_KEY}, h.days AS days,
        count(*) FILTER (WHERE follow_up_end - release_date >= h.days
                         AND ((event = 1 AND time <= h.days) OR time >= h.days)) AS n,
        count(*) FILTER (WHERE follow_up_end - release_date >= h.days
                         AND event = 1 AND time <= h.days) AS events,
        count(*) AS total"""
    sql, params = episodes_query(
        con, types, selection, select=select,
        tail=", (SELECT unnest($fh_days) AS days) h GROUP BY ALL", source=source,
        params={**grouping.params, "fh_days": [int(h) for h in horizons]})
    # labelled on the aggregate; grouped again as two raw values may share a label
    counts = con.execute(f"""
        SELECT {grouping.label_sql} AS "group", days, CAST(sum(n) AS BIGINT) AS n,
               CAST(sum(events) AS BIGINT) AS events, CAST(sum(total) AS BIGINT) AS total
        FROM ({sql}) GROUP BY ALL ORDER BY 1, 2""", params).df()
    return _finish(counts, conf_level)
