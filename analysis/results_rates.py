"""What a :class:`~analysis.study.Study` returns for fixed-horizon rates.

As in :mod:`analysis.results`: a frozen object with tidy ``summary``/``table`` frames,
``as_dict(policy)`` and ``_repr_html_``; :meth:`FixedHorizonAnalysis.shown` is the
``complete`` columns of ``desist km``'s text output.

Examples
--------
>>> import analysis as ds, tempfile, pathlib
>>> db = pathlib.Path(tempfile.mkdtemp()) / "demo.duckdb"
>>> _ = ds.build_demo(db, releases=1000)
>>> with ds.open_study(db) as study:
...     rates = study.fixed_horizon_rates([365], by="sex")
>>> rates.shown(ds.DisclosurePolicy(k=10))["group"].tolist()
['F', 'M']
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from analysis.disclosure import (
    DisclosurePolicy,
    disclosure_block,
    linked_suppression,
    rate_discloses,
)
from analysis.results import html_block, number_or_none
from analysis.survival.episodes import Outcome, Selection
from analysis.survival.grouping import Grouping


def complete_counts_hidden(rates: pd.DataFrame, releases: int,
                           policy: DisclosurePolicy) -> set[int]:
    """Horizons whose count of releases with complete follow-up must be hidden.

    Each horizon splits the group's releases (a published total) into those with
    complete follow-up (shown) and those excluded (not shown): ``releases = n + excluded``.

    Examples
    --------
    >>> rates = pd.DataFrame({"days": [365, 730], "n": [95, 60], "excluded": [5, 40]})
    >>> sorted(complete_counts_hidden(rates, 100, DisclosurePolicy(k=10)))
    [365]
    """
    values: dict = {"releases": int(releases)}
    relations = []
    for row in rates.itertuples():
        values[("n", row.days)] = int(row.n)
        values[("excluded", row.days)] = int(row.excluded)
        relations.append(("releases", [("n", row.days), ("excluded", row.days)]))
    published = ["releases", *(("n", d) for d in rates["days"])]
    hidden = linked_suppression(values, relations, policy, published=published)
    return {key[1] for key in hidden if key != "releases"}



@dataclass(frozen=True)
class FixedHorizonAnalysis:
    """"% reoffending within N days" among releases whose whole horizon is observed.

    Attributes
    ----------
    rates : DataFrame
        :data:`~analysis.survival.fixed_horizon.RATE_COLUMNS`: ``group, days, n,
        events, excluded, rate, lower, upper`` (exact Clopper–Pearson CI).
    grouping : Grouping
    outcome, selection : Outcome, Selection
    """

    rates: pd.DataFrame
    grouping: Grouping
    outcome: Outcome
    selection: Selection

    @property
    def summary(self) -> pd.DataFrame:
        """Per group, its releases (the same at every horizon: ``n + excluded``)."""
        first = self.rates.drop_duplicates("group")
        return pd.DataFrame({"group": first["group"].to_numpy(),
                             "releases": (first["n"] + first["excluded"]).to_numpy()})

    @property
    def table(self) -> pd.DataFrame:
        """One row per group and horizon (:attr:`rates`)."""
        return self.rates

    def shown(self, policy: DisclosurePolicy) -> pd.DataFrame:
        """:attr:`rates` as they may be shown: ``None`` for hidden counts and rates.

        A horizon's ``n`` is hidden when it, or the releases excluded beside it, could
        reveal 1 to k-1 people; its rate and CI when ``n`` is hidden or the rate rule
        (:func:`~analysis.disclosure.rate_discloses`) applies. ``events`` and
        ``excluded`` are never shown.
        """
        parts = []
        for group, part in self.rates.groupby("group", sort=False):
            releases = int(part["n"].iloc[0] + part["excluded"].iloc[0])
            hidden_n = complete_counts_hidden(part, releases, policy)
            for r in part.sort_values("days").itertuples(index=False):
                masked = rate_discloses(r.events, r.n, policy) or r.days in hidden_n
                parts.append({"group": group, "days": int(r.days),
                              "n": None if r.days in hidden_n else int(r.n),
                              **{name: None if masked else number_or_none(getattr(r, name))
                                 for name in ("rate", "lower", "upper")}})
        # object columns: a hidden value stays None, not NaN
        return pd.DataFrame(parts, columns=["group", "days", "n", "rate", "lower", "upper"],
                            dtype=object)

    def as_dict(self, policy: DisclosurePolicy | None = None, *, unsafe: bool = False
                ) -> dict:
        """The rates under ``policy``: ``{"disclosure", "rates": [{group, days, n, rate,
        lower, upper}]}``.

        Parameters
        ----------
        policy : DisclosurePolicy, optional
            Default k = 10.
        unsafe : bool
            As for :meth:`KaplanMeierAnalysis.as_dict`.

        Returns
        -------
        dict
        """
        policy = policy or DisclosurePolicy()
        shown = self.shown(policy)
        hidden = int(shown[["n", "rate", "lower", "upper"]].isna().sum().sum()
                     - self.rates[["rate", "lower", "upper"]].isna().sum().sum())
        records = [{key: (None if isinstance(value, float) and math.isnan(value) else value)
                    for key, value in row.items()} for row in shown.to_dict("records")]
        return {"disclosure": disclosure_block(policy.k, unsafe=unsafe, hidden=hidden),
                "rates": records}

    def _repr_html_(self) -> str:
        return html_block(f"Complete-follow-up rates by {self.grouping.label}",
                          [("rates", self.rates)])
