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
