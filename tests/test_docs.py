"""The documentation stays true to the code."""

import datetime as dt
import re
from pathlib import Path

from analysis.contract import TABLES
from analysis.ingest import validate_dataset
from analysis.ingest.problems import PROBLEM_KINDS

ROOT = Path(__file__).resolve().parents[1]
CONTRACT_DOC = (ROOT / "docs" / "data-contract.md").read_text(encoding="utf-8")


def test_contract_doc_names_every_column_and_code():
    for table in TABLES.values():
        assert f"### `{table.name}`" in CONTRACT_DOC
        for column in table.columns:
            assert f"`{column.name}`" in CONTRACT_DOC, column.name
            for code in column.codes or ():
                assert code in CONTRACT_DOC, code


def test_contract_doc_lists_every_problem_kind():
    for kind in PROBLEM_KINDS:
        assert f"`{kind}`" in CONTRACT_DOC, kind


def test_worked_example_in_contract_doc_is_valid(tmp_path):
    blocks = re.findall(r"`(\w+)\.csv`\n\n```\n(.*?)```", CONTRACT_DOC, flags=re.S)
    assert {name for name, _ in blocks} == set(TABLES)
    for name, body in blocks:
        (tmp_path / f"{name}.csv").write_text(body, encoding="utf-8")
    report = validate_dataset(tmp_path, today=dt.date(2025, 1, 1))
    assert report.ok, report.summary_lines()


def test_readme_shows_the_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme and "make test" in readme


ARCHITECTURE = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")


def test_architecture_names_only_files_that_exist():
    paths = set(re.findall(r"`((?:analysis|dashboard|tests|benchmarks|notebooks)/[\w/.]*)`",
                           ARCHITECTURE))
    assert len(paths) > 20
    missing = sorted(p for p in paths if "<" not in p and not (ROOT / p).exists())
    assert not missing, missing


def test_architecture_lists_every_layer_contract():
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    ids = {contract["id"] for contract in config["tool"]["importlinter"]["contracts"]}
    listed = set(re.findall(r"^\| `([\w-]+)` \|", ARCHITECTURE, flags=re.M))
    assert ids <= listed, ids - listed


def test_architecture_follows_functions_that_exist():
    """The functions the two walk-throughs name are where the document says they are."""
    where = {
        "dashboard/sidebar.py": ["sidebar_filters"],
        "dashboard/cache.py": ["run_view"],
        "analysis/views/stored.py": ["def compute", "def view_key"],
        "analysis/views/curves.py": ["def recidivism_curves", "def curves_figure"],
        "analysis/views/estimates.py": ["def view_study"],
        "analysis/survival/grouping.py": ["def day_counts_by"],
        "analysis/survival/episodes/cache.py": ["def day_counts"],
        "analysis/survival/episodes/sql.py": ["def episodes_query"],
        "analysis/survival/kaplan_meier.py": ["def fit_day_table"],
        "analysis/cli/survival_commands.py": ["def km_command", "def _print_km",
                                              "study.kaplan_meier(", "fixed_horizon_rates("],
        "analysis/results.py": ["class KaplanMeierAnalysis"],
        "dashboard/widgets.py": ["def show_table", "def note_markdown"],
    }
    for path, names in where.items():
        text = (ROOT / path).read_text(encoding="utf-8")
        assert path in ARCHITECTURE, path
        for name in names:
            assert name in text, (path, name)
