"""What a :class:`~analysis.study.Study` returns for a Cox model.

As in :mod:`analysis.results`: a frozen object with tidy ``summary``/``table`` frames,
``as_dict(policy)`` giving the ``desist cox --json`` contract (disclosure block
included) and ``_repr_html_`` for notebooks. Programme impact is in
:mod:`analysis.results_impact`.

Examples
--------
>>> import analysis as ds, tempfile, pathlib
>>> from analysis.demo.build import build_demo
>>> db = pathlib.Path(tempfile.mkdtemp()) / "demo.duckdb"
>>> _ = build_demo(db, releases=1000)
>>> with ds.open_study(db) as study:
...     cox = study.cox(["age_at_release", "sex"])
>>> cox.as_dict(ds.DisclosurePolicy(k=10))["se_type"]
'robust'
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from analysis.disclosure import DisclosurePolicy, disclosure_block, model_counts
from analysis.results import html_block
from analysis.survival.cox import CoxModel
from analysis.survival.cox_study import StudyCox
from analysis.survival.episodes import Outcome, Selection


@dataclass(frozen=True)
class CoxAnalysis:
    """A Cox model of a study (time to the outcome after release), with its PH test.

    Attributes
    ----------
    fit : StudyCox
        The fitted model and the counts behind it.
    selection : Selection
        The releases it was fitted on.
    """

    fit: StudyCox
    selection: Selection

    @property
    def model(self) -> CoxModel:
        """The fitted :class:`~analysis.survival.cox.CoxModel`."""
        return self.fit.model

    @property
    def summary(self) -> pd.DataFrame:
        """One row per term: ``hr``, its CI, ``p``, ``se`` (the ``se_type`` one),
        ``se_model`` and ``se_robust``."""
        return self.fit.model.summary

    @property
    def ph_test(self) -> pd.DataFrame:
        """The proportional-hazards test per term (Schoenfeld residuals)."""
        return self.fit.ph_test

    @property
    def table(self) -> pd.DataFrame:
        """The proportional-hazards test per term (:attr:`ph_test`)."""
        return self.fit.ph_test

    @property
    def outcome(self) -> Outcome:
        return self.fit.outcome

    @property
    def se_type(self) -> str:
        """``"robust"`` or ``"model"``: the standard error behind the CIs and p-values."""
        return self.fit.se_type

    @property
    def n_releases(self) -> int:
        return self.fit.n_releases

    @property
    def n_missing(self) -> int:
        """Releases left out for missing covariate values."""
        return self.fit.n_missing

    @property
    def dropped_zero_time(self) -> int:
        """Releases left out with zero days of follow-up."""
        return self.fit.dropped_zero_time

    @property
    def time_varying_programs(self) -> tuple[str, ...]:
        return self.fit.time_varying_programs

    @property
    def baseline_programs(self) -> tuple[str, ...]:
        return self.fit.baseline_programs

    def counts(self, policy: DisclosurePolicy) -> dict:
        """``n``, ``events``, ``n_missing``, ``dropped_zero_time`` as they may be shown
        (``None`` where hidden; see :func:`analysis.disclosure.model_counts`)."""
        return model_counts(self.fit.n_releases, self.fit.model.events, policy,
                            {"n_missing": self.fit.n_missing,
                             "dropped_zero_time": self.fit.dropped_zero_time})

    def as_dict(self, policy: DisclosurePolicy | None = None, *, unsafe: bool = False
                ) -> dict:
        """The ``desist cox --json`` payload under ``policy`` (default k = 10).

        Parameters
        ----------
        policy : DisclosurePolicy, optional
            The minimum cell size; coefficients describe no one, the counts follow it.
        unsafe : bool
            ``k`` was allowed below the publication floor (``--unsafe-analyst-output``).

        Returns
        -------
        dict
            ``{"disclosure", "n", "events", "ties", "loglik", "se_type",
            "se_robust_cluster", "terms", "ph_test"}``.
        """
        policy = policy or DisclosurePolicy()
        counts = self.counts(policy)
        hidden = sum(v is None for v in counts.values())
        return {"disclosure": disclosure_block(policy.k, unsafe=unsafe, hidden=hidden),
                **self.fit.as_dict(), "n": counts["n"], "events": counts["events"]}

    def _repr_html_(self) -> str:
        return html_block(f"Cox model of time to {self.fit.outcome.name} "
                          f"(se: {self.se_type})",
                          [("terms", self.summary), ("proportional hazards", self.ph_test)])
