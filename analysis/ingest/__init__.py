"""Reading, validating, pseudonymizing and importing datasets in the data-contract format."""

from analysis.ingest.importer import ImportReport, TableCounts, import_dataset
from analysis.ingest.problems import PROBLEM_KINDS, Problem, ValidationReport
from analysis.ingest.validate import validate_dataset

__all__ = [
    "PROBLEM_KINDS",
    "ImportReport",
    "Problem",
    "TableCounts",
    "ValidationReport",
    "import_dataset",
    "validate_dataset",
]
