"""What a :class:`~analysis.study.Study` returns for a programme's impact evaluation.

As in :mod:`analysis.results`: a frozen object with tidy ``summary``/``table`` frames,
``as_dict(policy)`` giving the ``desist impact --json`` contract (disclosure block
included), the HTML report, and ``_repr_html_`` for notebooks. The disclosure rules of
an evaluation are those of :mod:`analysis.impact.publication`.

Examples
--------
>>> import analysis as ds, tempfile, pathlib
>>> db = pathlib.Path(tempfile.mkdtemp()) / "demo.duckdb"
>>> _ = ds.build_demo(db, releases=4000, seed=3)
>>> with ds.open_study(db, outcome="rearrest") as study:
...     impact = study.impact("VOC-METAL")
>>> payload = impact.as_dict(ds.DisclosurePolicy(k=10))
>>> payload["disclosure"]["min_cell"], payload["sub_analysis"]["completed_only"]
(10, False)
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from analysis.disclosure import DisclosurePolicy, disclosure_block
from analysis.impact.evaluation import ImpactResult
from analysis.impact.publication import (
    estimates_table,
    for_publication,
    hidden_counts,
    published_dict,
)
from analysis.survival.episodes import Selection


@dataclass(frozen=True)
class ImpactAnalysis:
    """A programme's matched (or weighted) impact evaluation on a study.

    Attributes
    ----------
    result : ImpactResult
        The evaluation before disclosure control (the analyst's own screen).
    selection : Selection
        The sub-analysis' releases (sexes, age bands...).
    variant : str
        ``"any"`` participation, or ``"completed"`` (completers only).
    """

    result: ImpactResult
    selection: Selection
    variant: str = "any"

    @property
    def summary(self) -> pd.DataFrame:
        """The estimates: difference in rates, hazard ratio, RMST difference."""
        return estimates_table(self.result)

    @property
    def table(self) -> pd.DataFrame:
        """The attrition table: participants and comparison at each step."""
        return self.result.attrition

    @property
    def sub_analysis(self) -> dict:
        """Which sub-analysis this is: ``{"sex": [...], "age_band": [...],
        "completed_only": bool}`` (empty lists: everyone)."""
        return {"sex": list(self.selection.sexes), "age_band": list(self.selection.age_bands),
                "completed_only": self.variant == "completed"}

    def published(self, policy: DisclosurePolicy, *, unsafe: bool = False) -> ImpactResult:
        """The result as it may leave the analyst's desk (tables, curves and the counts its
        words name respect ``policy``; see
        :func:`analysis.impact.publication.for_publication`). Its words come in any
        language: ``headline(language)``, ``reasons(language)``, ``note_texts(language)``.
        """
        return for_publication(self.result, policy, unsafe=unsafe)

    def hidden(self, policy: DisclosurePolicy) -> frozenset:
        """The attrition cells ``(group, step)`` hidden under ``policy``."""
        return frozenset(hidden_counts(self.result, policy))

    def as_dict(self, policy: DisclosurePolicy | None = None, *, unsafe: bool = False
                ) -> dict:
        """The ``desist impact --json`` payload under ``policy`` (default k = 10).

        Parameters
        ----------
        policy : DisclosurePolicy, optional
            The minimum cell size.
        unsafe : bool
            ``k`` was allowed below the publication floor (``--unsafe-analyst-output``).

        Returns
        -------
        dict
            ``{"disclosure", ...the evaluation..., "sub_analysis"}``.
        """
        policy = policy or DisclosurePolicy()
        payload, withheld = published_dict(self.result, policy, unsafe=unsafe)
        return {"disclosure": disclosure_block(policy.k, unsafe=unsafe, hidden=withheld),
                **payload, "sub_analysis": self.sub_analysis}

    def report_html(self, policy: DisclosurePolicy | None = None, language: str = "en"
                    ) -> str:
        """The offline, printable HTML report (:func:`analysis.impact.report.build_report_html`).

        Parameters
        ----------
        policy : DisclosurePolicy, optional
            The minimum cell size (default k = 10; never below the publication floor).
        language : str
            One of :data:`analysis.i18n.LANGUAGES`.

        Returns
        -------
        str
            The whole HTML document.
        """
        # plotly (the report's charts): imported only when a report is made
        from analysis.impact.report import build_report_html

        return build_report_html(self.result, policy=policy or DisclosurePolicy(),
                                 language=language)

    def _repr_html_(self) -> str:
        return self.result._repr_html_()
