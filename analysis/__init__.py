"""Desistance analysis library: the one API the CLI, the dashboard and notebooks share.

This package never imports streamlit. The names below are the curated public API
(see ``docs/api.md``); they are loaded on first use so that ``import analysis``
and the ``desist`` command start quickly.

Examples
--------
>>> import analysis as ds
>>> "kaplan_meier" in ds.__all__ and "ImpactEvaluation" in ds.__all__
True
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name -> "module:attribute".
_API: dict[str, str] = {
    # Opening a study and choosing what to analyse
    "open_study": "analysis.api:open_study",
    "Outcome": "analysis.survival.episodes:Outcome",
    "Selection": "analysis.survival.episodes:Selection",
    "build_episodes": "analysis.survival.episodes:build_episodes",
    "available_covariates": "analysis.survival.cox_study:available_covariates",
    # Curves and tests
    "kaplan_meier": "analysis.survival.kaplan_meier:kaplan_meier_from_db",
    "KaplanMeier": "analysis.survival.kaplan_meier:KaplanMeier",
    "fixed_horizon_rates": "analysis.api:fixed_horizon_rates",
    "logrank_test": "analysis.survival.logrank:logrank_test",
    "cumulative_incidence": "analysis.survival.competing_risks:cumulative_incidence_from_db",
    "CumulativeIncidence": "analysis.survival.competing_risks:CumulativeIncidence",
    "restricted_mean": "analysis.survival.restricted_mean:restricted_mean",
    # Cox models
    "CoxModel": "analysis.survival.cox:CoxModel",
    "fit_cox": "analysis.survival.cox_study:fit_study_cox",
    "add_exposures": "analysis.survival.exposures:add_exposures",
    # Programme impact
    "ImpactEvaluation": "analysis.impact.evaluation:ImpactEvaluation",
    "impact_report_html": "analysis.impact.report:build_report_html",
    "minimum_detectable_effect": "analysis.impact.power:minimum_detectable_effect",
    "required_participants": "analysis.impact.power:required_participants",
    # Charts (plotly figures)
    "step_curves": "analysis.charts:step_curves",
    "forest_plot": "analysis.charts:forest_plot",
    "balance_plot": "analysis.charts:balance_plot",
    "overlap_plot": "analysis.charts:overlap_plot",
    # Data in and out
    "validate_dataset": "analysis.ingest:validate_dataset",
    "import_dataset": "analysis.ingest:import_dataset",
    "build_demo": "analysis.demo.build:build_demo",
    "DisclosurePolicy": "analysis.disclosure:DisclosurePolicy",
    "AnalysisError": "analysis.errors:AnalysisError",
    "DesistError": "analysis.errors:DesistError",
}

__all__ = sorted(_API)


def __getattr__(name: str) -> Any:
    target = _API.get(name)
    if target is None:
        raise AttributeError(f"module 'analysis' has no attribute {name!r}")
    module, attribute = target.split(":")
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # pragma: no cover - for editors and type checkers only
    from analysis.api import fixed_horizon_rates, open_study  # noqa: F401
    from analysis.charts import balance_plot, forest_plot, overlap_plot, step_curves  # noqa: F401
    from analysis.demo.build import build_demo  # noqa: F401
    from analysis.disclosure import DisclosurePolicy  # noqa: F401
    from analysis.errors import AnalysisError, DesistError  # noqa: F401
    from analysis.impact.evaluation import ImpactEvaluation  # noqa: F401
    from analysis.impact.power import minimum_detectable_effect, required_participants  # noqa: F401
    from analysis.impact.report import build_report_html as impact_report_html  # noqa: F401
    from analysis.ingest import import_dataset, validate_dataset  # noqa: F401
    from analysis.survival.competing_risks import CumulativeIncidence  # noqa: F401
    from analysis.survival.competing_risks import (  # noqa: F401
        cumulative_incidence_from_db as cumulative_incidence,
    )
    from analysis.survival.cox import CoxModel  # noqa: F401
    from analysis.survival.cox_study import available_covariates  # noqa: F401
    from analysis.survival.cox_study import fit_study_cox as fit_cox  # noqa: F401
    from analysis.survival.episodes import Outcome, Selection, build_episodes  # noqa: F401
    from analysis.survival.exposures import add_exposures  # noqa: F401
    from analysis.survival.kaplan_meier import KaplanMeier  # noqa: F401
    from analysis.survival.kaplan_meier import kaplan_meier_from_db as kaplan_meier  # noqa: F401
    from analysis.survival.logrank import logrank_test  # noqa: F401
    from analysis.survival.restricted_mean import restricted_mean  # noqa: F401
