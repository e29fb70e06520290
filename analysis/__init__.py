"""Desistance analysis library: the one API the CLI, the dashboard and notebooks share.

This package never imports streamlit. The names below are the curated public API
(see ``docs/api.md``); they are loaded on first use so that ``import analysis``
and the ``desist`` command start quickly.

Examples
--------
>>> import analysis as ds
>>> "kaplan_meier" in ds.__all__ and "Study" in ds.__all__
True

Start from a study (``ds.open_study(db)``), whose methods return result objects:

>>> import tempfile, pathlib
>>> db = pathlib.Path(tempfile.mkdtemp()) / "demo.duckdb"
>>> _ = ds.build_demo(db, releases=1000)
>>> with ds.open_study(db, outcome="rearrest") as study:
...     km = study.kaplan_meier(by="sex")
>>> km.summary["group"].tolist()
['F', 'M']
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: The distribution whose metadata holds the version (``[project] version`` in
#: pyproject.toml, the one place it is written).
_DISTRIBUTION = "desistance"

__version__: str  # no value here: read on first use by __getattr__ (_read_version)

#: Public name -> "module:attribute".
_API: dict[str, str] = {
    # Opening a study and choosing what to analyse
    "open_study": "analysis.study:open_study",
    "Study": "analysis.study:Study",
    "Outcome": "analysis.survival.episodes:Outcome",
    "Selection": "analysis.survival.episodes:Selection",
    "build_episodes": "analysis.survival.episodes:build_episodes",
    "available_covariates": "analysis.survival.cox_study:available_covariates",
    # Curves and tests
    "kaplan_meier": "analysis.api:kaplan_meier",
    "KaplanMeier": "analysis.survival.kaplan_meier:KaplanMeier",
    "fixed_horizon_rates": "analysis.api:fixed_horizon_rates",
    "logrank_test": "analysis.survival.logrank:logrank_test",
    "cumulative_incidence": "analysis.api:cumulative_incidence",
    "CumulativeIncidence": "analysis.survival.competing_risks:CumulativeIncidence",
    "restricted_mean": "analysis.survival.restricted_mean:restricted_mean",
    # Cox models
    "CoxModel": "analysis.survival.cox:CoxModel",
    "fit_cox": "analysis.api:fit_cox",
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
    "ModelNotConvergedError": "analysis.errors:ModelNotConvergedError",
    "DesistError": "analysis.errors:DesistError",
}

__all__ = sorted(_API)


def _read_version() -> str:
    """The version of the installed distribution, else of this source tree's pyproject.toml.

    A source tree run without being installed (``PYTHONPATH=. python ...``) has no
    metadata, but its pyproject.toml holds the same single definition; without
    either, the version is ``0+unknown`` (PEP 440: "0, local build").
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(_DISTRIBUTION)
    except PackageNotFoundError:
        pass
    import tomllib
    from pathlib import Path

    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    try:
        project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "0+unknown"
    return project["version"] if project.get("name") == _DISTRIBUTION else "0+unknown"


def __getattr__(name: str) -> Any:
    if name == "__version__":  # read on first use: the metadata machinery is slow to import
        globals()["__version__"] = _read_version()
        return globals()["__version__"]
    target = _API.get(name)
    if target is None:
        raise AttributeError(f"module 'analysis' has no attribute {name!r}")
    module, attribute = target.split(":")
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | {"__version__"})


if TYPE_CHECKING:  # pragma: no cover - for editors and type checkers only
    from analysis.api import (  # noqa: F401
        cumulative_incidence,
        fit_cox,
        fixed_horizon_rates,
        kaplan_meier,
    )
    from analysis.charts import balance_plot, forest_plot, overlap_plot, step_curves  # noqa: F401
    from analysis.demo.build import build_demo  # noqa: F401
    from analysis.disclosure import DisclosurePolicy  # noqa: F401
    from analysis.errors import AnalysisError, DesistError  # noqa: F401
    from analysis.impact.evaluation import ImpactEvaluation  # noqa: F401
    from analysis.impact.power import minimum_detectable_effect, required_participants  # noqa: F401
    from analysis.impact.report import build_report_html as impact_report_html  # noqa: F401
    from analysis.ingest import import_dataset, validate_dataset  # noqa: F401
    from analysis.study import Study, open_study  # noqa: F401
    from analysis.survival.competing_risks import CumulativeIncidence  # noqa: F401
    from analysis.survival.cox import CoxModel  # noqa: F401
    from analysis.survival.cox_study import available_covariates  # noqa: F401
    from analysis.survival.episodes import Outcome, Selection, build_episodes  # noqa: F401
    from analysis.survival.exposures import add_exposures  # noqa: F401
    from analysis.survival.kaplan_meier import KaplanMeier  # noqa: F401
    from analysis.survival.logrank import logrank_test  # noqa: F401
    from analysis.survival.restricted_mean import restricted_mean  # noqa: F401
