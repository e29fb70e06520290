"""What a :class:`~analysis.study.Study` returns for curves and rates: frozen result objects.

Each one carries numbers and codes only (no sentences), with

* ``summary`` and ``table``: tidy DataFrames (one row per group; one row per group and
  time or horizon);
* ``as_dict(policy, ...)``: the ``--json`` contract of the matching ``desist`` command,
  disclosure block and suppression included — a terminal's output is easily pasted
  into an e-mail, so the CLI prints exactly this;
* ``_repr_html_``: how a notebook shows it.

The suppression rules themselves live in :mod:`analysis.disclosure`; here they are
applied to each result the one way every output shares.

Examples
--------
>>> import duckdb
>>> from analysis.demo.build import build_demo
>>> import analysis as ds, tempfile, pathlib
>>> db = pathlib.Path(tempfile.mkdtemp()) / "demo.duckdb"
>>> _ = build_demo(db, releases=1000)
>>> with ds.open_study(db) as study:
...     km = study.kaplan_meier(by="sex")
>>> sorted(km.as_dict(ds.DisclosurePolicy(k=10)))
['disclosure', 'event_types', 'groups', 'logrank']
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

import pandas as pd

from analysis.constants import DEFAULT_HORIZONS
from analysis.disclosure import (
    DisclosurePolicy,
    disclosure_block,
    group_summary_hidden,
    rate_discloses,
)
from analysis.survival.competing_risks import CumulativeIncidenceResult
from analysis.survival.episodes import Outcome, Selection
from analysis.survival.grouping import Grouping
from analysis.survival.kaplan_meier import KaplanMeierResult
from analysis.survival.logrank import LogRankResult


def number_or_none(value: Any) -> float | None:
    """``value`` as a float, or ``None`` for a missing value or NaN (JSON's null).

    Examples
    --------
    >>> number_or_none(float("nan")) is None, number_or_none(3)
    (True, 3.0)
    """
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def html_block(title: str, frames: Iterable[tuple[str, pd.DataFrame]]) -> str:
    """A notebook's view of a result: a title and captioned tables (text escaped).

    Examples
    --------
    >>> page = html_block("KM <by sex>", [("groups", pd.DataFrame({"group": ["<b>"]}))])
    >>> page.splitlines()[0], "<td>&lt;b&gt;</td>" in page
    ('<h4>KM &lt;by sex&gt;</h4>', True)
    """
    parts = [f"<h4>{escape(title)}</h4>"]
    for caption, frame in frames:
        parts.append(f"<p><em>{escape(caption)}</em></p>"
                     + frame.to_html(index=False, escape=True, max_rows=30))
    return "\n".join(parts)


def events_by_horizon(day_table: pd.DataFrame, horizons: Iterable[int]) -> dict:
    """Outcome events on or before each horizon, per group: ``{(group, days): count}``.

    The numerator of a Kaplan–Meier rate at a horizon, for the rate rule of
    :func:`analysis.disclosure.rate_discloses`.

    Examples
    --------
    >>> table = pd.DataFrame({"group": ["a", "a"], "time": [5, 9], "n_event": [2, 1]})
    >>> events_by_horizon(table, [6, 10])
    {('a', 6): 2, ('a', 10): 3}
    """
    out = {}
    for group, part in day_table.groupby("group", sort=False):
        times, events = part["time"].to_numpy(), part["n_event"].to_numpy()
        for days in horizons:
            out[(group, int(days))] = int(events[times <= days].sum())
    return out


@dataclass(frozen=True)
class KaplanMeierAnalysis:
    """Kaplan–Meier curves of a study per group, with a log-rank test between groups.

    Attributes
    ----------
    estimate : KaplanMeierResult
        The fitted curves (``table``, ``summary``, ``at()``, ``quantiles()``).
    day_table : DataFrame
        The per-day counts from DuckDB they were fitted on.
    event_types : tuple of str
        The outcome's event types.
    grouping : Grouping
        The breakdown.
    logrank : LogRankResult or None
        Test between groups (``None`` with one group).
    outcome, selection : Outcome, Selection
        What was analysed.
    """

    estimate: KaplanMeierResult
    day_table: pd.DataFrame
    event_types: tuple[str, ...]
    grouping: Grouping
    logrank: LogRankResult | None
    outcome: Outcome
    selection: Selection

    @property
    def result(self) -> KaplanMeierResult:
        """The fitted curves (the name :func:`analysis.kaplan_meier` has always used)."""
        return self.estimate

    @property
    def by(self) -> str | None:
        """The breakdown asked for (``None``: everyone together)."""
        return self.grouping.spec

    @property
    def summary(self) -> pd.DataFrame:
        """One row per group: ``group, n, events, median, median_lower, median_upper``."""
        return self.estimate.summary

    @property
    def table(self) -> pd.DataFrame:
        """One row per group and distinct day: the curves and their CIs."""
        return self.estimate.table

    def at(self, horizons: Iterable[int]) -> pd.DataFrame:
        """Values at fixed days (see :meth:`KaplanMeierResult.at`)."""
        return self.estimate.at(horizons)

    def groups(self, policy: DisclosurePolicy, horizons: Sequence[int] = DEFAULT_HORIZONS
               ) -> list[dict]:
        """Per group, what may be shown at each horizon: the ``"groups"`` of :meth:`as_dict`.

        Counts of 1 to k-1 people, numbers that would reveal one by subtraction, and
        rates that would, are ``None``.
        """
        return self._shown(policy, horizons)[0]

    def _shown(self, policy: DisclosurePolicy, horizons: Sequence[int]
               ) -> tuple[list[dict], int]:
        """The shown groups, and how many values were hidden (for the disclosure block)."""
        at = self.estimate.at(horizons)
        k = policy.k
        by_horizon = events_by_horizon(self.day_table, horizons)
        groups, hidden = [], 0
        for row in self.estimate.summary.itertuples(index=False):
            rows = at[at["group"] == row.group].sort_values("days")
            n = int(row.n)
            hide_events, hide_risk = group_summary_hidden(
                n, {"events": int(row.events)}, [int(v) for v in rows["n_risk"]], policy)
            horizons_out = []
            for i, h in enumerate(rows.itertuples(index=False)):
                masked = h.n_risk < k or rate_discloses(
                    by_horizon.get((row.group, int(h.days)), 0), n, policy)
                shown = {name: None if masked else number_or_none(getattr(h, name))
                         for name in ("survival", "se", "lower", "upper", "recidivism")}
                horizons_out.append({"days": int(h.days), **shown,
                                     "n_risk": None if i in hide_risk else int(h.n_risk)})
                hidden += 5 * masked + (i in hide_risk)
            hidden += bool(hide_events)
            groups.append({"group": str(row.group), "n": n,
                           "events": None if hide_events else int(row.events),
                           "median_days": number_or_none(row.median),
                           "horizons": horizons_out})
        return groups, hidden

    def as_dict(self, policy: DisclosurePolicy | None = None,
                horizons: Sequence[int] = DEFAULT_HORIZONS, *, unsafe: bool = False) -> dict:
        """The ``desist km --json`` payload under ``policy`` (default k = 10).

        Parameters
        ----------
        policy : DisclosurePolicy, optional
            The minimum cell size.
        horizons : sequence of int
            Days at which to report, increasing.
        unsafe : bool
            ``k`` was allowed below the publication floor (``--unsafe-analyst-output``).

        Returns
        -------
        dict
            ``{"disclosure", "event_types", "groups", "logrank"}``.
        """
        policy = policy or DisclosurePolicy()
        groups, hidden = self._shown(policy, horizons)
        return {"disclosure": disclosure_block(policy.k, unsafe=unsafe, hidden=hidden),
                "event_types": list(self.event_types), "groups": groups,
                "logrank": self.logrank.as_dict() if self.logrank is not None else None}

    def _repr_html_(self) -> str:
        frames = [("groups", self.summary)]
        if self.logrank is not None:
            frames.append(("log-rank test", pd.DataFrame([self.logrank.as_dict()])))
        return html_block(f"Kaplan–Meier, {' / '.join(self.event_types)} by "
                          f"{self.grouping.label}", frames)


@dataclass(frozen=True)
class CumulativeIncidenceAnalysis:
    """Cumulative incidence (Aalen–Johansen) of reoffending and the competing ends.

    Attributes
    ----------
    estimate : CumulativeIncidenceResult
        The fitted curves (``table``, ``summary``, ``causes``, ``at()``).
    event_types : tuple of str
    grouping : Grouping
    outcome, selection : Outcome, Selection
    """

    estimate: CumulativeIncidenceResult
    event_types: tuple[str, ...]
    grouping: Grouping
    outcome: Outcome
    selection: Selection

    @property
    def causes(self) -> tuple[str, ...]:
        """The outcome first (``reoffence``), then the competing causes."""
        return self.estimate.causes

    @property
    def summary(self) -> pd.DataFrame:
        """One row per group and cause: ``group, cause, n, events``."""
        return self.estimate.summary

    @property
    def table(self) -> pd.DataFrame:
        """One row per group, cause and distinct day: the incidences and their CIs."""
        return self.estimate.table

    def at(self, horizons: Iterable[int]) -> pd.DataFrame:
        """Incidences at fixed days (see :meth:`CumulativeIncidenceResult.at`)."""
        return self.estimate.at(horizons)

    def groups(self, policy: DisclosurePolicy, horizons: Sequence[int] = DEFAULT_HORIZONS
               ) -> list[dict]:
        """Per group, what may be shown at each horizon: the ``"groups"`` of :meth:`as_dict`."""
        return self._shown(policy, horizons)[0]

    def _shown(self, policy: DisclosurePolicy, horizons: Sequence[int]
               ) -> tuple[list[dict], int]:
        """The shown groups, and how many values were hidden (for the disclosure block)."""
        at = self.estimate.at(horizons)
        table = self.estimate.table
        k = policy.k
        groups, hidden = [], 0
        for group, summ in self.estimate.summary.groupby("group", sort=False):
            rows = at[at["group"] == group]
            n = int(summ["n"].iloc[0])
            counts = {r.cause: int(r.events) for r in summ.itertuples(index=False)}
            risk = [int(rows.loc[rows["days"] == d, "n_risk"].iloc[0]) for d in horizons]
            hide_events, hide_risk = group_summary_hidden(n, counts, risk, policy)
            mine = table[table["group"] == group]
            horizons_out = []
            for i, d in enumerate(horizons):
                cif = {}
                for r in rows[rows["days"] == d].itertuples(index=False):
                    by_then = int(mine.loc[(mine["cause"] == r.cause) & (mine["time"] <= d),
                                           "n_event"].sum())
                    masked = risk[i] < k or rate_discloses(by_then, n, policy)
                    hidden += 4 * masked
                    cif[r.cause] = {name: None if masked else number_or_none(getattr(r, col))
                                    for name, col in (("estimate", "cif"), ("se", "se"),
                                                      ("lower", "lower"), ("upper", "upper"))}
                horizons_out.append({"days": d, "n_risk": None if i in hide_risk else risk[i],
                                     "cif": cif})
                hidden += i in hide_risk
            hidden += len(hide_events)
            groups.append({"group": str(group), "n": n,
                           "events": {c: None if c in hide_events else v
                                      for c, v in counts.items()},
                           "horizons": horizons_out})
        return groups, hidden

    def as_dict(self, policy: DisclosurePolicy | None = None,
                horizons: Sequence[int] = DEFAULT_HORIZONS, *, unsafe: bool = False) -> dict:
        """The ``desist cif --json`` payload under ``policy`` (default k = 10).

        Parameters
        ----------
        policy : DisclosurePolicy, optional
        horizons : sequence of int
        unsafe : bool
            As for :meth:`KaplanMeierAnalysis.as_dict`.

        Returns
        -------
        dict
            ``{"disclosure", "event_types", "causes", "groups"}``.
        """
        policy = policy or DisclosurePolicy()
        groups, hidden = self._shown(policy, horizons)
        return {"disclosure": disclosure_block(policy.k, unsafe=unsafe, hidden=hidden),
                "event_types": list(self.event_types), "causes": list(self.causes),
                "groups": groups}

    def _repr_html_(self) -> str:
        return html_block(f"Cumulative incidence, {' / '.join(self.event_types)} by "
                          f"{self.grouping.label}", [("groups and causes", self.summary)])
