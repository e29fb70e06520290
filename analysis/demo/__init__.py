"""Synthetic demo data with known programme effects.

The demo country is fictional. :class:`DemoGenerator` writes a dataset folder in the
data-contract format plus ``truth.json``; :func:`build_demo` also imports it into a
study database through the normal importer.
"""

from analysis.demo.generator import DEFAULT_RELEASES, DEFAULT_SEED, DemoGenerator, DemoSummary
from analysis.demo.model import DemoModel, Facility, Program
from analysis.demo.truth import load_truth, program_effects

__all__ = [
    "DEFAULT_RELEASES",
    "DEFAULT_SEED",
    "DemoGenerator",
    "DemoModel",
    "DemoSummary",
    "Facility",
    "Program",
    "load_truth",
    "program_effects",
]
